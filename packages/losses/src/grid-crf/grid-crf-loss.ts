/**
 * Relaxed grid-CRF (Potts) losses for gradient descent (Tang et al., ECCV
 * 2018; §1 of methods.md), on batched probabilities.
 */
import { GRID_STEPS } from '@seg/crf-solvers';
import { optionsObject, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { reduceLoss } from '../reduce.js';
import {
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
  checkGridSigma,
  computeGridWeights,
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
 * closed form (exact; at `S_p[k] = S_q[k]` the TV term takes the
 * subgradient 0), computed on typed arrays in a `tf.customGrad`.
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
  options = optionsObject(fn, options);
  const reduction = checkReduction(fn, options.reduction);
  const connectivity = checkConnectivity(fn, options.connectivity);
  const relaxation = options.relaxation ?? 'bilinear';
  if (relaxation !== 'bilinear' && relaxation !== 'tv' && relaxation !== 'quadratic') {
    throw new SegValueError(
      `${fn}: relaxation is ${JSON.stringify(relaxation)}, expected 'bilinear', 'tv' or 'quadratic'`,
    );
  }
  checkGridSigma(fn, options.sigma);
  const dims = checkScores(fn, 'probs', probs);
  const { n, h, w, k } = dims;
  checkShape(fn, 'image', image, [n, h, w, 3], ['float32', 'int32']);
  const data = readProbs(fn, 'probs', probs, dims);
  const img = readImage(fn, 'image', image);
  const hw = h * w;
  const weights: Float32Array[][] = [];
  const values = new Float32Array(n);
  for (let b = 0; b < n; b++) {
    const g = computeGridWeights(img, b * hw * 3, w, h, connectivity, options.sigma);
    weights.push(g.edges as Float32Array[]);
    values[b] = relaxedEnergy(
      relaxation,
      data.subarray(b * hw * k, (b + 1) * hw * k),
      g.edges,
      h,
      w,
      k,
    );
  }
  // The input was read above (as `data`); only its gradient is produced here.
  const lossFn = tf.customGrad(() => {
    const gradFunc = (dy: tf.Tensor): tf.Tensor => {
      const dyv = dy.dataSync();
      const out = new Float32Array(n * hw * k);
      for (let b = 0; b < n; b++) {
        const o = b * hw * k;
        relaxedGradient(
          relaxation,
          data.subarray(o, o + hw * k),
          weights[b]!,
          h,
          w,
          k,
          dyv[b]!,
          out.subarray(o, o + hw * k),
        );
      }
      return tf.tensor4d(out, [n, h, w, k]);
    };
    return { value: tf.tensor1d(values), gradFunc };
  });
  return tf.tidy(() => reduceLoss(lossFn(probs) as tf.Tensor1D, reduction));
}

/** Calls `edge(p, q, w_pq)` for every edge with a non-zero weight (q = p's neighbour in direction d). */
function forEachEdge(
  edges: readonly Float32Array[],
  h: number,
  w: number,
  edge: (p: number, q: number, wpq: number) => void,
): void {
  edges.forEach((wd, d) => {
    const { dx, dy } = GRID_STEPS[d]!;
    const step = dy * w + dx;
    for (let y = 0; y + dy < h; y++) {
      for (let x = Math.max(0, -dx); x < w - Math.max(0, dx); x++) {
        const p = y * w + x;
        const wpq = wd[p]!;
        if (wpq !== 0) edge(p, p + step, wpq);
      }
    }
  });
}

/** The relaxed energy of one image's probabilities (h×w×k), float64 accumulation. */
function relaxedEnergy(
  relaxation: GridRelaxation,
  s: Float32Array,
  edges: readonly Float32Array[],
  h: number,
  w: number,
  k: number,
): number {
  let e = 0;
  forEachEdge(edges, h, w, (p, q, wpq) => {
    const po = p * k;
    const qo = q * k;
    let c = 0;
    if (relaxation === 'bilinear') {
      for (let l = 0; l < k; l++) c += s[po + l]! * (1 - s[qo + l]!);
    } else if (relaxation === 'tv') {
      for (let l = 0; l < k; l++) c += Math.abs(s[po + l]! - s[qo + l]!);
      c *= 0.5;
    } else {
      for (let l = 0; l < k; l++) {
        const t = s[po + l]! - s[qo + l]!;
        c += t * t;
      }
      c *= 0.5;
    }
    e += wpq * c;
  });
  return e;
}

/** Adds `dy · ∂E/∂S` of one image into `g` (h×w×k). */
function relaxedGradient(
  relaxation: GridRelaxation,
  s: Float32Array,
  edges: readonly Float32Array[],
  h: number,
  w: number,
  k: number,
  dy: number,
  g: Float32Array,
): void {
  if (relaxation === 'bilinear') {
    // ∂/∂S_p = w (1 − S_q), ∂/∂S_q = −w S_p
    forEachEdge(edges, h, w, (p, q, wpq) => {
      const po = p * k;
      const qo = q * k;
      const c = dy * wpq;
      for (let l = 0; l < k; l++) {
        const a = s[po + l]!;
        const b = s[qo + l]!;
        g[po + l] = g[po + l]! + c * (1 - b);
        g[qo + l] = g[qo + l]! - c * a;
      }
    });
    return;
  }
  // tv: ½w·sign(S_p − S_q) (0 at a tie); quadratic: w·(S_p − S_q)
  const tv = relaxation === 'tv';
  forEachEdge(edges, h, w, (p, q, wpq) => {
    const po = p * k;
    const qo = q * k;
    const c = dy * wpq;
    for (let l = 0; l < k; l++) {
      const d = s[po + l]! - s[qo + l]!;
      const t = c * (tv ? (d > 0 ? 0.5 : d < 0 ? -0.5 : 0) : d);
      g[po + l] = g[po + l]! + t;
      g[qo + l] = g[qo + l]! - t;
    }
  });
}
