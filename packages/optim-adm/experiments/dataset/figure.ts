// The figure of the data-set experiment: per test image one row — the image,
// the truth, then each method's prediction (object white, background the
// image darkened), every panel scaled to one height by nearest neighbour.
import type { RgbImage } from '@seg/tensor';
import { writeImage } from '@seg/tensor/node';
import type { DatasetExample } from '../../src/index.js';

const GAP = 4;

/** Writes the rows of `examples` with `predictions[method][name]` (0/1 per pixel, full size) to `path` (PNG). */
export function writePredictionFigure(
  path: string,
  examples: DatasetExample[],
  predictions: Record<string, Record<string, Uint8Array>>,
  height = 100,
): void {
  const methods = Object.keys(predictions);
  const panel = (ex: DatasetExample) => Math.round((ex.image.width * height) / ex.image.height);
  const width = Math.max(...examples.map((ex) => (panel(ex) + GAP) * (2 + methods.length)));
  const H = examples.length * (height + GAP);
  const out = new Uint8Array(width * H * 3).fill(255);
  examples.forEach((ex, row) => {
    const pw = panel(ex);
    const truth = Uint8Array.from(ex.mask?.data ?? [], (v) => (v >= 128 ? 1 : 0));
    const layers: (Uint8Array | null)[] = [
      null,
      truth,
      ...methods.map((m) => predictions[m]![ex.name] ?? null),
    ];
    layers.forEach((labels, col) => {
      const x0 = col * (pw + GAP);
      const y0 = row * (height + GAP);
      for (let y = 0; y < height; y++) {
        const sy = Math.min(ex.image.height - 1, Math.floor((y * ex.image.height) / height));
        for (let x = 0; x < pw; x++) {
          const sx = Math.min(ex.image.width - 1, Math.floor((x * ex.image.width) / pw));
          const p = sy * ex.image.width + sx;
          const o = ((y0 + y) * width + x0 + x) * 3;
          for (let c = 0; c < 3; c++) {
            const v = ex.image.data[3 * p + c]!;
            out[o + c] = labels === null ? v : labels[p] ? 255 : Math.round(v * 0.3);
          }
        }
      }
    });
  });
  const img: RgbImage = { width, height: H, data: out };
  writeImage(path, img);
}
