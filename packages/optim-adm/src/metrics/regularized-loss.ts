/**
 * The regularized loss of a result (Tang et al. 2018; Marin et al. 2019):
 * partial cross-entropy on the seeds plus λ times the discrete Potts energy
 * of the argmax, per pixel — the quantity GD and ADM both try to lower.
 */
import { type GridWeights, gridWeights, pottsEnergy } from '@seg/losses';
import {
  assertNumber,
  type LabelMap,
  type ProbMap,
  type RgbImage,
  SegShapeError,
} from '@seg/tensor';
import {
  checkConnectivity,
  checkImage,
  checkOptions,
  checkProbs,
  checkSeeds,
} from '../validate.js';

/** Options of {@link regularizedLoss}. */
export interface RegularizedLossOptions {
  /** Weight of the per-pixel Potts energy. @default 1 */
  lambda?: number;
  /** Neighbourhood of the Potts term. @default 8 */
  connectivity?: 4 | 8;
  /** Precomputed contrast-sensitive weights of `image` (else computed from it). */
  weights?: GridWeights;
}

/** The terms of {@link regularizedLoss}. */
export interface RegularizedLoss {
  /** `partialCE + lambda * potts / N`. */
  total: number;
  /** `−(1/|Ω_L|) Σ_{p∈Ω_L} log S_p[y_p]` (0 without seeds). */
  partialCE: number;
  /** `Σ_{pq} w_pq [argmax S_p ≠ argmax S_q]` (not divided by N). */
  potts: number;
}

/**
 * `L = pCE(S) + λ·R(argmax S)/N`: the partial cross-entropy of the
 * probabilities on the seeds plus λ times the discrete contrast-sensitive
 * Potts energy of their argmax (N the number of pixels, so λ is per pixel).
 * This is the loss that the trainers' `lambda` refers to: GD minimises its
 * relaxation, ADM its split form.
 *
 * @param probs H×W×K probabilities.
 * @param seeds labels in `[-1, K-1]`, -1 unlabelled.
 * @param image the image the weights come from (RGB 0–255).
 *
 * @example
 * const { total, partialCE, potts } = regularizedLoss(probs, seeds, image, { lambda: 5 });
 */
export function regularizedLoss(
  probs: ProbMap,
  seeds: LabelMap,
  image: RgbImage,
  options: RegularizedLossOptions = {},
): RegularizedLoss {
  const fn = 'regularizedLoss';
  options = checkOptions(fn, options);
  const lambda = options.lambda ?? 1;
  assertNumber(fn, 'options.lambda', lambda, 0);
  checkProbs(fn, 'probs', probs);
  const { width: W, height: H, numLabels: K, data: S } = probs;
  checkImage(fn, image);
  if (image.width !== W || image.height !== H) {
    throw new SegShapeError(
      `${fn}: image is ${image.width}×${image.height}, expected the probs' ${W}×${H}`,
    );
  }
  checkSeeds(fn, seeds, W, H, K, false);
  const weights =
    options.weights ??
    gridWeights(image, { connectivity: checkConnectivity(fn, options.connectivity ?? 8) });
  if (weights.width !== W || weights.height !== H) {
    throw new SegShapeError(
      `${fn}: options.weights are ${weights.width}×${weights.height}, expected the probs' ${W}×${H}`,
    );
  }
  const N = W * H;
  const arg = new Int32Array(N);
  let ce = 0;
  let count = 0;
  for (let p = 0; p < N; p++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (S[p * K + k]! > S[p * K + best]!) best = k;
    arg[p] = best;
    const y = seeds.data[p]!;
    if (y >= 0) {
      ce -= Math.log(Math.max(S[p * K + y]!, 1e-12));
      count++;
    }
  }
  const partialCE = count > 0 ? ce / count : 0;
  const potts = pottsEnergy({ width: W, height: H, data: arg }, weights);
  return { total: partialCE + (lambda * potts) / N, partialCE, potts };
}
