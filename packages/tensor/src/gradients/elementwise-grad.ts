import * as tf from '@tensorflow/tfjs-core';
import { reluGrad } from './activation.js';
import { segColSum } from './wasm/matmul.js';

/**
 * The gradients of `Relu` and `Add` as tfjs-core's, computed in fewer
 * kernels on wasm. tfjs's Relu gradient is `dy · cast(step(x))`, three
 * kernels over the activation; here one pass of `SegReluGrad` (the same
 * values, −0 and NaN included). tfjs's Add gradient sums dy over the axes an
 * operand was broadcast along (a bias: every axis but the channels), and the
 * wasm backend's Sum over leading axes transposes dy first; here such a sum
 * is `SegColSum` over dy read in place as a `[rows, cols]` matrix. Other
 * backends and other cases run tfjs's own formulas.
 */
export const reluGradConfig: tf.GradConfig = {
  kernelName: tf.Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    const g = dy as tf.Tensor;
    return {
      x: () => reluGrad(g, x),
    };
  },
};

/** {@link reluGradConfig}'s `Add`. */
export const addGradConfig: tf.GradConfig = {
  kernelName: tf.Add,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved) => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    const g = dy as tf.Tensor;
    const outShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const der = (x: tf.Tensor) => () => {
      const axes = tf.broadcast_util.getReductionAxes(x.shape, outShape);
      if (axes.length === 0) return tf.reshape(g, x.shape);
      return tf.reshape(leadingSum(g, axes) ?? tf.sum(g, axes), x.shape);
    };
    return { a: der(a), b: der(b) };
  },
};

/**
 * Σ of float32 `g` over `axes` by `SegColSum` when, on wasm, those axes are
 * leading ones (every axis before the last of them is summed or of size 1,
 * none after it is): g is then a `[rows, cols]` matrix summed over its rows.
 * Null otherwise.
 */
function leadingSum(g: tf.Tensor, axes: number[]): tf.Tensor | null {
  if (tf.getBackend() !== 'wasm' || g.dtype !== 'float32') return null;
  const last = Math.max(...axes);
  for (let i = 0; i < last; i++) if (!axes.includes(i) && g.shape[i] !== 1) return null;
  const rows = g.shape.slice(0, last + 1).reduce((p, d) => p * d, 1);
  const cols = g.shape.slice(last + 1).reduce((p, d) => p * d, 1);
  const flat = tf.reshape(g, [rows, cols]) as tf.Tensor2D;
  const sum = segColSum(flat);
  flat.dispose();
  return sum;
}
