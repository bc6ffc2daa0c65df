/** Argument checks shared by the structured-prediction pieces (private). */
import {
  assertInt,
  assertLiveTensor,
  assertNumber,
  formatShape,
  SegShapeError,
  SegValueError,
} from '@seg/tensor';
import type * as tf from '@tensorflow/tfjs-core';

/** A live float32 tensor of rank 2 with `cols` columns (any when null); returns `[rows, cols]`. */
export function checkMatrix(
  fn: string,
  arg: string,
  t: unknown,
  cols: number | null = null,
): [number, number] {
  assertLiveTensor(fn, arg, t);
  const x = t as tf.Tensor;
  if (x.rank !== 2 || (cols !== null && x.shape[1] !== cols)) {
    const want = cols === null ? '[n,d]' : `[n,${cols}]`;
    throw new SegShapeError(`${fn}: ${arg} has shape ${formatShape(x.shape)}, expected ${want}`);
  }
  if (x.dtype !== 'float32') {
    throw new SegShapeError(`${fn}: ${arg} has dtype ${x.dtype}, expected float32`);
  }
  return [x.shape[0]!, x.shape[1]!];
}

/** An optional positive integer option (with its default). */
export function intOption(
  fn: string,
  name: string,
  value: unknown,
  fallback: number,
  lo = 1,
): number {
  if (value === undefined) return fallback;
  assertInt(fn, `options.${name}`, value as number, lo);
  return value as number;
}

/** An optional finite number option > 0 (with its default). */
export function positiveOption(fn: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  assertNumber(fn, `options.${name}`, value as number, 0);
  if ((value as number) <= 0) {
    throw new SegValueError(`${fn}: options.${name} is ${value}, expected a finite number > 0`);
  }
  return value as number;
}

/** A function argument. */
export function checkFunction(fn: string, arg: string, f: unknown): void {
  if (typeof f !== 'function') {
    throw new SegValueError(`${fn}: ${arg} is ${String(f)}, expected a function`);
  }
}

/** A non-empty list of live tf.Variables (an encoder's or a model's weights). */
export function checkVariables(fn: string, arg: string, vars: unknown): tf.Variable[] {
  if (!Array.isArray(vars) || vars.length === 0) {
    throw new SegValueError(`${fn}: ${arg} is ${String(vars)}, expected a non-empty tf.Variable[]`);
  }
  vars.forEach((v, i) => {
    assertLiveTensor(fn, `${arg}[${i}]`, v);
    if (!(v as tf.Variable).trainable || typeof (v as tf.Variable).assign !== 'function') {
      throw new SegValueError(`${fn}: ${arg}[${i}] is not a trainable tf.Variable`);
    }
  });
  return vars as tf.Variable[];
}

/** Throws unless the encoder returned `[n, d]` float32 for `n` items. */
export function checkEmbedding(fn: string, what: string, t: unknown, n: number): number {
  assertLiveTensor(fn, what, t);
  const x = t as tf.Tensor;
  if (x.rank !== 2 || x.shape[0] !== n) {
    throw new SegShapeError(`${fn}: ${what} has shape ${formatShape(x.shape)}, expected [${n},d]`);
  }
  return x.shape[1]!;
}
