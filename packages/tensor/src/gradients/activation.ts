import * as tf from '@tensorflow/tfjs-core';
import { SegValueError } from '../errors.js';
import { segReluGrad } from './wasm/matmul.js';

/** The activations the fused kernels (`fusedConv2d`, `fusedMatMul`) run and differentiate. */
export type FusedActivation = 'linear' | 'relu';

/** Throws a SegValueError naming `fn` unless `activation` is `'linear'` or `'relu'`. */
export function assertActivation(
  fn: string,
  activation: unknown,
): asserts activation is FusedActivation {
  if (activation !== 'linear' && activation !== 'relu') {
    throw new SegValueError(
      `${fn}: activation is ${JSON.stringify(activation)}, expected 'linear' or 'relu'`,
    );
  }
}

/**
 * `dy · step(x)`, a ReLU's gradient (tfjs's Relu gradient, 0 at 0, −0 and
 * NaN as tfjs gives them): one pass of `SegReluGrad` on wasm, tfjs's
 * `mul(dy, cast(step(x)))` elsewhere. `x` may be the ReLU's input or output.
 */
export function reluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return segReluGrad(dy, x) ?? tf.mul(dy, tf.cast(tf.step(x), 'float32'));
}

/** The gradient before `activation` of y = act(z), given dy and y: {@link reluGrad} for ReLU, dy itself for linear. */
export function activationGrad(
  activation: FusedActivation,
  dy: tf.Tensor,
  y: tf.Tensor,
): tf.Tensor {
  return activation === 'relu' ? reluGrad(dy, y) : dy;
}
