/**
 * NT-Xent (normalized temperature-scaled cross-entropy, SimCLR) and the
 * learned loss `Δ(y, y') = 2 − 2⟨ψ(y), ψ(y')⟩` of Yang, Labeau and
 * d'Alché-Buc (arXiv 2411.11682; §6 of methods.md).
 */
import { optionsObject, SegShapeError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { checkMatrix, positiveOption } from './check.js';

/** Added under the square root of the row norm so a zero row normalizes to 0 (not NaN). */
const NORM_EPS = 1e-12;

/**
 * Rows of `z` scaled to unit Euclidean norm: `z_i / sqrt(‖z_i‖² + 1e-12)`.
 * Differentiable.
 *
 * @param z `[n,d]` float32.
 * @returns `[n,d]` float32, every (non-zero) row of norm 1.
 * @throws SegShapeError unless `z` is a float32 matrix.
 *
 * @example
 * const psi = unitRows(encoder.apply(graphs));
 */
export function unitRows(z: tf.Tensor): tf.Tensor2D {
  checkMatrix('unitRows', 'z', z);
  return normalizeRows(z as tf.Tensor2D);
}

/** {@link unitRows} without the checks. */
export function normalizeRows(z: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(z, tf.sqrt(tf.add(tf.sum(tf.square(z), 1, true), NORM_EPS))));
}

/** Options of {@link ntXentLoss}. */
export interface NtXentOptions {
  /** Temperature τ of the softmax over similarities. @default 0.2 */
  temperature?: number;
}

/**
 * NT-Xent contrastive loss of two views of a batch. With `u` the `2B` rows of
 * `[z1; z2]` scaled to unit norm and `s_ij = ⟨u_i, u_j⟩ / τ`, it is the mean
 * over the `2B` rows of `−s_{i,p(i)} + log Σ_{j≠i} exp s_ij`, where `p(i)`
 * is the other view of the same item (row `i ± B`).
 *
 * @param z1 `[B,d]` float32 embeddings of the first views (B ≥ 2).
 * @param z2 `[B,d]` float32 embeddings of the second views, row `i` the same item as `z1`'s.
 * @returns a scalar, differentiable in `z1` and `z2`.
 * @throws SegShapeError on shapes that differ or `B < 2`, SegValueError on a bad temperature.
 *
 * @example
 * const loss = ntXentLoss(encoder.apply(view1), encoder.apply(view2), { temperature: 0.2 });
 */
export function ntXentLoss(z1: tf.Tensor, z2: tf.Tensor, options: NtXentOptions = {}): tf.Scalar {
  const fn = 'ntXentLoss';
  options = optionsObject(fn, options);
  const [b, d] = checkMatrix(fn, 'z1', z1);
  const [b2, d2] = checkMatrix(fn, 'z2', z2);
  if (b2 !== b || d2 !== d) {
    throw new SegShapeError(`${fn}: z2 has shape [${b2},${d2}], expected [${b},${d}] like z1`);
  }
  if (b < 2) throw new SegShapeError(`${fn}: z1 has ${b} rows, expected at least 2`);
  const tau = positiveOption(fn, 'temperature', options.temperature, 0.2);
  return ntXent(z1 as tf.Tensor2D, z2 as tf.Tensor2D, tau);
}

/** {@link ntXentLoss} without the checks. */
export function ntXent(z1: tf.Tensor2D, z2: tf.Tensor2D, tau: number): tf.Scalar {
  return tf.tidy(() => {
    const b = z1.shape[0];
    const u1 = normalizeRows(z1);
    const u2 = normalizeRows(z2);
    const u = tf.concat([u1, u2], 0);
    // Masking the diagonal with a large negative number: exp underflows to 0.
    const mask = tf.mul(tf.eye(2 * b), 1e9);
    // An explicit transpose: tfjs-wasm's transposed products are on a slow path.
    const s = tf.sub(tf.div(tf.matMul(u, tf.transpose(u)), tau), mask);
    const lse = tf.logSumExp(s, 1);
    const pos = tf.div(tf.sum(tf.mul(u1, u2), 1), tau);
    return tf.sub(tf.mean(lse), tf.mean(pos)) as tf.Scalar;
  });
}

/**
 * The learned loss between two sets of embeddings:
 * `Δ_ij = 2 − 2⟨psiA_i, psiB_j⟩ = ‖psiA_i − psiB_j‖²` for unit rows.
 *
 * @param psiA `[n,d]` float32, unit rows (e.g. from {@link embedOutputs}).
 * @param psiB `[m,d]` float32, unit rows.
 * @returns `[n,m]` float32 in `[0, 4]` for unit rows; differentiable.
 * @throws SegShapeError on shapes that do not match.
 *
 * @example
 * const delta = learnedLoss(embedOutputs(encoder, [y]), embedOutputs(encoder, candidates)); // [1,m]
 */
export function learnedLoss(psiA: tf.Tensor, psiB: tf.Tensor): tf.Tensor2D {
  const fn = 'learnedLoss';
  const [, d] = checkMatrix(fn, 'psiA', psiA);
  checkMatrix(fn, 'psiB', psiB, d);
  return tf.tidy(() =>
    tf.sub(2, tf.mul(2, tf.matMul(psiA as tf.Tensor2D, psiB as tf.Tensor2D, false, true))),
  );
}
