import * as tf from '@tensorflow/tfjs-core';
import { activationGrad, assertActivation } from './activation.js';
import { conv2dFilterGrad, conv2dInputGrad, nhwcConv2DInfo } from './conv2d-grad.js';
import { segColSum } from './wasm/matmul.js';

/**
 * A gradient for the `FusedConv2D` kernel (convolution + bias + activation
 * in one backend call), so that a training step can run each convolution
 * layer as that one kernel: `tf.engine().runKernel(tf.FusedConv2D, { x,
 * filter, bias }, attrs)` with the tape on. (`tf.fused.conv2d` does not need
 * it: with the tape on and an activation it falls back to separate ops, and
 * it carries its own gradient otherwise.)
 *
 * Supports NHWC, activation `'linear'` or `'relu'`, a bias of shape
 * `[outChannels]` (or none); no PReLU / leaky-ReLU weights. With
 * z = conv(x, w) + b and y = act(z): dz = dy ⊙ [y > 0] for ReLU (the
 * convention of tfjs's own Relu gradient, 0 at 0; on wasm one pass of
 * `SegReluGrad`), dz = dy otherwise;
 * db = Σ dz over batch, rows and columns; dx and dw as the Conv2D gradient
 * ({@link conv2dGradConfig}), each computed only when asked for.
 */
export const fusedConv2dGradConfig: tf.GradConfig = {
  kernelName: tf.FusedConv2D,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x4, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const fused = attrs as unknown as tf.FusedConv2DAttrs;
    const { activation } = fused;
    const info = nhwcConv2DInfo('FusedConv2D gradient', x4, filter, fused);
    assertActivation('FusedConv2D gradient', activation);
    const dz = activationGrad(activation, dy as tf.Tensor, y) as tf.Tensor4D;
    return {
      x: () => conv2dInputGrad(dz, filter, x4.shape, info),
      filter: () => conv2dFilterGrad(x4, dz, info),
      bias: () => biasGrad(dz),
    };
  },
};

/**
 * Σ dz over batch, rows and columns, `[o]`. On wasm with SIMD, the
 * `SegColSum` kernel (gradients/wasm/matmul.wat) summing the rows of dz as
 * an `[n, o]` matrix in place: at 120×90 pixels, 0.039 ms for 16 channels
 * and 0.037 for 2, against 1.45 and 0.28 for the product below and 0.19 and
 * 0.12 for that product by `SegMatMul` (alternated, load 1.7–2.0;
 * `bench/matmul.ts`). Otherwise on wasm as the product
 * 1ᵀ·dz (`[1, n]·[n, o]`): its Sum over outer axes transposes dz first;
 * measured at 120×90×16 (load 1.7), 0.20 ms against 0.52 ms.
 */
function biasGrad(dz: tf.Tensor4D): tf.Tensor {
  if (tf.getBackend() !== 'wasm') return tf.sum(dz, [0, 1, 2]);
  const [b, h, w, o] = dz.shape;
  const n = b * h * w;
  const flat = tf.reshape(dz, [n, o]) as tf.Tensor2D;
  return segColSum(flat) ?? tf.reshape(tf.matMul(tf.ones([1, n]), flat), [o]);
}
