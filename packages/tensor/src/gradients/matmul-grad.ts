import * as tf from '@tensorflow/tfjs-core';
import { activationGrad } from './activation.js';
import {
  SEG_FUSED_MATMUL,
  SEG_MATMUL,
  type SegFusedMatMulAttrs,
  type SegMatMulAttrs,
  segColSum,
  segMatMul,
} from './wasm/matmul.js';

/**
 * The BatchMatMul gradient, its products computed by {@link product}: the
 * products are tfjs-core's own (dA = dY·Bᵀ, dB = Aᵀ·dY and the three
 * transposed variants); only how they are computed changes.
 *
 * Why: tfjs-backend-wasm 4.22's BatchMatMul is fast only without
 * `transposeA`/`transposeB`; with either it takes a slow path. Measured here
 * on a 2-core x86 machine (WASM-SIMD, one thread): Aᵀ·dY for A 100×784,
 * dY 100×1000 took 127 ms as `matMul(a, dy, true, false)` and 9.4 ms as
 * `matMul(transpose(a), dy)`; dY·Cᵀ for C 1000×1000, 138 ms vs 19.7 ms.
 * Other backends keep the transposed calls, which they handle natively.
 */
export const batchMatMulGradConfig: tf.GradConfig = {
  kernelName: tf.BatchMatMul,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    const { transposeA, transposeB } = attrs as unknown as SegMatMulAttrs;
    const g = dy as tf.Tensor;
    if (!transposeA && !transposeB) {
      return { a: () => product(g, b, false, true), b: () => product(a, g, true, false) };
    }
    if (!transposeA && transposeB) {
      return { a: () => product(g, b, false, false), b: () => product(g, a, true, false) };
    }
    if (transposeA && !transposeB) {
      return { a: () => product(b, g, false, true), b: () => product(a, g, false, false) };
    }
    return { a: () => product(b, g, true, true), b: () => product(g, a, true, true) };
  },
};

/** The gradient of `SegMatMul` (gradients/wasm/matmul.ts): BatchMatMul's. */
export const segMatMulGradConfig: tf.GradConfig = {
  ...batchMatMulGradConfig,
  kernelName: SEG_MATMUL,
};

/**
 * The gradient of `SegFusedMatMul`, y = act(a·b + bias): dz = dy ⊙ [y > 0]
 * for ReLU (tfjs's Relu gradient, 0 at 0; one pass of `SegReluGrad`), dy
 * otherwise; da = dz·bᵀ, db = aᵀ·dz (both read in place by `SegMatMul`),
 * dbias = Σ dz over the rows (`SegColSum`).
 */
export const segFusedMatMulGradConfig: tf.GradConfig = {
  kernelName: SEG_FUSED_MATMUL,
  inputsToSave: ['a', 'b'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [a, b, y] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const { activation } = attrs as unknown as SegFusedMatMulAttrs;
    const dz = activationGrad(activation, dy as tf.Tensor, y);
    return {
      a: () => product(dz, b, false, true),
      b: () => product(a, dz, true, false),
      bias: () => segColSum(dz as tf.Tensor2D) ?? tf.sum(dz, 0),
    };
  },
};

/**
 * op(x)·op(y), op an optional transpose of the last two axes (x, y of rank
 * 2, or of rank 3 with one batch size). On wasm with SIMD, the `SegMatMul`
 * kernel, which reads every transpose in place: at the gradient products of
 * a batch-100 784-1000-1000 MLP, 1.1–2.6× faster than the explicit
 * transposes below for dY·Wᵀ, 1.0–1.2× for Xᵀ·dY (six alternated runs of
 * `bench/matmul.ts`, load 1.3–4.0). Without it, the product runs
 * untransposed, either as op(x)·op(y) or as (op(y)ᵀ·op(x)ᵀ)ᵀ, whichever
 * moves fewer values: each transpose not already stored costs a copy. For
 * the weight gradient of a batch-1 pass (dY 1×n, W k×n) this packs n values
 * instead of k·n.
 */
export function product(x: tf.Tensor, y: tf.Tensor, tx: boolean, ty: boolean): tf.Tensor {
  if (tf.getBackend() !== 'wasm') return tf.matMul(x, y, tx, ty);
  const direct = segMatMul(x, y, tx, ty);
  if (direct) return direct;
  const r = x.rank;
  const m = x.shape[tx ? r - 1 : r - 2]!;
  const k = x.shape[tx ? r - 2 : r - 1]!;
  const n = y.shape[ty ? y.rank - 2 : y.rank - 1]!;
  // Values copied: transposes made explicit, the packed right operand, and
  // in the second form the result's transpose.
  const inPlace = (tx ? m * k : 0) + (ty ? k * n : 0) + k * n;
  const swapped = (tx ? 0 : m * k) + (ty ? 0 : k * n) + m * k + m * n;
  if (inPlace <= swapped) return tf.matMul(tx ? swapLast(x) : x, ty ? swapLast(y) : y);
  return swapLast(tf.matMul(ty ? y : swapLast(y), tx ? x : swapLast(x)));
}

function swapLast(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(x, perm);
}
