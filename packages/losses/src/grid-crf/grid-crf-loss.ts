/**
 * Relaxed grid-CRF (Potts) losses for gradient descent (Tang et al., ECCV
 * 2018; §1 of methods.md), on batched probabilities.
 */
import { SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { reduceLoss } from '../reduce.js';
import {
  checkPositive,
  checkReduction,
  checkScores,
  checkShape,
  type ReductionOptions,
  readImage,
  readProbs,
} from '../validate.js';
import {
  type Connectivity,
  checkConnectivity,
  computeGridWeights,
  GRID_DIRECTIONS,
} from './grid-weights.js';

/** How the Potts term `[Y_p ≠ Y_q]` is relaxed to probabilities. */
export type GridRelaxation = 'bilinear' | 'tv' | 'quadratic';

/** Options of {@link gridCrfLoss}. */
export interface GridCrfLossOptions extends ReductionOptions {
  /** @default 8 */
  connectivity?: Connectivity;
  /** @default 'bilinear' */
  relaxation?: GridRelaxation;
  /**
   * σ of the colour contrast (image units, 0–255). Default: per image, σ² is
   * its mean squared neighbour difference (as {@link gridWeights}).
   */
  sigma?: number;
}

/**
 * Relaxed Potts energy of probabilities `S`, per example, on the 4- or
 * 8-neighbourhood with the contrast-sensitive weights of {@link gridWeights}
 * (each edge counted once):
 * - `'bilinear'`: `Σ_pq w_pq Σ_k S_p[k] (1 − S_q[k])`
 * - `'tv'`: `Σ_pq w_pq · ½ Σ_k |S_p[k] − S_q[k]|`
 * - `'quadratic'`: `Σ_pq w_pq · ½ Σ_k (S_p[k] − S_q[k])²`
 *
 * The ½ of the last two (absent from the formulas of methods.md) makes all
 * three equal the discrete {@link pottsEnergy} at one-hot `S`: a label change
 * across an edge costs `w_pq` whichever relaxation is used. The gradient is
 * tfjs's automatic one (exact; at `S_p[k] = S_q[k]` the TV term takes the
 * subgradient 0).
 *
 * @param probs `[N,H,W,K]` float32 probabilities (checked on the simplex).
 * @param image `[N,H,W,3]` float32 or int32, values 0–255.
 * @returns `[N]`, or a scalar with `reduction: 'mean' | 'sum'`.
 *
 * @example
 * const reg = gridCrfLoss(tf.softmax(logits), images, { connectivity: 8, relaxation: 'bilinear' });
 */
export function gridCrfLoss(
  probs: tf.Tensor,
  image: tf.Tensor,
  options: GridCrfLossOptions = {},
): tf.Tensor {
  const fn = 'gridCrfLoss';
  const reduction = checkReduction(fn, options.reduction);
  const connectivity = checkConnectivity(fn, options.connectivity);
  const relaxation = options.relaxation ?? 'bilinear';
  if (relaxation !== 'bilinear' && relaxation !== 'tv' && relaxation !== 'quadratic') {
    throw new SegValueError(
      `${fn}: relaxation is ${JSON.stringify(relaxation)}, expected 'bilinear', 'tv' or 'quadratic'`,
    );
  }
  if (options.sigma !== undefined) checkPositive(fn, 'sigma', options.sigma);
  const dims = checkScores(fn, 'probs', probs);
  const { n, h, w, k } = dims;
  checkShape(fn, 'image', image, [n, h, w, 3], ['float32', 'int32']);
  readProbs(fn, 'probs', probs, dims);
  const img = readImage(fn, 'image', image);
  const dirs = GRID_DIRECTIONS.slice(0, connectivity === 8 ? 4 : 2);
  const weights = dirs.map(() => new Float32Array(n * h * w));
  for (let b = 0; b < n; b++) {
    const g = computeGridWeights(img, b * h * w * 3, w, h, connectivity, options.sigma);
    g.edges.forEach((e, d) => {
      weights[d]!.set(e, b * h * w);
    });
  }
  return tf.tidy(() => {
    let perExample: tf.Tensor | null = null;
    dirs.forEach(({ dx, dy }, d) => {
      const hh = h - dy;
      const ww = w - Math.abs(dx);
      if (hh <= 0 || ww <= 0) return;
      const x0 = Math.max(0, -dx);
      const sp = tf.slice(probs, [0, 0, x0, 0], [n, hh, ww, k]);
      const sq = tf.slice(probs, [0, dy, x0 + dx, 0], [n, hh, ww, k]);
      const wt = tf.slice(tf.tensor4d(weights[d]!, [n, h, w, 1]), [0, 0, x0, 0], [n, hh, ww, 1]);
      let cost: tf.Tensor;
      if (relaxation === 'bilinear') cost = tf.mul(sp, tf.sub(1, sq));
      else if (relaxation === 'tv') cost = tf.mul(tf.abs(tf.sub(sp, sq)), 0.5);
      else cost = tf.mul(tf.square(tf.sub(sp, sq)), 0.5);
      const term = tf.sum(tf.mul(wt, tf.sum(cost, 3, true)), [1, 2, 3]);
      perExample = perExample ? tf.add(perExample, term) : term;
    });
    // A 1-pixel image has no edge: 0, still a function of probs for tf.grad.
    const out = (perExample ?? tf.mul(tf.sum(probs, [1, 2, 3]), 0)) as tf.Tensor1D;
    return reduceLoss(out, reduction);
  });
}
