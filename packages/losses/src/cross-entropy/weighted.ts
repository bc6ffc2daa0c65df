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
 * gives 0 and is left out of the `'mean'` reduction. Forward and backward
 * (`m_p (softmax − onehot)`) run on typed arrays: only the weighted pixels
 * cost anything, and the backward reuses the forward's exponentials.
 */
export function weightedCrossEntropy(
  logits: tf.Tensor,
  z: Float32Array,
  dims: Dims,
  labels: Int32Array,
  mask: Float32Array | null,
  reduction: Reduction,
): tf.Tensor {
  const { n, h, w, k } = dims;
  const hw = h * w;
  // Per pixel its weight m_p / M_n (0 when unlabelled or in an example of total weight 0).
  const weight = new Float32Array(n * hw);
  // The forward's exp(z_p − max) (float32) and their sum, which the gradient reuses.
  const exps = new Float32Array(n * hw * k);
  const sums = new Float64Array(n * hw);
  const values = new Float32Array(n);
  let present = 0;
  for (let b = 0; b < n; b++) {
    let total = 0;
    for (let p = b * hw; p < (b + 1) * hw; p++) {
      if (labels[p]! >= 0) total += mask ? mask[p]! : 1;
    }
    if (total <= 0) continue;
    present++;
    let loss = 0;
    for (let p = b * hw; p < (b + 1) * hw; p++) {
      const y = labels[p]!;
      const m = y >= 0 ? (mask ? mask[p]! : 1) / total : 0;
      if (m === 0) continue;
      weight[p] = m;
      // −log softmax(z_p)[y] = logsumexp(z_p) − z_p[y], stable
      const o = p * k;
      let mx = z[o]!;
      for (let c = 1; c < k; c++) mx = Math.max(mx, z[o + c]!);
      let se = 0;
      for (let c = 0; c < k; c++) {
        const e = Math.exp(z[o + c]! - mx);
        exps[o + c] = e;
        se += e;
      }
      sums[p] = se;
      // (z_y − max) first: mx + log(se) − z_y loses log(se) when |z| ≫ 1 (3e38 + 1.1 − 3e38 = 0)
      loss += m * (Math.log(se) - (z[o + y]! - mx));
    }
    values[b] = loss;
  }
  // The input was read above (as `z`); only its gradient is produced here:
  // dy_n · m_p · (softmax(z_p) − onehot(y_p)) on the weighted pixels, 0 elsewhere.
  const lossFn = tf.customGrad(() => {
    const gradFunc = (dy: tf.Tensor): tf.Tensor => {
      const dyv = dy.dataSync();
      const g = new Float32Array(n * hw * k);
      for (let p = 0; p < n * hw; p++) {
        const m = weight[p]!;
        if (m === 0) continue;
        const c0 = dyv[Math.floor(p / hw)]! * m;
        const o = p * k;
        const se = sums[p]!;
        for (let c = 0; c < k; c++) g[o + c] = (c0 * exps[o + c]!) / se;
        g[o + labels[p]!] = g[o + labels[p]!]! - c0;
      }
      return tf.tensor4d(g, [n, h, w, k]);
    };
    return { value: tf.tensor1d(values), gradFunc };
  });
  return tf.tidy(() => reduceLoss(lossFn(logits) as tf.Tensor1D, reduction, present));
}
