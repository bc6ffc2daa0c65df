/**
 * Error classes shared by every `@seg` package (also importable alone, with no
 * tfjs, as `@seg/tensor/errors`, for solvers in workers). Messages name the function, the
 * argument, what was expected and what came, e.g.
 * `alphaExpansion: unary has length 1200, expected width*height*numLabels = 1500`.
 */

/** A tensor or array has the wrong shape, length or dtype. */
export class SegShapeError extends TypeError {
  override name = 'SegShapeError';
}

/** A value is not allowed: NaN, infinite, negative where it must not be, not on the simplex... */
export class SegValueError extends TypeError {
  override name = 'SegValueError';
}

/** An integer is out of its range: a label ≥ K, an index past the end, K < 2... */
export class SegRangeError extends RangeError {
  override name = 'SegRangeError';
}

/** Formats a shape as `[2,3,4]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * Throws a {@link SegShapeError} unless `actual` equals `expected`; `null` in
 * `expected` matches any size.
 */
export function assertShape(
  fn: string,
  arg: string,
  actual: readonly number[],
  expected: readonly (number | null)[],
): void {
  const ok =
    actual.length === expected.length && expected.every((e, i) => e === null || e === actual[i]);
  if (!ok) {
    const want = `[${expected.map((e) => (e === null ? '*' : String(e))).join(',')}]`;
    throw new SegShapeError(`${fn}: ${arg} has shape ${formatShape(actual)}, expected ${want}`);
  }
}

/** Throws a {@link SegShapeError} unless `array.length === expected`. */
export function assertLength(
  fn: string,
  arg: string,
  array: ArrayLike<unknown>,
  expected: number,
  expectedText?: string,
): void {
  if (array.length !== expected) {
    const why = expectedText ? `${expectedText} = ${expected}` : String(expected);
    throw new SegShapeError(`${fn}: ${arg} has length ${array.length}, expected ${why}`);
  }
}

/** Throws a {@link SegValueError} at the first NaN or infinite entry. */
export function assertFinite(fn: string, arg: string, array: ArrayLike<number>): void {
  for (let i = 0; i < array.length; i++) {
    const v = array[i]!;
    if (!Number.isFinite(v)) {
      throw new SegValueError(`${fn}: ${arg}[${i}] is ${v}, expected a finite number`);
    }
  }
}

/** Throws a {@link SegValueError} at the first entry that is negative, NaN or infinite. */
export function assertNonNegative(fn: string, arg: string, array: ArrayLike<number>): void {
  for (let i = 0; i < array.length; i++) {
    const v = array[i]!;
    if (!(v >= 0) || v === Number.POSITIVE_INFINITY) {
      throw new SegValueError(`${fn}: ${arg}[${i}] is ${v}, expected a finite number ≥ 0`);
    }
  }
}

/** Throws a {@link SegRangeError} at the first entry outside `[lo, hi]` or not an integer. */
export function assertIntRange(
  fn: string,
  arg: string,
  array: ArrayLike<number>,
  lo: number,
  hi: number,
): void {
  for (let i = 0; i < array.length; i++) {
    const v = array[i]!;
    if (!(v >= lo && v <= hi) || !Number.isInteger(v)) {
      throw new SegRangeError(`${fn}: ${arg}[${i}] is ${v}, expected an integer in [${lo}, ${hi}]`);
    }
  }
}

/** Throws a {@link SegRangeError} unless `value` is an integer in `[lo, hi]`. */
export function assertInt(fn: string, arg: string, value: number, lo: number, hi = Infinity): void {
  if (!Number.isInteger(value) || value < lo || value > hi) {
    const range = hi === Infinity ? `≥ ${lo}` : `in [${lo}, ${hi}]`;
    throw new SegRangeError(`${fn}: ${arg} is ${value}, expected an integer ${range}`);
  }
}

/** Throws a {@link SegValueError} unless `value` is a finite number in `[lo, hi]`. */
export function assertNumber(
  fn: string,
  arg: string,
  value: number,
  lo = -Infinity,
  hi = Infinity,
): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < lo || value > hi) {
    const parts = [lo > -Infinity ? `≥ ${lo}` : '', hi < Infinity ? `≤ ${hi}` : ''].filter(Boolean);
    const range = parts.length ? ` ${parts.join(' and ')}` : '';
    throw new SegValueError(`${fn}: ${arg} is ${String(value)}, expected a finite number${range}`);
  }
}

/** Throws a {@link SegValueError} unless `value` is a non-null object. */
export function assertObject(fn: string, arg: string, value: unknown): void {
  if (typeof value !== 'object' || value === null) {
    throw new SegValueError(`${fn}: ${arg} is ${String(value)}, expected an object`);
  }
}

/** An options argument: `{}` when absent, else it must be an object ({@link assertObject}). */
export function optionsObject<T extends object>(fn: string, options: T | undefined): T {
  if (options === undefined) return {} as T;
  assertObject(fn, 'options', options);
  return options;
}

/**
 * Throws a {@link SegShapeError} unless `t` is a tensor (anything with a
 * shape, a dtype and dataSync), a {@link SegValueError} if it was disposed.
 */
export function assertLiveTensor(fn: string, arg: string, t: unknown): void {
  const ok = typeof t === 'object' && t !== null && 'shape' in t && 'dtype' in t && 'dataSync' in t;
  if (!ok) throw new SegShapeError(`${fn}: ${arg} is not a tf.Tensor`);
  if ((t as { isDisposed?: boolean }).isDisposed)
    throw new SegValueError(`${fn}: ${arg} is a disposed tf.Tensor`);
}
