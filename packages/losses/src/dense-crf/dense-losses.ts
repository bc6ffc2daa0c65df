/**
 * Dense-CRF and normalized-cut losses (Tang et al., ECCV 2018 and CVPR 2018;
 * §1 of methods.md) with closed-form gradients through `tf.customGrad`, on
 * an affinity built once per image (`kernel.ts`): given by the caller, or
 * built inside the call and freed after its backward pass.
 */
import { formatShape, optionsObject, SegShapeError, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { reduceLoss } from '../reduce.js';
import {
  checkReduction,
  checkScores,
  checkShape,
  type Dims,
  type Reduction,
  type ReductionOptions,
  readProbs,
  statsOnSimplex,
} from '../validate.js';
import type { AffinityForms } from './affinity.js';
import { buildKernel, DenseCrfKernel, type DenseKernelOptions, kernelParams } from './kernel.js';

/** How the backward pass gets the `Wᵀ S_k` term of the gradient. */
export type DenseBackward = 'exact' | 'symmetric';

/** Options of {@link denseCrfLoss} and {@link normalizedCutLoss}. */
export interface DenseLossOptions extends ReductionOptions, DenseKernelOptions {
  /**
   * `'exact'`: `Wᵀ S_k` by the lattice's exact transpose (its blurs in
   * reverse order), so the gradient is the exact gradient of the value
   * computed. `'symmetric'`: `W S_k` stands for `Wᵀ S_k`, as meng-tang/rloss
   * does; the lattice is only nearly symmetric, and the gradient then differs
   * from the exact one by ~2 % (part tangent to the simplex, 500×375 photo;
   * README). Both cost the same (the blurs run on the lattice's vertices, a
   * few % of a step); both are the same for `method: 'exact'`.
   * @default 'exact'
   */
  backward?: DenseBackward;
}

type Kind = 'crf' | 'ncut';

interface ExampleState {
  /** The affinity's forms of the h×w×K probabilities on the loss grid (it keeps them). */
  forms: AffinityForms;
  /** Per label: `a_k = S_kᵀ(d − W S_k)` and `b_k = dᵀS_k`. */
  a: Float64Array;
  b: Float64Array;
}

const KERNEL_FIXED = ['sigmaRgb', 'sigmaXy', 'scale', 'method'] as const;

function denseLoss(
  kind: Kind,
  fn: string,
  probs: tf.Tensor,
  image: tf.Tensor | DenseCrfKernel,
  options: DenseLossOptions,
): tf.Tensor {
  options = optionsObject(fn, options);
  const reduction: Reduction = checkReduction(fn, options.reduction);
  const backward = options.backward ?? 'exact';
  if (backward !== 'exact' && backward !== 'symmetric') {
    throw new SegValueError(
      `${fn}: backward is ${JSON.stringify(backward)}, expected 'exact' or 'symmetric'`,
    );
  }
  let dims: Dims;
  let params: Required<DenseKernelOptions> | null = null;
  if (image instanceof DenseCrfKernel) {
    for (const key of KERNEL_FIXED) {
      if (options[key] !== undefined) {
        throw new SegValueError(
          `${fn}: ${key} is given with a kernel, which fixes it; set it in denseCrfKernel`,
        );
      }
    }
    image.example(fn, 0);
    dims = checkScores(fn, 'probs', probs);
    if (dims.n !== image.numExamples || dims.h !== image.height || dims.w !== image.width) {
      throw new SegShapeError(
        `${fn}: probs has shape ${formatShape(probs.shape)}, expected [${image.numExamples},${image.height},${image.width},K] (the kernel's images)`,
      );
    }
  } else {
    params = kernelParams(fn, options);
    dims = checkScores(fn, 'probs', probs);
    checkShape(fn, 'image', image, [dims.n, dims.h, dims.w, 3], ['float32', 'int32']);
  }
  const { n, h: H, w: W, k: K } = dims;
  // One-shot call: the kernel is built here and freed by this call.
  const owned = params !== null;
  // With a kernel and no resampling, the probabilities are checked inside the
  // loop below that reads them anyway (one pass instead of three).
  const fused = !owned && (image as DenseCrfKernel).resample === null;
  const data = fused ? (probs.dataSync() as Float32Array) : readProbs(fn, 'probs', probs, dims);
  const kernel =
    params !== null ? buildKernel(fn, image as tf.Tensor, params) : (image as DenseCrfKernel);
  const rs = kernel.resample;
  const m = kernel.gridHeight * kernel.gridWidth;

  const states: ExampleState[] = [];
  const values = new Float32Array(n);
  try {
    for (let e = 0; e < n; e++) {
      const { affinity } = kernel.example(fn, e);
      const s = rs
        ? rs.forward(data, e * H * W * K, K)
        : data.subarray(e * H * W * K, (e + 1) * H * W * K);
      // S_kᵀ W S_k and dᵀS_k on the lattice's vertices (no slice), and the row sums.
      const forms = affinity.forms(s, K);
      // Throws the check's own message (the first bad entry of the batch).
      if (fused && !statsOnSimplex(forms.min, forms.rowSums)) readProbs(fn, 'probs', probs, dims);
      const a = new Float64Array(K);
      const b = new Float64Array(K);
      let value = 0;
      for (let c = 0; c < K; c++) {
        a[c] = forms.degree[c]! - forms.quadratic[c]!;
        b[c] = forms.degree[c]!;
        if (kind === 'crf') value += a[c]!;
        else value += b[c]! > 0 ? a[c]! / b[c]! : 1;
      }
      values[e] = value;
      states.push({ forms, a, b });
    }
  } catch (err) {
    if (owned) kernel.dispose();
    throw err;
  }
  // A kernel built here serves the backward pass too (its forms need the
  // lattice); it is freed after it (or by GC if none runs).
  const symmetric = backward === 'symmetric';

  // The input is read above (as `data`); only its gradient is produced here.
  const lossFn = tf.customGrad(() => {
    const value = tf.tensor1d(values);
    const gradFunc = (dy: tf.Tensor): tf.Tensor => {
      const dyv = dy.dataSync();
      const out = new Float32Array(n * H * W * K);
      const g = rs ? new Float32Array(m * K) : null;
      try {
        for (let e = 0; e < n; e++) {
          const st = states[e]!;
          const { affinity } = kernel.example(fn, e, ' before the backward pass');
          const { scale, degreeScale } = gradCoefficients(kind, st, K, dyv[e]!);
          if (g) {
            affinity.gradient(st.forms, scale, degreeScale, symmetric, g);
            rs!.adjointInto(g, K, out, e * H * W * K);
          } else {
            const o = e * H * W * K;
            affinity.gradient(st.forms, scale, degreeScale, symmetric, out.subarray(o, o + m * K));
          }
        }
      } finally {
        if (owned) kernel.dispose();
      }
      return tf.tensor4d(out, [n, H, W, K]);
    };
    return { value, gradFunc };
  });
  return tf.tidy(() => reduceLoss(lossFn(probs) as tf.Tensor1D, reduction));
}

/**
 * The per-label coefficients of `dy · ∂loss/∂S_k = b_k·(W + Wᵀ)S_k + a_k·d`:
 * `∂/∂S_k` of `S_kᵀ W (1 − S_k)` is `d − (W + Wᵀ) S_k`; the normalized cut
 * divides it by `dᵀS_k` and adds `−a_k/(dᵀS_k)²·d`.
 */
function gradCoefficients(
  kind: Kind,
  st: ExampleState,
  K: number,
  dy: number,
): { scale: Float64Array; degreeScale: Float64Array } {
  const { a, b } = st;
  const scale = new Float64Array(K);
  const degreeScale = new Float64Array(K);
  for (let c = 0; c < K; c++) {
    let coef = 0;
    let dcoef = 0;
    if (kind === 'crf') coef = dy;
    else if (b[c]! > 0) {
      coef = dy / b[c]!;
      dcoef = (-dy * a[c]!) / (b[c]! * b[c]!);
    }
    scale[c] = -coef;
    degreeScale[c] = coef + dcoef;
  }
  return { scale, degreeScale };
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
 * Work per call: the value needs `S_kᵀ W S_k` and `dᵀS_k`, computed on the
 * lattice's vertices (one splat of the K channels and one blur, no slice);
 * the gradient `d − (W + Wᵀ) S_k` one slice (`PermutohedralLattice`'s
 * `quadraticForms` / `quadraticGradient`). Building the lattice costs more
 * than both, so in training build it once per image with
 * {@link denseCrfKernel} and pass the kernel in place of the image.
 *
 * @param probs `[N,H,W,K]` float32 probabilities (checked on the simplex).
 * @param image `[N,H,W,3]` float32 or int32, values 0–255; or the images'
 *   {@link DenseCrfKernel} (then `sigmaRgb`, `sigmaXy`, `scale` and `method`
 *   come from it and may not be given here).
 * @returns `[N]`, or a scalar with `reduction: 'mean' | 'sum'`.
 *
 * @example
 * const kernel = denseCrfKernel(images, { sigmaRgb: 15, sigmaXy: 100, scale: 0.5 });
 * const reg = denseCrfLoss(tf.softmax(logits), kernel);   // every step
 * // one-shot, the kernel built and freed inside the call:
 * const reg1 = denseCrfLoss(tf.softmax(logits), images, { sigmaRgb: 15, sigmaXy: 100, scale: 0.5 });
 * const loss = tf.add(pce, tf.mul(2e-9, tf.sum(reg)));   // rloss's weight
 */
export function denseCrfLoss(
  probs: tf.Tensor,
  image: tf.Tensor | DenseCrfKernel,
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
 * @param image `[N,H,W,3]` float32 or int32, values 0–255, or the images'
 *   {@link DenseCrfKernel} (as for {@link denseCrfLoss}).
 * @returns `[N]`, or a scalar with `reduction: 'mean' | 'sum'`.
 *
 * @example
 * const reg = normalizedCutLoss(tf.softmax(logits), images, { sigmaRgb: 15, sigmaXy: 100 });
 */
export function normalizedCutLoss(
  probs: tf.Tensor,
  image: tf.Tensor | DenseCrfKernel,
  options: DenseLossOptions = {},
): tf.Tensor {
  return denseLoss('ncut', 'normalizedCutLoss', probs, image, options);
}
