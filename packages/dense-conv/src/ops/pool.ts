import { assertInt, assertShape, SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import type { Pair, PoolOp } from '../spec/types.js';

/**
 * 2-D pooling of an NHWC tensor with stride, dilation and explicit pads, on
 * ops that have kernels and gradients on both the wasm and cpu backends.
 * Padded cells never count: max ignores them, sum adds zeros, and average
 * divides by the number of in-image cells of each window.
 *
 * tfjs's own pools have no dilation, and their gradients are slow on wasm
 * (`MaxPoolGrad` ≈ 8× a forward max pool; `spaceToBatchND` around a pool
 * costs 79 ms for the transform alone of a 276×276×16 tensor, against 7 ms
 * for the pool). Two paths, with the same outputs:
 *
 * - **Recording gradients** (inside `tf.grad`, `variableGrads`, ...): every
 *   stride-1 pool, dilated or not, runs as elementwise max / add of shifted
 *   slices, separably (rows, then columns); a strided pool is the stride-1
 *   pool subsampled. Slices and elementwise ops have cheap, exact gradients.
 * - **Forward only** (no gradient tape running), max pools: tfjs's native
 *   `maxPool` (XNNPACK on wasm) on reshaped views. A dilated pass along rows
 *   is a `[k, 1]` pool of the `[n, h/d, d·w, c]` view, along columns a
 *   `[1, k]` pool of the `[n, h, w/d, d·c]` view (when d divides the size;
 *   otherwise that axis takes the slice path). The values are the same
 *   maxima, bit for bit. {@link denseForward} sizes its input so that the
 *   views apply at every layer.
 *
 * At most one of stride and dilation may exceed 1 on each axis.
 */
export function pool2d(
  x: tf.Tensor4D,
  op: PoolOp,
  size: Pair,
  stride: Pair,
  dilation: Pair,
  pads: [Pair, Pair],
): tf.Tensor4D {
  checkPoolArgs('pool2d', x, op, size, stride, dilation, pads);
  return tf.tidy(() => {
    const padded = pads[0][0] + pads[0][1] + pads[1][0] + pads[1][1] > 0;
    if (op === 'avg' && padded) {
      const sum = pool2d(x, 'sum', size, stride, dilation, pads);
      const ones = tf.ones([1, x.shape[1], x.shape[2], 1]) as tf.Tensor4D;
      const count = pool2d(ones, 'sum', size, stride, dilation, pads);
      return tf.div(sum, count) as tf.Tensor4D;
    }
    let input = x;
    if (padded) {
      const fill = op === 'max' ? Number.NEGATIVE_INFINITY : 0;
      input = tf.pad(x, [[0, 0], pads[0], pads[1], [0, 0]], fill);
    }
    const y =
      op === 'max' && !tf.engine().isTapeOn()
        ? nativeMaxPool(input, size, stride, dilation)
        : subsample(dilatedPool(input, op, size, dilation), stride);
    return y === x ? x.clone() : y;
  });
}

/** Throws a clear error for arguments {@link pool2d} cannot run. */
function checkPoolArgs(
  fn: string,
  x: tf.Tensor4D,
  op: PoolOp,
  size: Pair,
  stride: Pair,
  dilation: Pair,
  pads: [Pair, Pair],
): void {
  if (!(x instanceof tf.Tensor)) throw new SegValueError(`${fn}: x is not a tf.Tensor`);
  assertShape(fn, 'x', x.shape, [null, null, null, null]);
  if (op !== 'max' && op !== 'avg' && op !== 'sum') {
    throw new SegValueError(`${fn}: op is ${JSON.stringify(op)}, expected 'max', 'avg' or 'sum'`);
  }
  const pair = (arg: string, v: unknown, lo: number) => {
    if (!Array.isArray(v) || v.length !== 2) {
      throw new SegValueError(`${fn}: ${arg} is ${JSON.stringify(v)}, expected [rows, columns]`);
    }
    assertInt(fn, `${arg}[0]`, v[0], lo);
    assertInt(fn, `${arg}[1]`, v[1], lo);
  };
  pair('size', size, 1);
  pair('stride', stride, 1);
  pair('dilation', dilation, 1);
  if (!Array.isArray(pads) || pads.length !== 2) {
    throw new SegValueError(
      `${fn}: pads is ${JSON.stringify(pads)}, expected [[top, bottom], [left, right]]`,
    );
  }
  pair('pads[0]', pads[0], 0);
  pair('pads[1]', pads[1], 0);
  for (const a of [0, 1] as const) {
    if (stride[a] > 1 && dilation[a] > 1) {
      throw new SegRangeError(
        `${fn}: stride is [${stride}] and dilation is [${dilation}], expected at most one of them > 1 on each axis`,
      );
    }
    const extent = (size[a] - 1) * dilation[a] + 1;
    const padded = x.shape[a + 1]! + pads[a][0] + pads[a][1];
    if (padded < extent) {
      throw new SegShapeError(
        `${fn}: x is ${x.shape[1]}×${x.shape[2]} (${a === 0 ? 'rows' : 'columns'} ${padded} after padding), smaller than the window's extent ${extent}`,
      );
    }
  }
}

/** Forward-only max pool on tfjs's `maxPool` kernel (see {@link pool2d}). */
function nativeMaxPool(x: tf.Tensor4D, size: Pair, stride: Pair, dilation: Pair): tf.Tensor4D {
  if (size[0] * size[1] === 1) return subsample(x, stride);
  if (dilation[0] === 1 && dilation[1] === 1) return tf.maxPool(x, size, stride, 'valid');
  return nativeAxisMax(
    nativeAxisMax(x, size[0], stride[0], dilation[0], 1),
    size[1],
    stride[1],
    dilation[1],
    2,
  );
}

/** One axis of {@link nativeMaxPool}: window k, stride s, dilation d (one of s, d is 1). */
function nativeAxisMax(x: tf.Tensor4D, k: number, s: number, d: number, axis: 1 | 2): tf.Tensor4D {
  if (k === 1) return subsample(x, axis === 1 ? [s, 1] : [1, s]);
  const [n, h, w, c] = x.shape;
  if (d === 1)
    return tf.maxPool(x, axis === 1 ? [k, 1] : [1, k], axis === 1 ? [s, 1] : [1, s], 'valid');
  if ((axis === 1 ? h : w) % d !== 0) return axisPool(x, 'max', k, d, axis);
  if (axis === 1) {
    const view = tf.reshape(x, [n, h / d, d * w, c]) as tf.Tensor4D;
    return tf.reshape(tf.maxPool(view, [k, 1], 1, 'valid'), [n, h - (k - 1) * d, w, c]);
  }
  const view = tf.reshape(x, [n, h, w / d, d * c]) as tf.Tensor4D;
  return tf.reshape(tf.maxPool(view, [1, k], 1, 'valid'), [n, h, w - (k - 1) * d, c]);
}

/** Every `stride`-th row and column from the first: a reshape and a slice per axis (both have cheap gradients). */
function subsample(x: tf.Tensor4D, stride: Pair): tf.Tensor4D {
  let y = x;
  for (const axis of [1, 2] as const) {
    const s = stride[axis - 1]!;
    if (s === 1) continue;
    const [n, h, w, c] = y.shape;
    const len = axis === 1 ? h : w;
    const out = Math.floor((len - 1) / s) + 1;
    const extra = out * s - len;
    const padded =
      extra > 0
        ? tf.pad(y, [
            [0, 0],
            [0, axis === 1 ? extra : 0],
            [0, axis === 2 ? extra : 0],
            [0, 0],
          ])
        : y;
    const view =
      axis === 1 ? tf.reshape(padded, [n, out, s, w * c]) : tf.reshape(padded, [n * h, out, s, c]);
    const first = tf.slice(view, [0, 0, 0, 0], [-1, -1, 1, -1]);
    y = (
      axis === 1 ? tf.reshape(first, [n, out, w, c]) : tf.reshape(first, [n, h, out, c])
    ) as tf.Tensor4D;
  }
  return y;
}

/**
 * Stride-1 pooling, dilated or not, as `kh + kw − 2` elementwise max / add
 * ops of shifted slices (separable: rows first, then columns). Slices and
 * elementwise ops, and their gradients, are fast on wasm; its `MaxPoolGrad`
 * is not (about 8× a forward max pool), nor `spaceToBatchND`.
 * Ties in a max send the gradient to the earlier cell (tfjs's Maximum
 * gradient), as a max pool does.
 */
function dilatedPool(x: tf.Tensor4D, op: PoolOp, size: Pair, dilation: Pair): tf.Tensor4D {
  return axisPool(axisPool(x, op, size[0], dilation[0], 1), op, size[1], dilation[1], 2);
}

function axisPool(x: tf.Tensor4D, op: PoolOp, k: number, d: number, axis: 1 | 2): tf.Tensor4D {
  if (k === 1) return x;
  const out = x.shape[axis] - (k - 1) * d;
  const shift = (u: number): tf.Tensor4D =>
    tf.slice(
      x,
      axis === 1 ? [0, u * d, 0, 0] : [0, 0, u * d, 0],
      axis === 1 ? [-1, out, -1, -1] : [-1, -1, out, -1],
    );
  let acc = shift(0);
  for (let u = 1; u < k; u++)
    acc = op === 'max' ? tf.maximum(acc, shift(u)) : tf.add(acc, shift(u));
  return op === 'avg' ? (tf.div(acc, k) as tf.Tensor4D) : acc;
}
