/** The `reduction` option of every loss. */
import * as tf from '@tensorflow/tfjs-core';
import type { Reduction } from './validate.js';

/**
 * Combines per-example values `[N]`: `'none'` returns them, `'sum'` adds
 * them, `'mean'` divides the sum by `count` (the number of examples that
 * take part; 0 gives a mean of 0).
 */
export function reduceLoss(
  perExample: tf.Tensor1D,
  reduction: Reduction,
  count?: number,
): tf.Tensor {
  if (reduction === 'none') return perExample;
  const total = tf.sum(perExample);
  if (reduction === 'sum') return total;
  const n = count ?? perExample.shape[0];
  return n > 0 ? tf.div(total, tf.scalar(n)) : tf.mul(total, tf.scalar(0));
}
