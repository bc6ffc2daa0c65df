/**
 * Momentum class centroids of the large-margin loss, as explicit state in
 * the optax style: {@link initMarginState} makes it, {@link updateMarginState}
 * returns the next one. The state is a plain JSON-serializable object.
 */
import { assertInt, assertObject, optionsObject, SegShapeError, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import {
  checkFiniteTensor,
  checkLabels,
  checkMatrix,
  checkOption,
  classCounts,
  oneHotRows,
} from './check.js';

/**
 * Class centroids kept by momentum (Nguyen et al., arXiv 2405.18499):
 * `m_c ← (1−μ)·mean_batch(f | c) + μ·m_c`, and `m_c ← mean_batch(f | c)`
 * the first time class c is seen. Plain data: `JSON.stringify` /
 * `JSON.parse` round-trips it.
 */
export interface MarginState {
  /** Number of classes K. */
  numClasses: number;
  /** Feature size D. */
  dim: number;
  /** μ, the weight of the previous centroid in the momentum update. */
  momentum: number;
  /** `K·D` centroid coordinates, class-major (`[c*D + d]`); 0 for a class not seen yet. */
  centroids: number[];
  /** Per class, the number of updates in which it was present (0: never seen, no centroid yet). */
  seen: number[];
}

/** Options of {@link initMarginState}. */
export interface MarginStateOptions {
  /**
   * μ in `m_c ← (1−μ)·batch mean + μ·m_c`, in `[0, 1)`.
   * @default 0.99 (the reference implementation's)
   */
  momentum?: number;
}

/**
 * A fresh centroid state: K classes of D-dimensional features, none seen yet.
 *
 * @param numClasses K ≥ 2.
 * @param dim D ≥ 1, the size of the feature layer.
 * @throws SegValueError on a bad K, D or momentum.
 *
 * @example
 * let state = initMarginState(10, 30);           // μ = 0.99
 * // each training step: loss with the state, then
 * state = updateMarginState(state, features, labels);
 */
export function initMarginState(
  numClasses: number,
  dim: number,
  options: MarginStateOptions = {},
): MarginState {
  const fn = 'initMarginState';
  options = optionsObject(fn, options);
  assertInt(fn, 'numClasses', numClasses, 2);
  assertInt(fn, 'dim', dim, 1);
  const momentum = checkOption(fn, 'options.momentum', options.momentum ?? 0.99, 0, 1);
  if (momentum === 1) {
    throw new SegValueError(`${fn}: options.momentum is 1, expected a number in [0, 1)`);
  }
  return {
    numClasses,
    dim,
    momentum,
    centroids: new Array<number>(numClasses * dim).fill(0),
    seen: new Array<number>(numClasses).fill(0),
  };
}

/** Checks a {@link MarginState} against K classes and feature size D. */
export function checkState(fn: string, state: unknown, k: number, d: number): MarginState {
  assertObject(fn, 'state', state);
  const s = state as MarginState;
  const ok =
    Array.isArray(s.centroids) &&
    Array.isArray(s.seen) &&
    s.centroids.length === s.numClasses * s.dim &&
    s.seen.length === s.numClasses &&
    typeof s.momentum === 'number' &&
    s.momentum >= 0 &&
    s.momentum < 1;
  if (!ok) {
    throw new SegValueError(`${fn}: state is not a MarginState (make one with initMarginState)`);
  }
  if (s.numClasses !== k || s.dim !== d) {
    throw new SegShapeError(
      `${fn}: state has ${s.numClasses} classes of dim ${s.dim}, expected ${k} classes of dim ${d}`,
    );
  }
  return s;
}

/**
 * Per-class batch sums `Mᵀ·F` of features `[N,D]` given one-hot rows `m`
 * `[N,K]`, as a `[K,D]` tensor (the caller tidies).
 */
export function classSums(features: tf.Tensor2D, m: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(m, features, true, false);
}

/**
 * The next centroid state after a batch: for every class present in
 * `labels`, `m_c ← (1−μ)·mean(f | c) + μ·m_c` (or the batch mean the first
 * time); classes absent from the batch, and unlabelled samples (−1), leave
 * the centroids unchanged. Returns a new object; `state` is not modified.
 * Reads the batch means once (`[K,D]`); makes no tensors that outlive the call.
 *
 * @param state from {@link initMarginState} or a previous update.
 * @param features `[N,D]` float32, the feature layer's output for the batch.
 * @param labels `[N]` int32 in `[0, K−1]`, or −1 for unlabelled.
 * @throws SegShapeError on shapes or dtypes that do not match the state,
 * SegRangeError on a label out of range, SegValueError on NaN / infinite features.
 */
export function updateMarginState(
  state: MarginState,
  features: tf.Tensor,
  labels: tf.Tensor,
): MarginState {
  const fn = 'updateMarginState';
  const [n, d] = checkMatrix(fn, 'features', features);
  assertObject(fn, 'state', state);
  const k = (state as MarginState).numClasses;
  const s = checkState(fn, state, k, d);
  const lab = checkLabels(fn, labels, n, k);
  checkFiniteTensor(fn, 'features', features);
  const counts = classCounts(lab, k);
  const sums = tf.tidy(() =>
    classSums(features as tf.Tensor2D, tf.tensor2d(oneHotRows(lab, k), [n, k])).dataSync(),
  );
  const centroids = s.centroids.slice();
  const seen = s.seen.slice();
  const mu = s.momentum;
  for (let c = 0; c < k; c++) {
    const count = counts[c]!;
    if (count === 0) continue;
    for (let j = 0; j < d; j++) {
      const mean = sums[c * d + j]! / count;
      const old = centroids[c * d + j]!;
      centroids[c * d + j] = seen[c]! > 0 ? (1 - mu) * mean + mu * old : mean;
    }
    seen[c]!++;
  }
  return { numClasses: k, dim: d, momentum: mu, centroids, seen };
}
