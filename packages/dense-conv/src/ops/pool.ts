import * as tf from '@tensorflow/tfjs-core';
import type { Pair, PoolOp } from '../spec/types.js';

/**
 * 2-D pooling of an NHWC tensor with stride, dilation and explicit pads, on
 * ops that have kernels and gradients on both the wasm and cpu backends.
 * Padded cells never count: max ignores them, sum adds zeros, and average
 * divides by the number of in-image cells of each window.
 *
 * tfjs's own pools have no dilation; a dilated pool (stride 1) runs as
 * `spaceToBatchND` → plain pool → `batchToSpaceND` (the "atrous" trick:
 * the dilation-d grid splits into d×d phases, each pooled densely).
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
      dilation[0] === 1 && dilation[1] === 1
        ? plainPool(input, op, size, stride)
        : dilatedPool(input, op, size, dilation);
    return op === 'sum' ? (tf.mul(y, size[0] * size[1]) as tf.Tensor4D) : y;
  });
}

/** 'max' → maxPool, otherwise avgPool (the caller scales a sum). */
function plainPool(x: tf.Tensor4D, op: PoolOp, size: Pair, stride: Pair): tf.Tensor4D {
  if (size[0] === 1 && size[1] === 1 && stride[0] === 1 && stride[1] === 1) return x.clone();
  return op === 'max' ? tf.maxPool(x, size, stride, 'valid') : tf.avgPool(x, size, stride, 'valid');
}

function dilatedPool(x: tf.Tensor4D, op: PoolOp, size: Pair, dilation: Pair): tf.Tensor4D {
  const [, h, w] = x.shape;
  const [dh, dw] = dilation;
  const eh = (dh - (h % dh)) % dh;
  const ew = (dw - (w % dw)) % dw;
  const phases = tf.spaceToBatchND(
    x,
    [dh, dw],
    [
      [0, eh],
      [0, ew],
    ],
  ) as tf.Tensor4D;
  const pooled = plainPool(phases, op, size, [1, 1]);
  return tf.batchToSpaceND(
    pooled,
    [dh, dw],
    [
      [0, eh],
      [0, ew],
    ],
  ) as tf.Tensor4D;
}
