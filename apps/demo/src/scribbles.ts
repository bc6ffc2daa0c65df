import type { LabelMap } from '@seg/tensor';

/** One brush stroke: its label (1 object, 0 background), width and points in image pixels. */
export interface Stroke {
  label: 0 | 1;
  radius: number;
  points: Array<[number, number]>;
}

/**
 * Rasterises strokes into a seed map (-1 unlabelled): every pixel within
 * `radius` of a stroke's polyline gets its label; later strokes win.
 */
export function rasterizeStrokes(
  width: number,
  height: number,
  strokes: readonly Stroke[],
): LabelMap {
  const data = new Int32Array(width * height).fill(-1);
  for (const s of strokes) {
    const r = Math.max(0.5, s.radius);
    const pts = s.points.length === 1 ? [s.points[0]!, s.points[0]!] : s.points;
    for (let i = 0; i + 1 < pts.length; i++) {
      const [x0, y0] = pts[i]!;
      const [x1, y1] = pts[i + 1]!;
      const minX = Math.max(0, Math.floor(Math.min(x0, x1) - r));
      const maxX = Math.min(width - 1, Math.ceil(Math.max(x0, x1) + r));
      const minY = Math.max(0, Math.floor(Math.min(y0, y1) - r));
      const maxY = Math.min(height - 1, Math.ceil(Math.max(y0, y1) + r));
      const dx = x1 - x0;
      const dy = y1 - y0;
      const len2 = dx * dx + dy * dy;
      for (let y = minY; y <= maxY; y++) {
        for (let x = minX; x <= maxX; x++) {
          const t =
            len2 === 0 ? 0 : Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / len2));
          const ex = x0 + t * dx - x;
          const ey = y0 + t * dy - y;
          if (ex * ex + ey * ey <= r * r) data[y * width + x] = s.label;
        }
      }
    }
  }
  return { width, height, data };
}

/** A seed map from a GrabCut scribble image's gray codes (1 object, 2 background). */
export function seedsFromCodes(width: number, height: number, gray: Uint8Array): LabelMap {
  const data = new Int32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = gray[i] === 1 ? 1 : gray[i] === 2 ? 0 : -1;
  return { width, height, data };
}

/** Counts the seeds of each label. */
export function countSeeds(seeds: LabelMap): { object: number; background: number } {
  let object = 0;
  let background = 0;
  for (const v of seeds.data) {
    if (v === 1) object++;
    else if (v === 0) background++;
  }
  return { object, background };
}
