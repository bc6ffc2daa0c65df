/**
 * Input checks shared by every loss: shapes, dtypes, finite values, the
 * simplex, label ranges. Each check throws a `@seg/tensor` error whose
 * message names the function, the argument, what was expected and what came.
 */
import {
  assertFinite,
  assertLiveTensor,
  assertNumber,
  formatShape,
  SegRangeError,
  SegShapeError,
  SegValueError,
} from '@seg/tensor';
import type * as tf from '@tensorflow/tfjs-core';

/** How per-example values are combined. */
export type Reduction = 'none' | 'mean' | 'sum';

/** Option shared by every loss. */
export interface ReductionOptions {
  /**
   * `'none'`: one value per example, shape `[N]`; `'mean'` / `'sum'`: a
   * scalar over the batch.
   * @default 'none'
   */
  reduction?: Reduction;
}

/** The tolerance on `Σ_k S_p[k] = 1` used when probabilities are checked. */
export const SIMPLEX_TOLERANCE = 1e-3;

/** Checks and returns the reduction option. */
export function checkReduction(fn: string, reduction: unknown): Reduction {
  if (reduction === undefined) return 'none';
  if (reduction !== 'none' && reduction !== 'mean' && reduction !== 'sum') {
    throw new SegValueError(
      `${fn}: reduction is ${JSON.stringify(reduction)}, expected 'none', 'mean' or 'sum'`,
    );
  }
  return reduction;
}

/** Batched dimensions of an `[N,H,W,K]` tensor. */
export interface Dims {
  n: number;
  h: number;
  w: number;
  k: number;
}

/** {@link assertLiveTensor}, narrowing `t` to a tf.Tensor. */
export function checkTensor(fn: string, arg: string, t: unknown): asserts t is tf.Tensor {
  assertLiveTensor(fn, arg, t);
}

/** Checks an `[N,H,W,K]` float tensor with K ≥ `minK` and returns its dimensions. */
export function checkScores(fn: string, arg: string, t: unknown, minK = 2): Dims {
  checkTensor(fn, arg, t);
  if (t.rank !== 4) {
    throw new SegShapeError(`${fn}: ${arg} has shape ${formatShape(t.shape)}, expected [N,H,W,K]`);
  }
  if (t.dtype !== 'float32') {
    throw new SegShapeError(`${fn}: ${arg} has dtype ${t.dtype}, expected float32`);
  }
  const [n, h, w, k] = t.shape as [number, number, number, number];
  if (n < 1 || h < 1 || w < 1) {
    throw new SegShapeError(
      `${fn}: ${arg} has shape ${formatShape(t.shape)}, expected N, H, W ≥ 1`,
    );
  }
  if (k < minK) {
    throw new SegShapeError(
      `${fn}: ${arg} has shape ${formatShape(t.shape)}, expected K ≥ ${minK} labels in the last axis`,
    );
  }
  return { n, h, w, k };
}

/** Checks that `t` has exactly `expected` as shape (a shape mismatch names both). */
export function checkShape(
  fn: string,
  arg: string,
  t: unknown,
  expected: readonly number[],
  dtypes: readonly string[],
): tf.Tensor {
  checkTensor(fn, arg, t);
  const same = t.rank === expected.length && t.shape.every((s, i) => s === expected[i]);
  if (!same) {
    throw new SegShapeError(
      `${fn}: ${arg} has shape ${formatShape(t.shape)}, expected ${formatShape(expected)}`,
    );
  }
  if (!dtypes.includes(t.dtype)) {
    throw new SegShapeError(`${fn}: ${arg} has dtype ${t.dtype}, expected ${dtypes.join(' or ')}`);
  }
  return t;
}

/** Reads a float tensor and checks that every entry is finite. */
export function readFinite(fn: string, arg: string, t: tf.Tensor): Float32Array {
  const data = t.dataSync() as Float32Array;
  assertFinite(fn, arg, data);
  return data;
}

/**
 * Reads `[N,H,W,K]` probabilities and checks that they are finite, ≥ 0 and
 * sum to 1 (± `tolerance`) at every pixel.
 */
export function readProbs(
  fn: string,
  arg: string,
  t: tf.Tensor,
  dims: Dims,
  tolerance = SIMPLEX_TOLERANCE,
): Float32Array {
  const data = t.dataSync() as Float32Array;
  // One pass when all is well; the checks below find the first bad entry for the message.
  if (onSimplex(data, dims.k, tolerance)) return data;
  assertFinite(fn, arg, data);
  const { h, w, k } = dims;
  const pixels = data.length / k;
  for (let p = 0; p < pixels; p++) {
    let s = 0;
    for (let c = 0; c < k; c++) {
      const v = data[p * k + c]!;
      if (v < 0) {
        throw new SegValueError(`${fn}: ${arg}[${p * k + c}] is ${v}, expected a probability ≥ 0`);
      }
      s += v;
    }
    if (Math.abs(s - 1) > tolerance) {
      const n = Math.floor(p / (h * w));
      const y = Math.floor((p % (h * w)) / w);
      const x = p % w;
      throw new SegValueError(
        `${fn}: ${arg} at example ${n}, pixel (y=${y}, x=${x}) sums to ${s}, expected 1 (±${tolerance})`,
      );
    }
  }
  return data;
}

/**
 * The same test from row statistics computed elsewhere (the dense losses get
 * them from the lattice's pass over the values): the smallest entry (NaN if
 * any is NaN) and every row's sum.
 */
export function statsOnSimplex(
  min: number,
  rowSums: Float32Array,
  tolerance = SIMPLEX_TOLERANCE,
): boolean {
  // false for NaN, −∞ and negatives; +∞ makes its row's sum infinite
  if (!(min >= 0)) return false;
  for (let p = 0; p < rowSums.length; p++) {
    // false for NaN and ±Infinity too
    if (!(Math.abs(rowSums[p]! - 1) <= tolerance)) return false;
  }
  return true;
}

/** True when every row of k entries is ≥ 0, finite and sums to 1 (± `tolerance`). */
function onSimplex(data: Float32Array, k: number, tolerance: number): boolean {
  const size = data.length;
  for (let o = 0; o < size; o += k) {
    let s = 0;
    const end = o + k;
    for (let i = o; i < end; i++) {
      const v = data[i]!;
      // false for NaN, negatives and +Infinity
      if (!(v >= 0 && v < Infinity)) return false;
      s += v;
    }
    if (!(Math.abs(s - 1) <= tolerance)) return false;
  }
  return true;
}

/** Reads an `[N,H,W,3]` image and checks that its values are finite and in [0, 255]. */
export function readImage(fn: string, arg: string, t: tf.Tensor): Float32Array {
  const data = Float32Array.from(t.dataSync());
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!(v >= 0 && v <= 255)) {
      throw new SegValueError(`${fn}: ${arg}[${i}] is ${v}, expected a value in [0, 255]`);
    }
  }
  return data;
}

/** Reads int32 labels and checks that each is -1 (unlabelled) or in `[0, k-1]`. */
export function readLabels(fn: string, arg: string, t: tf.Tensor, k: number): Int32Array {
  const data = t.dataSync() as Int32Array;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < -1 || v >= k) {
      throw new SegRangeError(
        `${fn}: ${arg}[${i}] is ${v}, expected -1 (unlabelled) or a label in [0, ${k - 1}]`,
      );
    }
  }
  return data;
}

/** Checks a positive number option (σ's, scales). */
export function checkPositive(fn: string, arg: string, value: number, hi = Infinity): void {
  assertNumber(fn, arg, value, Number.MIN_VALUE, hi);
}
