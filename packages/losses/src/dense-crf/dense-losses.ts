/**
 * Dense-CRF and normalized-cut losses (Tang et al., ECCV 2018 and CVPR 2018;
 * §1 of methods.md) with closed-form gradients through `tf.customGrad`. The
 * affinity of each image is built once in the forward pass and reused by the
 * backward pass.
 */
import { SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { reduceLoss } from '../reduce.js';
import {
  checkPositive,
  checkReduction,
  checkScores,
  checkShape,
  type Reduction,
  type ReductionOptions,
  readImage,
  readProbs,
} from '../validate.js';
import {
  type Affinity,
  type AffinityMethod,
  bilateralFeatureArray,
  buildAffinity,
} from './affinity.js';
import { type Resampler, resampler, scaledSize } from './resample.js';

/** Options of {@link denseCrfLoss} and {@link normalizedCutLoss}. */
export interface DenseLossOptions extends ReductionOptions {
  /** σ of the colour term, image units (0–255). @default 15 */
  sigmaRgb?: number;
  /** σ of the position term, in pixels of the input image. @default 100 */
  sigmaXy?: number;
  /**
   * Resample the image and the probabilities by this factor (bilinear,
   * half-pixel centres) before the loss, σ_xy scaled with them; the loss is
   * the one on the smaller grid and its gradient flows back through the
   * resampling. meng-tang/rloss uses 0.5.
   * @default 1
   */
  scale?: number;
  /**
   * `'lattice'`: the permutohedral lattice of `@seg/crf-solvers`, O(N);
   * `'exact'`: the exact O(N²) sum, for images of at most
   * {@link EXACT_MAX_PIXELS} pixels (after `scale`).
   * @default 'lattice'
   */
  method?: AffinityMethod;
}

type Kind = 'crf' | 'ncut';

interface ExampleState {
  affinity: Affinity;
  resample: Resampler | null;
  /** h×w×K probabilities on the loss grid. */
  s: Float32Array;
  /** h×w×(K+1): `W·S_k` for every k, then `d = W·1`. */
  ws: Float32Array;
  /** Per label: `a_k = S_kᵀ(d − W S_k)` and `b_k = dᵀS_k`. */
  a: Float64Array;
  b: Float64Array;
}

function denseLoss(
  kind: Kind,
  fn: string,
  probs: tf.Tensor,
  image: tf.Tensor,
  options: DenseLossOptions,
): tf.Tensor {
  const reduction: Reduction = checkReduction(fn, options.reduction);
  const sigmaRgb = options.sigmaRgb ?? 15;
  const sigmaXy = options.sigmaXy ?? 100;
  const scale = options.scale ?? 1;
  const method = options.method ?? 'lattice';
  checkPositive(fn, 'sigmaRgb', sigmaRgb);
  checkPositive(fn, 'sigmaXy', sigmaXy);
  checkPositive(fn, 'scale', scale, 1);
  if (method !== 'lattice' && method !== 'exact') {
    throw new SegValueError(
      `${fn}: method is ${JSON.stringify(method)}, expected 'lattice' or 'exact'`,
    );
  }
  const dims = checkScores(fn, 'probs', probs);
  const { n, h: H, w: W, k: K } = dims;
  checkShape(fn, 'image', image, [n, H, W, 3], ['float32', 'int32']);
  const data = readProbs(fn, 'probs', probs, dims);
  const img = readImage(fn, 'image', image);
  const h = scale === 1 ? H : scaledSize(H, scale);
  const w = scale === 1 ? W : scaledSize(W, scale);
  const rs = h === H && w === W ? null : resampler(H, W, h, w);
  const m = h * w;

  const states: ExampleState[] = [];
  const values = new Float32Array(n);
  for (let e = 0; e < n; e++) {
    const s = rs
      ? rs.forward(data, e * H * W * K, K)
      : data.subarray(e * H * W * K, (e + 1) * H * W * K);
    const im = rs
      ? rs.forward(img, e * H * W * 3, 3)
      : img.subarray(e * H * W * 3, (e + 1) * H * W * 3);
    const affinity = buildAffinity(
      fn,
      method,
      bilateralFeatureArray(im, 0, h, w, sigmaXy * scale, sigmaRgb),
      5,
      h,
      w,
    );
    const v = new Float32Array(m * (K + 1));
    for (let p = 0; p < m; p++) {
      for (let c = 0; c < K; c++) v[p * (K + 1) + c] = s[p * K + c]!;
      v[p * (K + 1) + K] = 1;
    }
    const ws = affinity.apply(v, K + 1);
    const a = new Float64Array(K);
    const b = new Float64Array(K);
    for (let p = 0; p < m; p++) {
      const d = ws[p * (K + 1) + K]!;
      for (let c = 0; c < K; c++) {
        const sv = s[p * K + c]!;
        a[c]! += sv * (d - ws[p * (K + 1) + c]!);
        b[c]! += sv * d;
      }
    }
    let value = 0;
    for (let c = 0; c < K; c++) {
      if (kind === 'crf') value += a[c]!;
      else value += b[c]! > 0 ? a[c]! / b[c]! : 1;
    }
    values[e] = value;
    states.push({ affinity, resample: rs, s, ws, a, b });
  }

  // The input is read above (as `data`); only its gradient is produced here.
  const lossFn = tf.customGrad(() => {
    const value = tf.tensor1d(values);
    const gradFunc = (dy: tf.Tensor): tf.Tensor => {
      const dyv = dy.dataSync();
      const out = new Float32Array(n * H * W * K);
      states.forEach((st, e) => {
        const g = exampleGrad(kind, st, m, K, dyv[e]!);
        if (st.resample) st.resample.adjointInto(g, K, out, e * H * W * K);
        else out.set(g, e * H * W * K);
      });
      return tf.tensor4d(out, [n, H, W, K]);
    };
    return { value, gradFunc };
  });
  return tf.tidy(() => reduceLoss(lossFn(probs) as tf.Tensor1D, reduction));
}

/** `dy · ∂loss/∂S` on the loss grid, h×w×K. */
function exampleGrad(kind: Kind, st: ExampleState, m: number, K: number, dy: number): Float32Array {
  const { affinity, s, ws, a, b } = st;
  // Wᵀ S_k: the forward W S_k when W is symmetric, else one transposed pass.
  let wts: Float32Array | null = null;
  if (!affinity.symmetric) wts = affinity.applyTranspose(s, K);
  const g = new Float32Array(m * K);
  const coef = new Float64Array(K);
  const dcoef = new Float64Array(K);
  for (let c = 0; c < K; c++) {
    if (kind === 'crf') {
      coef[c] = dy;
      dcoef[c] = 0;
    } else if (b[c]! > 0) {
      coef[c] = dy / b[c]!;
      dcoef[c] = (-dy * a[c]!) / (b[c]! * b[c]!);
    }
  }
  for (let p = 0; p < m; p++) {
    const d = ws[p * (K + 1) + K]!;
    for (let c = 0; c < K; c++) {
      const wsk = ws[p * (K + 1) + c]!;
      const wtsk = wts ? wts[p * K + c]! : wsk;
      // ∂/∂S_k of S_kᵀ W (1 − S_k) = W·1 − W S_k − Wᵀ S_k
      g[p * K + c] = coef[c]! * (d - wsk - wtsk) + dcoef[c]! * d;
    }
  }
  return g;
}

/**
 * Dense-CRF loss `R(S) = Σ_k S_kᵀ W (1 − S_k)` per example, with the fully
 * connected Gaussian affinity
 * `W_pq = exp(−‖x_p − x_q‖²/(2σ_xy²) − ‖I_p − I_q‖²/(2σ_rgb²))` over all
 * pairs, `W_pp = 1` included (as the lattice computes it; the diagonal adds
 * `Σ_p Σ_k S_p[k](1 − S_p[k])`, 0 at one-hot S).
 *
 * The gradient is exact for the operator used: `W·1 − W S_k − Wᵀ S_k`
 * (`= W·1 − 2 W S_k` for a symmetric W). meng-tang/rloss drops `W·1`, which
 * is the same for every k and cancels through a softmax; here it is kept so
 * that finite differences match.
 *
 * @param probs `[N,H,W,K]` float32 probabilities (checked on the simplex).
 * @param image `[N,H,W,3]` float32 or int32, values 0–255.
 * @returns `[N]`, or a scalar with `reduction: 'mean' | 'sum'`.
 *
 * @example
 * const reg = denseCrfLoss(tf.softmax(logits), images, { sigmaRgb: 15, sigmaXy: 100, scale: 0.5 });
 * const loss = tf.add(pce, tf.mul(2e-9, tf.sum(reg)));   // rloss's weight
 */
export function denseCrfLoss(
  probs: tf.Tensor,
  image: tf.Tensor,
  options: DenseLossOptions = {},
): tf.Tensor {
  return denseLoss('crf', 'denseCrfLoss', probs, image, options);
}

/**
 * Normalized-cut loss `NC(S) = Σ_k S_kᵀ W (1 − S_k) / (dᵀ S_k)`, `d = W·1`,
 * per example, with the affinity of {@link denseCrfLoss}. A label with
 * `dᵀS_k = 0` (absent everywhere) counts 1, the limit of its term as `S_k → 0`,
 * with a zero gradient.
 *
 * @param probs `[N,H,W,K]` float32 probabilities (checked on the simplex).
 * @param image `[N,H,W,3]` float32 or int32, values 0–255.
 * @returns `[N]`, or a scalar with `reduction: 'mean' | 'sum'`.
 *
 * @example
 * const reg = normalizedCutLoss(tf.softmax(logits), images, { sigmaRgb: 15, sigmaXy: 100 });
 */
export function normalizedCutLoss(
  probs: tf.Tensor,
  image: tf.Tensor,
  options: DenseLossOptions = {},
): tf.Tensor {
  return denseLoss('ncut', 'normalizedCutLoss', probs, image, options);
}
