/**
 * The colour histograms of the scribbles (Boykov & Jolly, ICCV 2001): a leaf
 * shared by the interactive graph cut and the network input.
 */
import type { LabelMap, RgbImage } from '@seg/tensor';

/** Bins per colour channel of {@link histogramCosts} (and so of `colorCosts`). */
export const HIST_BINS = 16;

/**
 * `−log P(colour | k)` from a 16³-bin histogram of label k's seed pixels
 * (every bin started at 1), N·K site-major; seeds outside [0, K) are
 * ignored. `colourCosts` (graphcut/interactive.ts) without input checks;
 * also the colour-model channels of `networkInput`.
 */
export function histogramCosts(image: RgbImage, seeds: LabelMap, K: number): Float32Array {
  const B = HIST_BINS;
  const hist = Array.from({ length: K }, () => new Float64Array(B * B * B).fill(1));
  const { data } = image;
  const N = image.width * image.height;
  const bins = new Int32Array(N);
  for (let p = 0; p < N; p++) {
    const b = ((data[3 * p]! >> 4) * B + (data[3 * p + 1]! >> 4)) * B + (data[3 * p + 2]! >> 4);
    bins[p] = b;
    const s = seeds.data[p]!;
    if (s >= 0 && s < K) hist[s]![b]!++;
  }
  const logTot = hist.map((h) => Math.log(h.reduce((a, b) => a + b, 0)));
  const out = new Float32Array(K * N);
  for (let p = 0; p < N; p++) {
    const b = bins[p]!;
    for (let k = 0; k < K; k++) out[K * p + k] = logTot[k]! - Math.log(hist[k]![b]!);
  }
  return out;
}
