/**
 * Feature-space figures of a trained classifier (Nguyen et al., arXiv
 * 2405.18499): how tight each class is around its centroid and how far each
 * centroid (and each sample) lies from the decision boundaries.
 */
import type * as tf from '@tensorflow/tfjs-core';
import {
  checkClassifier,
  checkFiniteTensor,
  checkLabels,
  checkMatrix,
  type LinearClassifier,
} from './check.js';

/** What {@link marginMetrics} returns (float64, plain arrays; NaN for a class absent from `labels`). */
export interface MarginMetrics {
  /** Per class, the mean distance `‖f_i − μ_c‖` of its samples to their mean μ_c. */
  intraClassPerClass: Float64Array;
  /** The mean of `intraClassPerClass` over the classes present. */
  intraClass: number;
  /**
   * Per class, the signed distance of its mean μ_c to the closest decision
   * boundary, `min_{j≠c} (z_c − z_j)/‖w_c − w_j‖` with `z = W·μ_c + b`
   * (negative: the centroid is classified as another class).
   */
  centroidMargin: Float64Array;
  /** The mean of `centroidMargin` over the classes present. */
  meanCentroidMargin: number;
  /**
   * Per labelled sample, in order, its signed distance to the closest
   * boundary of its true class, `min_{j≠y} (z_y − z_j)/‖w_y − w_j‖`: the
   * margin distribution (negative: misclassified).
   */
  sampleMargins: Float64Array;
}

/**
 * Feature-space metrics of a set (e.g. the test set) for a feature layer
 * followed by the linear classifier `z = f·W + b`. Reads the tensors once
 * and computes in float64; makes no tensors that outlive the call.
 *
 * @param features `[N,D]` float32.
 * @param labels `[N]` int32 in `[0, K−1]`, −1 for a sample left out.
 * @param params `weight [D,K]`, `bias [K]`.
 * @throws SegShapeError / SegRangeError / SegValueError as `largeMarginLoss`.
 *
 * @example
 * const m = marginMetrics(testFeatures, testLabels, { weight, bias });
 * console.log(m.intraClass, m.meanCentroidMargin);
 */
export function marginMetrics(
  features: tf.Tensor,
  labels: tf.Tensor,
  params: LinearClassifier,
): MarginMetrics {
  const fn = 'marginMetrics';
  const [n, d] = checkMatrix(fn, 'features', features);
  const k = checkClassifier(fn, params, d);
  const lab = checkLabels(fn, labels, n, k);
  checkFiniteTensor(fn, 'features', features);
  const f = features.dataSync();
  const w = params.weight.dataSync();
  const b = params.bias.dataSync();
  return metricsFromArrays(f, lab, w, b, n, d, k);
}

/** {@link marginMetrics} on plain arrays (features `[N,D]`, weight `[D,K]`, bias `[K]`), unchecked. */
export function metricsFromArrays(
  f: ArrayLike<number>,
  lab: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  n: number,
  d: number,
  k: number,
): MarginMetrics {
  const mean = new Float64Array(k * d);
  const count = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const c = lab[i]!;
    if (c < 0) continue;
    count[c]!++;
    for (let j = 0; j < d; j++) mean[c * d + j]! += f[i * d + j]!;
  }
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) mean[c * d + j]! /= count[c]! || 1;
  const spread = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const c = lab[i]!;
    if (c < 0) continue;
    let s = 0;
    for (let j = 0; j < d; j++) s += (f[i * d + j]! - mean[c * d + j]!) ** 2;
    spread[c]! += Math.sqrt(s);
  }
  // ‖w_c − w_j‖ for every pair
  const wn = new Float64Array(k * k);
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += (w[t * k + c]! - w[t * k + j]!) ** 2;
      wn[c * k + j] = Math.sqrt(s);
    }
  }
  const z = new Float64Array(k);
  const closest = (x: (t: number) => number, c: number): number => {
    for (let j = 0; j < k; j++) {
      let s = b[j]!;
      for (let t = 0; t < d; t++) s += x(t) * w[t * k + j]!;
      z[j] = s;
    }
    let best = Infinity;
    for (let j = 0; j < k; j++)
      if (j !== c) best = Math.min(best, (z[c]! - z[j]!) / wn[c * k + j]!);
    return best;
  };
  const intraClassPerClass = new Float64Array(k).fill(Number.NaN);
  const centroidMargin = new Float64Array(k).fill(Number.NaN);
  let present = 0;
  let intra = 0;
  let cm = 0;
  for (let c = 0; c < k; c++) {
    if (count[c] === 0) continue;
    present++;
    intraClassPerClass[c] = spread[c]! / count[c]!;
    centroidMargin[c] = closest((t) => mean[c * d + t]!, c);
    intra += intraClassPerClass[c]!;
    cm += centroidMargin[c]!;
  }
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = lab[i]!;
    if (c >= 0) samples.push(closest((t) => f[i * d + t]!, c));
  }
  return {
    intraClassPerClass,
    intraClass: present ? intra / present : Number.NaN,
    centroidMargin,
    meanCentroidMargin: present ? cm / present : Number.NaN,
    sampleMargins: Float64Array.from(samples),
  };
}
