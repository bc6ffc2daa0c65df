/**
 * Input checks of the large-margin loss, its centroid state and its metrics:
 * features `[N,D]`, labels `[N]`, the classifier `{ weight: [D,K], bias: [K] }`.
 */
import { assertFinite, assertObject, formatShape, SegShapeError, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { checkTensor, readLabels } from '../validate.js';

/** The last linear layer `z = f·W + b` that follows the feature layer. */
export interface LinearClassifier {
  /** `[D,K]` float32: feature size D, K classes (the layout of `@seg/dense-conv`'s `dense` weight). */
  weight: tf.Tensor;
  /** `[K]` float32. */
  bias: tf.Tensor;
}

/** Checks a float32 `[N,D]` tensor with N, D ≥ 1 and returns `[N, D]`. */
export function checkMatrix(fn: string, arg: string, t: unknown): [number, number] {
  checkTensor(fn, arg, t);
  if (t.rank !== 2 || t.shape[0]! < 1 || t.shape[1]! < 1) {
    throw new SegShapeError(
      `${fn}: ${arg} has shape ${formatShape(t.shape)}, expected [N,D] with N, D ≥ 1`,
    );
  }
  if (t.dtype !== 'float32') {
    throw new SegShapeError(`${fn}: ${arg} has dtype ${t.dtype}, expected float32`);
  }
  return [t.shape[0]!, t.shape[1]!];
}

/**
 * Throws a SegValueError naming the first NaN or infinite entry of `t`: one
 * reduction on the backend when all is well, the values are read only to
 * name the bad entry.
 */
export function checkFiniteTensor(fn: string, arg: string, t: tf.Tensor): void {
  const ok = tf.tidy(() => tf.all(tf.isFinite(t)).dataSync()[0]);
  if (!ok) assertFinite(fn, arg, t.dataSync());
}

/** Checks the classifier against the features' size `d` and returns the number of classes K. */
export function checkClassifier(fn: string, params: unknown, d: number): number {
  assertObject(fn, 'params', params);
  const { weight, bias } = params as LinearClassifier;
  checkTensor(fn, 'params.weight', weight);
  if (weight.rank !== 2 || weight.shape[1]! < 2) {
    throw new SegShapeError(
      `${fn}: params.weight has shape ${formatShape(weight.shape)}, expected [D,K] with K ≥ 2 classes`,
    );
  }
  const k = weight.shape[1]!;
  if (weight.shape[0] !== d) {
    throw new SegShapeError(
      `${fn}: params.weight has shape ${formatShape(weight.shape)}, expected [${d},K] (features have size D = ${d})`,
    );
  }
  checkTensor(fn, 'params.bias', bias);
  if (bias.rank !== 1 || bias.shape[0] !== k) {
    throw new SegShapeError(
      `${fn}: params.bias has shape ${formatShape(bias.shape)}, expected [${k}]`,
    );
  }
  for (const [arg, t] of [
    ['params.weight', weight],
    ['params.bias', bias],
  ] as const) {
    if (t.dtype !== 'float32')
      throw new SegShapeError(`${fn}: ${arg} has dtype ${t.dtype}, expected float32`);
    checkFiniteTensor(fn, arg, t);
  }
  return k;
}

/** Checks `[N]` int32 labels (−1 unlabelled, else in `[0, k−1]`) and returns them. */
export function checkLabels(fn: string, labels: unknown, n: number, k: number): Int32Array {
  checkTensor(fn, 'labels', labels);
  if (labels.rank !== 1 || labels.shape[0] !== n) {
    throw new SegShapeError(
      `${fn}: labels has shape ${formatShape(labels.shape)}, expected [${n}]`,
    );
  }
  if (labels.dtype !== 'int32') {
    throw new SegShapeError(`${fn}: labels has dtype ${labels.dtype}, expected int32`);
  }
  return readLabels(fn, 'labels', labels, k);
}

/** One row per sample, K columns: 1 in the sample's class, a zero row when unlabelled. */
export function oneHotRows(labels: Int32Array, k: number): Float32Array {
  const m = new Float32Array(labels.length * k);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (c >= 0) m[i * k + c] = 1;
  }
  return m;
}

/** Samples per class. */
export function classCounts(labels: Int32Array, k: number): Float64Array {
  const counts = new Float64Array(k);
  for (const c of labels) if (c >= 0) counts[c]!++;
  return counts;
}

/** Throws a SegValueError unless `value` is a finite number in `[lo, hi]`. */
export function checkOption(
  fn: string,
  arg: string,
  value: unknown,
  lo: number,
  hi = Infinity,
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < lo || value > hi) {
    const range = hi < Infinity ? `in [${lo}, ${hi}]` : `≥ ${lo}`;
    throw new SegValueError(`${fn}: ${arg} is ${String(value)}, expected a finite number ${range}`);
  }
  return value;
}
