import type { LabelMap } from '@seg/tensor';

/** Labels the palette offers (0 background, 1 object, 2 … 7 more labels). */
export const MAX_LABELS = 8;

/** The eraser's "label": pixels it covers become unlabelled again. */
export const ERASE = -1;

/**
 * One brush stroke: its label (0 background, 1 object, 2 … 7 further labels,
 * {@link ERASE} for the eraser), radius and points, in image pixels.
 */
export interface Stroke {
  kind?: 'brush';
  label: number;
  radius: number;
  points: Array<[number, number]>;
}

/** A whole seed map laid over the strokes so far (e.g. a data set's scribbles); -1 leaves a pixel as it was. */
export interface SeedLayer {
  kind: 'seeds';
  data: Int32Array;
}

/** What the stroke history holds, applied in order. */
export type Mark = Stroke | SeedLayer;

/** The pixel box a paint touched: [x0, y0, x1, y1], inclusive. */
export type Box = [number, number, number, number];

/**
 * Paints the segment p0–p1 of a brush of radius r into `data` (row-major,
 * `width`×`height`): every pixel centre within r of the segment takes
 * `label` ({@link ERASE} writes -1). Returns the box it covered, or null
 * when that lies outside the image.
 */
export function paintSegment(
  data: Int32Array,
  width: number,
  height: number,
  label: number,
  radius: number,
  p0: readonly [number, number],
  p1: readonly [number, number],
): Box | null {
  const r = Math.max(0.5, radius);
  const [x0, y0] = p0;
  const [x1, y1] = p1;
  const minX = Math.max(0, Math.floor(Math.min(x0, x1) - r));
  const maxX = Math.min(width - 1, Math.ceil(Math.max(x0, x1) + r));
  const minY = Math.max(0, Math.floor(Math.min(y0, y1) - r));
  const maxY = Math.min(height - 1, Math.ceil(Math.max(y0, y1) + r));
  if (minX > maxX || minY > maxY) return null;
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len2 = dx * dx + dy * dy;
  const value = label === ERASE ? -1 : label;
  for (let y = minY; y <= maxY; y++) {
    for (let x = minX; x <= maxX; x++) {
      const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / len2));
      const ex = x0 + t * dx - x;
      const ey = y0 + t * dy - y;
      if (ex * ex + ey * ey <= r * r) data[y * width + x] = value;
    }
  }
  return [minX, minY, maxX, maxY];
}

/** Applies one mark to a seed map in place; returns the box it changed (null: nothing). */
export function applyMark(data: Int32Array, width: number, height: number, m: Mark): Box | null {
  if (m.kind === 'seeds') {
    for (let i = 0; i < data.length; i++) if (m.data[i]! >= 0) data[i] = m.data[i]!;
    return [0, 0, width - 1, height - 1];
  }
  const pts = m.points.length === 1 ? [m.points[0]!, m.points[0]!] : m.points;
  let box: Box | null = null;
  for (let i = 0; i + 1 < pts.length; i++) {
    box = unionBox(box, paintSegment(data, width, height, m.label, m.radius, pts[i]!, pts[i + 1]!));
  }
  return box;
}

/** The smallest box holding both (null is empty). */
export function unionBox(a: Box | null, b: Box | null): Box | null {
  if (!a) return b;
  if (!b) return a;
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])];
}

/**
 * Rasterises marks into a seed map (-1 unlabelled): every pixel within a
 * stroke's radius of its polyline gets its label; later marks win; the
 * eraser unlabels.
 */
export function rasterizeStrokes(width: number, height: number, marks: readonly Mark[]): LabelMap {
  const data = new Int32Array(width * height).fill(-1);
  for (const m of marks) applyMark(data, width, height, m);
  return { width, height, data };
}

/** A seed map from a GrabCut scribble image's gray codes (1 object, 2 background). */
export function seedsFromCodes(width: number, height: number, gray: Uint8Array): LabelMap {
  const data = new Int32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = gray[i] === 1 ? 1 : gray[i] === 2 ? 0 : -1;
  return { width, height, data };
}

/** Counts the seeds of each label: `counts[k]` pixels carry label k. */
export function countSeeds(seeds: LabelMap, numLabels = MAX_LABELS): number[] {
  const counts = new Array<number>(numLabels).fill(0);
  for (const v of seeds.data) if (v >= 0 && v < numLabels) counts[v]!++;
  return counts;
}

/**
 * The labels in use, compacted for a run: `used` lists the palette labels
 * that have seeds (ascending), `seeds` carries each as its index in `used`
 * (so 0 and 1 stay background and object when both are drawn). A run with
 * K = used.length labels; its result maps back through `used`.
 */
export function compactLabels(seeds: LabelMap): { used: number[]; seeds: LabelMap } {
  const counts = countSeeds(seeds);
  const used = counts.flatMap((c, k) => (c > 0 ? [k] : []));
  const index = new Int32Array(MAX_LABELS).fill(-1);
  used.forEach((k, i) => {
    index[k] = i;
  });
  const data = new Int32Array(seeds.data.length);
  for (let i = 0; i < data.length; i++) {
    const v = seeds.data[i]!;
    data[i] = v >= 0 && v < MAX_LABELS ? index[v]! : -1;
  }
  return { used, seeds: { width: seeds.width, height: seeds.height, data } };
}

/**
 * An undo / redo history of mark lists. Every change stores the new list
 * (lists share their marks, so a step costs one array).
 */
export class MarkHistory {
  private past: Mark[][] = [];
  private future: Mark[][] = [];
  private now: Mark[] = [];

  /** The marks in force. */
  get marks(): readonly Mark[] {
    return this.now;
  }

  /** Adds a mark (drops the redo branch). */
  push(m: Mark): void {
    this.commit([...this.now, m]);
  }

  /** Removes every mark, as one undoable step (nothing when already empty). */
  clear(): void {
    if (this.now.length > 0) this.commit([]);
  }

  /** Forgets everything, undo included (a new image). */
  reset(): void {
    this.past = [];
    this.future = [];
    this.now = [];
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  undo(): boolean {
    const prev = this.past.pop();
    if (!prev) return false;
    this.future.push(this.now);
    this.now = prev;
    return true;
  }

  redo(): boolean {
    const next = this.future.pop();
    if (!next) return false;
    this.past.push(this.now);
    this.now = next;
    return true;
  }

  private commit(next: Mark[]): void {
    this.past.push(this.now);
    this.future = [];
    this.now = next;
  }
}
