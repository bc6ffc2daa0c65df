import * as tf from '@tensorflow/tfjs-core';
import { assertLiveTensor, formatShape, SegShapeError } from '../errors.js';
import { segMatMul } from '../gradients/wasm/matmul.js';

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
