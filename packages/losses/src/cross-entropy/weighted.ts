/**
 * The cross-entropy core shared by the partial (seeds) and proposal losses:
 * a per-example weighted mean of `−log softmax(logits)[y]` over the labelled
 * pixels.
 */
import { SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { reduceLoss } from '../reduce.js';
import { checkShape, type Dims, type Reduction } from '../validate.js';

/** Reads an optional `[N,H,W]` mask of non-negative finite pixel weights. */
export function readMask(fn: string, mask: unknown, dims: Dims): Float32Array | null {
  if (mask === undefined || mask === null) return null;
  const t = checkShape(fn, 'mask', mask, [dims.n, dims.h, dims.w], ['float32', 'int32', 'bool']);
  const data = Float32Array.from(t.dataSync());
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!(v >= 0 && v < Infinity)) {
      throw new SegValueError(`${fn}: mask[${i}] is ${v}, expected a finite weight ≥ 0`);
    }
  }
  return data;
}

/**
 * `−Σ_p m_p log softmax(z_p)[y_p] / Σ_p m_p` per example, over the pixels with
 * `y_p ≥ 0` (`m_p = 1` without a mask). An example whose total weight is 0
 * gives 0 and is left out of the `'mean'` reduction.
 */
export function weightedCrossEntropy(
  logits: tf.Tensor,
  dims: Dims,
  labels: Int32Array,
  mask: Float32Array | null,
  reduction: Reduction,
): tf.Tensor {
  const { n, h, w, k } = dims;
  const hw = h * w;
  const weights = new Float32Array(n * hw * k);
  let present = 0;
  for (let b = 0; b < n; b++) {
    let total = 0;
    for (let p = b * hw; p < (b + 1) * hw; p++) {
      if (labels[p]! >= 0) total += mask ? mask[p]! : 1;
    }
    if (total <= 0) continue;
    present++;
    for (let p = b * hw; p < (b + 1) * hw; p++) {
      const y = labels[p]!;
      if (y >= 0) weights[p * k + y] = (mask ? mask[p]! : 1) / total;
    }
  }
  return tf.tidy(() => {
    const wt = tf.tensor4d(weights, [n, h, w, k]);
    const perExample = tf.neg(tf.sum(tf.mul(wt, tf.logSoftmax(logits)), [1, 2, 3])) as tf.Tensor1D;
    return reduceLoss(perExample, reduction, present);
  });
}
