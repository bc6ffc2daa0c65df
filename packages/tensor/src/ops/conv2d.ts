import * as tf from '@tensorflow/tfjs-core';
import { assertLiveTensor, assertShape, SegShapeError, SegValueError } from '../errors.js';
import { assertActivation } from '../gradients/activation.js';
import { fusedConv2dGradConfig } from '../gradients/fused-conv2d-grad.js';
import { SEG_CONV2D, wasmConvReady } from '../gradients/wasm/conv.js';

/** Arguments of {@link fusedConv2d}. */
export interface FusedConv2dArgs {
  /** Input, NHWC `[n, h, w, c]`, float32. */
  x: tf.Tensor4D;
  /** Filter `[kh, kw, c, o]`. */
  filter: tf.Tensor4D;
  /** Bias `[o]`, added before the activation; none when absent. */
  bias?: tf.Tensor;
  /** Strides `[sh, sw]` (or one number for both). */
  strides: number | [number, number];
  /** `'same'`, `'valid'`, one pad on every side, or explicit NHWC pads. */
  pad: 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];
  /** Dilations `[dh, dw]` (or one number). @default 1 */
  dilations?: number | [number, number];
  /** Applied after the bias. @default 'linear' */
  activation?: 'linear' | 'relu';
}

/**
 * One convolution layer, `act(conv2d(x, filter) + bias)`, as one kernel
 * call, differentiable with respect to x, filter and bias (also with the
 * gradient tape on, where `tf.fused.conv2d` falls back to separate ops).
 *
 * On the wasm backend with SIMD, `SegConv2D`: a direct convolution in
 * WebAssembly SIMD (gradients/wasm/conv.wat) on the backend's memory, 2
 * pixels × 16 output channels in registers, bias and ReLU in the kernel,
 * faster than tfjs-backend-wasm's XNNPACK convolution at the shapes
 * measured (the package README: optim-adm's pixel net and N4's dense
 * forward) but 1×1 filters with 8 or more output channels, which stay with
 * XNNPACK (tfjs's `FusedConv2D`). Its gradient is that of `FusedConv2D`. On
 * other backends, tfjs's `FusedConv2D` kernel (`tf.fused.conv2d` when the
 * tape is off).
 *
 * @returns `[n, ho, wo, o]`, owned by the caller.
 * @throws SegShapeError unless x and filter have rank 4, filter's third axis
 * is x's channels and bias is `[o]`, or when the (dilated) filter does not
 * fit in the (padded) input.
 * @throws SegValueError for an activation other than `'linear'` or `'relu'`.
 *
 * @example
 * const y = fusedConv2d({ x, filter, bias, strides: 1, pad: 'same', activation: 'relu' });
 */
export function fusedConv2d(args: FusedConv2dArgs): tf.Tensor4D {
  const fn = 'fusedConv2d';
  const { x, filter, bias, strides, pad } = args;
  const dilations = args.dilations ?? 1;
  const activation = args.activation ?? 'linear';
  assertLiveTensor(fn, 'x', x);
  assertLiveTensor(fn, 'filter', filter);
  if (bias) assertLiveTensor(fn, 'bias', bias);
  assertShape(fn, 'x', x.shape, [null, null, null, null]);
  assertShape(fn, 'filter', filter.shape, [null, null, x.shape[3]!, null]);
  if (bias) assertShape(fn, 'bias', bias.shape, [filter.shape[3]!]);
  assertActivation(fn, activation);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape,
    filter.shape,
    strides,
    dilations,
    pad,
    undefined,
    false,
    'channelsLast',
  );
  if (info.outHeight < 1 || info.outWidth < 1) {
    throw new SegShapeError(
      `${fn}: the filter spans ${info.effectiveFilterHeight}×${info.effectiveFilterWidth} (dilated), x is ${x.shape[1]}×${x.shape[2]} with pad ${JSON.stringify(pad)}; expected an output of at least 1×1, got ${info.outHeight}×${info.outWidth}`,
    );
  }
  const inputs = (bias ? { x, filter, bias } : { x, filter }) as tf.NamedTensorMap;
  const attrs = { strides, pad, dataFormat: 'NHWC', dilations, activation };
  if (
    wasmConvReady() &&
    x.dtype === 'float32' &&
    filter.dtype === 'float32' &&
    !xnnpackFaster(filter)
  ) {
    return tf
      .engine()
      .runKernel(SEG_CONV2D, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  }
  if (!tf.engine().isTapeOn()) {
    return tf.fused.conv2d({
      x,
      filter,
      strides,
      pad,
      dataFormat: 'NHWC',
      dilations,
      bias,
      activation,
    });
  }
  // tf.fused.conv2d would split into conv2d, add and relu here (the tape is
  // on); the kernel itself has a registered gradient (fusedConv2dGradConfig).
  return tf
    .engine()
    .runKernel(tf.FusedConv2D, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/**
 * Where XNNPACK's convolution measured faster than SegConv2D: a 1×1 filter
 * with 8 or more output channels (the pixel net's 16 → 16 at 120×90, 0.45–0.52
 * against 0.53–0.57 ms alternated, bench/conv.ts; XNNPACK runs it as one
 * matrix product, SegConv2D as 16 steps per block of 2 pixels).
 */
function xnnpackFaster(filter: tf.Tensor4D): boolean {
  const [kh, kw, , co] = filter.shape;
  return kh === 1 && kw === 1 && co >= 8;
}

/**
 * The gradient of `SegConv2D`: that of `FusedConv2D` (same inputs,
 * attributes and output); not for a call with `flipFilter` (the input
 * gradient's convolution: no second derivatives through it on wasm).
 */
export const segConv2dGradConfig: tf.GradConfig = {
  ...fusedConv2dGradConfig,
  kernelName: SEG_CONV2D,
  gradFunc: (dy, saved, attrs) => {
    if ((attrs as { flipFilter?: boolean }).flipFilter) {
      throw new SegValueError(
        'SegConv2D gradient: the input gradient of a convolution (flipFilter) has no gradient on wasm',
      );
    }
    return fusedConv2dGradConfig.gradFunc(dy, saved, attrs);
  },
};
