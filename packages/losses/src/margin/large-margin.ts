/**
 * The large-margin discriminative loss (Nguyen et al., arXiv 2405.18499;
 * methods.md §5): cross-entropy plus λ·(α·compactness + β·margin + γ·centroid
 * norm) on a feature layer followed by a linear classifier.
 */
import { optionsObject, SegShapeError, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import {
  checkClassifier,
  checkFiniteTensor,
  checkLabels,
  checkMatrix,
  checkOption,
  classCounts,
  type LinearClassifier,
  oneHotRows,
} from './check.js';
import { checkState, classSums, type MarginState } from './state.js';

/** How the margin term combines a class's distances to its K−1 decision boundaries. */
export type MarginAggregation = 'max' | 'mean';

/** Weights and thresholds of {@link largeMarginLoss} (defaults: the reference implementation's). */
export interface LargeMarginOptions {
  /** λ, the weight of the whole large-margin part against the cross-entropy. @default 1 */
  lambda?: number;
  /** α, the weight of the compactness term. @default 1 */
  alpha?: number;
  /** β, the weight of the margin term. @default 1 */
  beta?: number;
  /** γ, the weight of the centroid-norm regulariser. @default 0.001 */
  gamma?: number;
  /** δ_var: distances to the centroid below it cost nothing (feature units). @default 0.5 */
  deltaVar?: number;
  /**
   * δ_dist: the wanted distance of each class's batch-mean feature to every
   * decision boundary (feature units). The reference's class default is 1.5,
   * its CIFAR-10 training script uses 6.0.
   * @default 1.5
   */
  deltaDist?: number;
  /**
   * `'max'`: a class pays for its closest boundary only (the paper's);
   * `'mean'`: the hinge is averaged over the K−1 boundaries.
   * @default 'max'
   */
  aggregation?: MarginAggregation;
}

/** The terms of the loss, scalar tensors (the caller owns them). */
export interface LargeMarginTerms {
  /** L_var, the compactness term (before α). */
  compactness: tf.Scalar;
  /** L_dist, the margin term (before β). */
  margin: tf.Scalar;
  /** L_reg, the mean centroid norm (before γ). */
  regularizer: tf.Scalar;
  /** `λ·(α·L_var + β·L_dist + γ·L_reg)`, what is added to the cross-entropy. */
  total: tf.Scalar;
}

interface Resolved {
  lambda: number;
  alpha: number;
  beta: number;
  gamma: number;
  deltaVar: number;
  deltaDist: number;
  aggregation: MarginAggregation;
}

function resolve(fn: string, options: LargeMarginOptions): Resolved {
  options = optionsObject(fn, options);
  const aggregation = options.aggregation ?? 'max';
  if (aggregation !== 'max' && aggregation !== 'mean') {
    throw new SegValueError(
      `${fn}: options.aggregation is ${JSON.stringify(aggregation)}, expected 'max' or 'mean'`,
    );
  }
  return {
    lambda: checkOption(fn, 'options.lambda', options.lambda ?? 1, 0),
    alpha: checkOption(fn, 'options.alpha', options.alpha ?? 1, 0),
    beta: checkOption(fn, 'options.beta', options.beta ?? 1, 0),
    gamma: checkOption(fn, 'options.gamma', options.gamma ?? 0.001, 0),
    deltaVar: checkOption(fn, 'options.deltaVar', options.deltaVar ?? 0.5, 0),
    deltaDist: checkOption(fn, 'options.deltaDist', options.deltaDist ?? 1.5, 0),
    aggregation,
  };
}

/** Floor under squared norms before the square root: keeps the gradient finite at 0. */
const TINY = 1e-12;

/** `‖x‖` along `axis`, with a finite (zero) gradient where x = 0. */
function safeNorm(x: tf.Tensor, axis: number): tf.Tensor {
  return tf.sqrt(tf.maximum(tf.sum(tf.square(x), axis), TINY));
}

interface Checked {
  n: number;
  d: number;
  k: number;
  labels: Int32Array;
  state: MarginState;
}

function checkAll(
  fn: string,
  features: unknown,
  labels: unknown,
  params: unknown,
  state: unknown,
): Checked {
  const [n, d] = checkMatrix(fn, 'features', features);
  const k = checkClassifier(fn, params, d);
  const lab = checkLabels(fn, labels, n, k);
  const s = checkState(fn, state, k, d);
  checkFiniteTensor(fn, 'features', features as tf.Tensor);
  return { n, d, k, labels: lab, state: s };
}

/** The terms on checked inputs (inside the caller's tidy). */
function terms(
  features: tf.Tensor2D,
  params: LinearClassifier,
  c: Checked,
  o: Resolved,
): LargeMarginTerms {
  const { n, d, k, labels, state } = c;
  const counts = classCounts(labels, k);
  const present = Float32Array.from(counts, (v) => (v > 0 ? 1 : 0));
  const numPresent = present.reduce((a, b) => a + b, 0);
  if (numPresent === 0) {
    // no labelled sample: zero, still connected to the inputs so that gradients are zeros
    const zero = tf.mul(
      tf.add(tf.sum(features), tf.add(tf.sum(params.weight), tf.sum(params.bias))),
      0,
    );
    return {
      compactness: zero as tf.Scalar,
      margin: zero as tf.Scalar,
      regularizer: zero as tf.Scalar,
      total: zero as tf.Scalar,
    };
  }
  const m = tf.tensor2d(oneHotRows(labels, k), [n, k]);
  const inv = tf.tensor2d(
    Float32Array.from(counts, (v) => (v > 0 ? 1 / v : 0)),
    [k, 1],
  );
  const presentT = tf.tensor1d(present);
  // batch means [K,D] (zero rows for absent classes), differentiable
  const means = tf.mul(classSums(features, m), inv);
  // centroids used by compactness and the regulariser: the momentum update
  // applied to this batch, with the gradient through the batch mean (as the
  // reference implementation); the batch mean itself for a class not seen yet
  const mu = state.momentum;
  const keep = Float32Array.from(state.seen, (v) => (v > 0 ? mu : 0));
  const old = tf.tensor2d(Float32Array.from(state.centroids), [k, d]);
  const keepT = tf.tensor2d(keep, [k, 1]);
  const centroids = tf.add(tf.mul(means, tf.sub(1, keepT)), tf.mul(old, keepT));

  // L_var = mean_c mean_{i∈c} max(0, ‖f_i − m_c‖ − δ_var)²
  const dist = safeNorm(tf.sub(features, tf.matMul(m, centroids)), 1);
  const hinge = tf.square(tf.relu(tf.sub(dist, o.deltaVar)));
  const perClassVar = tf.mul(
    tf.reshape(tf.matMul(m, tf.reshape(hinge, [n, 1]), true, false), [k]),
    tf.reshape(inv, [k]),
  );
  const compactness = tf.div(tf.sum(perClassVar), numPresent) as tf.Scalar;

  // L_dist: z = W·m̄_c + b; d_j = (z_c − z_j)/‖w_c − w_j‖; hinge max(0, δ − d_j), j ≠ c
  const z = tf.add(tf.matMul(means, params.weight), params.bias); // [K,K], row c: class c's mean
  const eye = tf.eye(k);
  const zc = tf.sum(tf.mul(z, eye), 1, true); // [K,1]
  const wt = tf.transpose(params.weight); // [K,D]
  const wdiff = tf.sub(tf.reshape(wt, [k, 1, d]), tf.reshape(wt, [1, k, d]));
  const wnorm = safeNorm(wdiff, 2); // [K,K], TINY-floored on the diagonal
  const signed = tf.div(tf.sub(zc, z), wnorm);
  const offDiag = tf.sub(1, eye);
  const marginHinge = tf.mul(tf.relu(tf.sub(o.deltaDist, signed)), offDiag);
  const perClass =
    o.aggregation === 'max' ? tf.max(marginHinge, 1) : tf.div(tf.sum(marginHinge, 1), k - 1);
  const margin = tf.div(tf.sum(tf.mul(perClass, presentT)), numPresent) as tf.Scalar;

  // L_reg = mean_c ‖m_c‖ over the classes present
  const regularizer = tf.div(
    tf.sum(tf.mul(safeNorm(centroids, 1), presentT)),
    numPresent,
  ) as tf.Scalar;

  const total = tf.mul(
    o.lambda,
    tf.addN([tf.mul(o.alpha, compactness), tf.mul(o.beta, margin), tf.mul(o.gamma, regularizer)]),
  ) as tf.Scalar;
  return { compactness, margin, regularizer, total };
}

/**
 * The large-margin part of the loss, term by term, for a batch of features
 * and the linear classifier that reads them (no cross-entropy: add it
 * yourself, e.g. partial cross-entropy on scribbles). See
 * {@link largeMarginLoss} for the definitions. Differentiable with respect to
 * `features`, `params.weight` and `params.bias` (tfjs autodiff, wasm and cpu);
 * runs in `tf.tidy`, the caller owns the returned scalars.
 *
 * @param features `[N,D]` float32, the feature layer's output.
 * @param labels `[N]` int32 in `[0, K−1]`, or −1 for a sample that takes no part.
 * @param params the classifier `z = f·W + b`: `weight [D,K]`, `bias [K]`.
 * @param state the centroids before this batch ({@link initMarginState}).
 * @throws SegShapeError on shapes or dtypes that do not match (a feature size
 * D other than the classifier's), SegRangeError on a label out of range,
 * SegValueError on NaN / infinite features or bad options.
 *
 * @example
 * const { total, margin } = largeMarginTerms(feats, seeds, { weight, bias }, state);
 */
export function largeMarginTerms(
  features: tf.Tensor,
  labels: tf.Tensor,
  params: LinearClassifier,
  state: MarginState,
  options: LargeMarginOptions = {},
): LargeMarginTerms {
  const fn = 'largeMarginTerms';
  const o = resolve(fn, options);
  const c = checkAll(fn, features, labels, params, state);
  return tf.tidy(
    () => terms(features as tf.Tensor2D, params, c, o) as unknown as tf.TensorContainerObject,
  ) as unknown as LargeMarginTerms;
}

/**
 * Cross-entropy plus the large-margin terms (Nguyen et al., arXiv 2405.18499):
 * `L = CE + λ·(α·L_var + β·L_dist + γ·L_reg)` on a feature layer f followed
 * by the linear classifier `z = f·W + b` whose output is `logits`.
 *
 * - CE: mean over the labelled samples of `−log softmax(logits_i)[y_i]`.
 * - Centroids `m_c = (1−μ)·mean_batch(f | c) + μ·m_c^state` (the batch mean
 *   for a class the state has not seen), differentiable through the batch
 *   mean, as in the reference implementation (HaiVyNGUYEN/margin_compact_loss,
 *   `loss_function.py`).
 * - Compactness `L_var = mean_c mean_{i∈c} max(0, ‖f_i − m_c‖ − δ_var)²`.
 * - Margin: with the batch mean `m̄_c` and `z = W·m̄_c + b`, the signed
 *   distance to the c/j boundary `d_j = (z_c − z_j)/‖w_c − w_j‖` (`w_c` is
 *   column c of `weight`), the hinge `max(0, δ_dist − d_j)` aggregated over
 *   j ≠ c by max (the paper's) or mean, averaged over the classes present.
 * - Regulariser `L_reg = mean_c ‖m_c‖` over the classes present.
 *
 * Averages run over the classes present in the batch; a batch with no
 * labelled sample gives 0. Update the state after the step with
 * {@link updateMarginState} (the loss does not change it). Works with any
 * tfjs model: with a `@seg/dense-conv` network, run the layers up to the
 * feature layer (`defineNet({ ..., output: 'feat' })` on the same params) and
 * pass the last `dense` layer's `weight` / `bias` as `params`.
 *
 * @param features `[N,D]` float32.
 * @param logits `[N,K]` float32, normally `features·weight + bias`.
 * @param labels `[N]` int32 in `[0, K−1]`, −1 for unlabelled.
 * @param params `weight [D,K]`, `bias [K]`.
 * @param state the centroids before this batch.
 * @returns a scalar tensor; runs in `tf.tidy`, the caller owns it.
 * @throws SegShapeError, SegRangeError, SegValueError as {@link largeMarginTerms},
 * and on non-finite logits.
 *
 * @example
 * let state = initMarginState(10, 30);
 * const { value, grads } = tf.variableGrads(() => {
 *   const f = features(x);                               // [N,30]
 *   const z = tf.add(tf.matMul(f, weight), bias);         // [N,10]
 *   return largeMarginLoss(f, z, y, { weight, bias }, state, { deltaDist: 1.5 });
 * });
 * state = updateMarginState(state, features(x), y);
 */
export function largeMarginLoss(
  features: tf.Tensor,
  logits: tf.Tensor,
  labels: tf.Tensor,
  params: LinearClassifier,
  state: MarginState,
  options: LargeMarginOptions = {},
): tf.Scalar {
  const fn = 'largeMarginLoss';
  const o = resolve(fn, options);
  const c = checkAll(fn, features, labels, params, state);
  const [nl, kl] = checkMatrix(fn, 'logits', logits);
  if (nl !== c.n || kl !== c.k) {
    throw new SegShapeError(
      `${fn}: logits has shape [${nl},${kl}], expected [${c.n},${c.k}] (N from features, K from params.weight)`,
    );
  }
  checkFiniteTensor(fn, 'logits', logits);
  return tf.tidy(() => {
    const t = terms(features as tf.Tensor2D, params, c, o);
    const labelled = c.labels.reduce((s, v) => s + (v >= 0 ? 1 : 0), 0);
    if (labelled === 0) return tf.add(t.total, tf.mul(tf.sum(logits), 0)) as tf.Scalar;
    const m = tf.tensor2d(oneHotRows(c.labels, c.k), [c.n, c.k]);
    const ce = tf.div(tf.neg(tf.sum(tf.mul(m, tf.logSoftmax(logits)))), labelled);
    return tf.add(ce, t.total) as tf.Scalar;
  });
}
