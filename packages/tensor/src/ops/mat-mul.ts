import * as tf from '@tensorflow/tfjs-core';
import { assertLiveTensor, assertShape, formatShape, SegShapeError } from '../errors.js';
import { assertActivation } from '../gradients/activation.js';
import { SEG_FUSED_MATMUL, segMatMul, wasmMatMulReady } from '../gradients/wasm/matmul.js';

/**
 * The matrix product op(a)·op(b), op a transpose of the last two axes where
 * asked, with its gradient: `tf.matMul`'s contract, faster on wasm.
 *
 * On the wasm backend with SIMD, float32 operands of rank 2, or of rank 3
 * with the same batch size, run `SegMatMul`, a WebAssembly SIMD kernel on
 * the backend's memory that reads all four transpose cases with no transpose
 * made explicit. tfjs's
 * own BatchMatMul repacks its right operand whenever it is a new tensor (a
 * weight after an update, any gradient) and runs transposed operands in a
 * scalar loop; measured here at the 100×1000×1000 product of a batch-100
 * MLP step, see the package README. Anything else (other backends, int32,
 * broadcast batches, rank 4 and more) is `tf.matMul`.
 *
 * @param a `[m, k]` (`[k, m]` when `transposeA`), optionally with a leading batch axis.
 * @param b `[k, n]` (`[n, k]` when `transposeB`), same rank and batch as `a`.
 * @param transposeA Read `a` transposed. @default false
 * @param transposeB Read `b` transposed. @default false
 * @returns `[m, n]` (or `[batch, m, n]`), owned by the caller.
 * @throws SegShapeError when the inner dimensions differ.
 *
 * @example
 * const w = tf.variable(tf.randomNormal([784, 1000]));
 * const y = matMul(x, w);                  // x [100, 784] → y [100, 1000]
 * const g = matMul(x, dy, true, false);    // xᵀ·dy, no transpose made: [784, 1000]
 */
export function matMul(
  a: tf.Tensor,
  b: tf.Tensor,
  transposeA = false,
  transposeB = false,
): tf.Tensor {
  assertLiveTensor('matMul', 'a', a);
  assertLiveTensor('matMul', 'b', b);
  const ra = a.rank;
  const rb = b.rank;
  if (ra >= 2 && rb >= 2) {
    const ka = a.shape[transposeA ? ra - 2 : ra - 1]!;
    const kb = b.shape[transposeB ? rb - 1 : rb - 2]!;
    if (ka !== kb) {
      throw new SegShapeError(
        `matMul: a is ${formatShape(a.shape)}${transposeA ? ' (transposed)' : ''} and b is ${formatShape(b.shape)}${transposeB ? ' (transposed)' : ''}, expected equal inner dimensions, got ${ka} and ${kb}`,
      );
    }
  }
  return segMatMul(a, b, transposeA, transposeB) ?? tf.matMul(a, b, transposeA, transposeB);
}

/** The arguments of {@link fusedMatMul}. */
export interface FusedMatMulArgs {
  /** `[m, k]`, float32. */
  a: tf.Tensor2D;
  /** `[k, n]`, float32 (a dense layer's weight). */
  b: tf.Tensor2D;
  /** `[n]`, added before the activation; none when absent. */
  bias?: tf.Tensor1D;
  /** Applied after the bias. @default 'linear' */
  activation?: 'linear' | 'relu';
}

/**
 * A dense layer, `act(a·b + bias)`, as one kernel call, differentiable with
 * respect to a, b and bias (also with the gradient tape on, where
 * `tf.fused.matMul` falls back to separate ops).
 *
 * On the wasm backend with SIMD, `SegFusedMatMul`: the product of
 * {@link matMul}, then bias and ReLU in one WebAssembly SIMD pass over it;
 * its gradient is one `SegReluGrad` pass, two `SegMatMul` products and a
 * `SegColSum`. Elsewhere, tf.matMul, tf.add and tf.relu (tfjs's gradients).
 *
 * @returns `[m, n]`, owned by the caller.
 * @throws SegShapeError unless a and b have rank 2 with a's columns b's rows
 * and bias is `[n]`.
 * @throws SegValueError for an activation other than `'linear'` or `'relu'`.
 *
 * @example
 * const h = fusedMatMul({ a: x, b: w1, bias: b1, activation: 'relu' }); // x [100, 784], w1 [784, 1000]
 */
export function fusedMatMul(args: FusedMatMulArgs): tf.Tensor2D {
  const fn = 'fusedMatMul';
  const { a, b, bias } = args;
  const activation = args.activation ?? 'linear';
  assertLiveTensor(fn, 'a', a);
  assertLiveTensor(fn, 'b', b);
  if (bias) assertLiveTensor(fn, 'bias', bias);
  assertShape(fn, 'a', a.shape, [null, null]);
  assertShape(fn, 'b', b.shape, [a.shape[1]!, null]);
  if (bias) assertShape(fn, 'bias', bias.shape, [b.shape[1]!]);
  assertActivation(fn, activation);
  if (
    wasmMatMulReady() &&
    tf.getKernel(SEG_FUSED_MATMUL, 'wasm') !== undefined &&
    a.dtype === 'float32' &&
    b.dtype === 'float32' &&
    (!bias || bias.dtype === 'float32')
  ) {
    const inputs = (bias ? { a, b, bias } : { a, b }) as tf.NamedTensorMap;
    return tf.engine().runKernel(SEG_FUSED_MATMUL, inputs, {
      activation,
    } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
  }
  return tf.tidy(() => {
    let z: tf.Tensor2D = matMul(a, b) as tf.Tensor2D;
    if (bias) z = tf.add(z, bias);
    return activation === 'relu' ? tf.relu(z) : z;
  });
}
