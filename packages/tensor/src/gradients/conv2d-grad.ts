import * as tf from '@tensorflow/tfjs-core';
import { SegShapeError } from '../errors.js';
import { product } from './matmul-grad.js';
import { SEG_CONV2D, wasmConvReady } from './wasm/conv.js';
import {
  type FilterGradAttrs,
  SEG_CONV2D_BACKPROP_FILTER,
  wasmFilterGradReady,
} from './wasm/filter-grad.js';

/**
 * A Conv2D gradient built from forward ops only (`conv2d`, `matMul`, slices),
 * so that it runs on every backend (tfjs-backend-wasm has no
 * `Conv2DBackpropFilter`) and for dilation > 1 (tfjs's own gradient refuses
 * it).
 *
 * Forward (NHWC, stride s, dilation d, one of them 1, pads from convInfo):
 *   y[b,i,j,o] = Σ x[b, i·s + u·d − top, j·s + v·d − left, c] · w[u,v,c,o]
 * Filter gradient: a convolution of xᵀ (C×H×W×B) with dyᵀ (Ho×Wo×B×O) as
 * the filter, stride d and dilation s, cropped to kh×kw.
 * Input gradient: dy upsampled by s (zeros between rows and columns), then
 * convolved with the flipped filter, in and out channels swapped, dilation d.
 * A 1×1 filter with stride 1 and no padding is a matrix product both ways.
 */
export const conv2dGradConfig: tf.GradConfig = {
  kernelName: tf.Conv2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x4, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const info = nhwcConv2DInfo('Conv2D gradient', x4, filter, attrs as unknown as tf.Conv2DAttrs);
    const dyT = dy as tf.Tensor4D;
    return {
      x: () => conv2dInputGrad(dyT, filter, x4.shape, info),
      filter: () => conv2dFilterGrad(x4, dyT, info),
    };
  },
};

/**
 * The convolution geometry of a Conv2D / FusedConv2D kernel call (NHWC only;
 * `fn` names the gradient in the error), as both gradients read it.
 */
export function nhwcConv2DInfo(
  fn: string,
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  attrs: Pick<tf.Conv2DAttrs, 'strides' | 'pad' | 'dataFormat' | 'dilations' | 'dimRoundingMode'>,
): tf.backend_util.Conv2DInfo {
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs;
  if (dataFormat !== 'NHWC') {
    throw new SegShapeError(`${fn}: dataFormat is ${dataFormat}, expected NHWC`);
  }
  return tf.backend_util.computeConv2DInfo(
    x.shape,
    filter.shape,
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** True when the convolution is a per-pixel matrix product (1×1, stride 1, no padding). */
function isPointwise(info: tf.backend_util.Conv2DInfo): boolean {
  const { top, bottom, left, right } = info.padInfo;
  return (
    info.filterHeight === 1 &&
    info.filterWidth === 1 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    top === 0 &&
    bottom === 0 &&
    left === 0 &&
    right === 0
  );
}

/**
 * The gradient of a Conv2D with respect to its filter, `[kh, kw, c, o]`, for
 * input `x` and output gradient `dy` (NHWC), the convolution given by `info`.
 *
 * On wasm with SIMD, one hand-written kernel (`SegConv2DBackpropFilter`,
 * gradients/wasm/filter-grad.wat) on the backend's own memory: per tap the
 * product Xᵀ·dY over every pixel, a 2-channel × 16-output block of dW held in
 * registers (12–18 GMAC/s on one thread at 120×90 and 64×64 with 9–64
 * channels, against 1.5–6 for the convolution path; 1×1 included: 0.17 ms
 * against 0.66 for tf.matMul's product at 120×90×16 → 16, 0.21–0.25 for
 * SegMatMul's). A pointwise filter with fewer than 16 outputs, which the
 * kernel runs lane by lane, is SegMatMul's product xᵀ·dy instead (16 → 2:
 * 0.14 ms against 0.48–0.68). Elsewhere, see
 * {@link conv2dFilterGradByConvolution}.
 */
export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  info: tf.backend_util.Conv2DInfo,
): tf.Tensor4D {
  // a pointwise filter with fewer than 16 outputs (the kernel's block of
  // outputs): SegMatMul's xᵀ·dy (120×90×16 → 2: 0.14 ms against 0.48–0.68)
  if (wasmFilterGradReady() && !(isPointwise(info) && info.outChannels < 16)) {
    const attrs: FilterGradAttrs = {
      filterHeight: info.filterHeight,
      filterWidth: info.filterWidth,
      strideHeight: info.strideHeight,
      strideWidth: info.strideWidth,
      dilationHeight: info.dilationHeight,
      dilationWidth: info.dilationWidth,
      padTop: info.padInfo.top,
      padLeft: info.padInfo.left,
    };
    return tf
      .engine()
      .runKernel(
        SEG_CONV2D_BACKPROP_FILTER,
        { x, dy },
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor4D;
  }
  return conv2dFilterGradByConvolution(x, dy, info);
}

/**
 * The filter gradient from forward ops, on every backend (see
 * {@link conv2dFilterGrad}).
 *
 * A 1×1 stride-1 unpadded filter: one matrix product xᵀ·dy over the pixels.
 * Otherwise a convolution of xᵀ (C×H×W×B) with dyᵀ (Ho×Wo×B×O) as the
 * filter, stride d and dilation s, cropped to kh×kw. (A tap matrix
 * Xᵀ·dY in one matrix product, built from a slice per tap, measured 1.4–1.9×
 * slower on wasm: the products reduce over every pixel, a long inner
 * dimension that XNNPACK's matrix product runs at 3–6 GMAC/s.)
 */
export function conv2dFilterGradByConvolution(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  info: tf.backend_util.Conv2DInfo,
): tf.Tensor4D {
  if (isPointwise(info)) {
    const [b, h, w, c] = x.shape;
    const o = info.outChannels;
    const g = product(tf.reshape(x, [b * h * w, c]), tf.reshape(dy, [b * h * w, o]), true, false);
    return tf.reshape(g, [1, 1, c, o]);
  }
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, bottom, left, right } = info.padInfo;
  const xt = tf.transpose(x, [3, 1, 2, 0]); // C×H×W×B
  const dyt = tf.transpose(dy, [1, 2, 0, 3]); // Ho×Wo×B×O
  const pads: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [top, Math.max(0, bottom)],
    [left, Math.max(0, right)],
    [0, 0],
  ];
  // tfjs refuses stride > 1 together with dilation > 1; the forward never has both.
  const g = tf.conv2d(xt, dyt, [dh, dw], pads, 'NHWC', [sh, sw]); // C×R×S×O
  const cropped = tf.slice(g, [0, 0, 0, 0], [-1, info.filterHeight, info.filterWidth, -1]);
  return tf.transpose(cropped, [1, 2, 0, 3]);
}

/**
 * The gradient of a Conv2D with respect to its input, shaped `xShape`
 * (NHWC), for filter `filter` and output gradient `dy`, the convolution
 * given by `info`.
 */
export function conv2dInputGrad(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  xShape: [number, number, number, number],
  info: tf.backend_util.Conv2DInfo,
): tf.Tensor4D {
  if (isPointwise(info) && !wasmConvReady()) {
    const [b, h, w, c] = xShape;
    const [, , , o] = filter.shape;
    const dx = product(tf.reshape(dy, [b * h * w, o]), tf.reshape(filter, [c, o]), false, true);
    return tf.reshape(dx, xShape);
  }
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const [, H, W] = xShape;
  const up = upsample(dy, sh, sw);
  const hu = up.shape[1];
  const wu = up.shape[2];
  const [padT, r0, padB] = inputGradPads(H, hu, kh, dh, info.padInfo.top);
  const [padL, c0, padR] = inputGradPads(W, wu, kw, dw, info.padInfo.left);
  const pad: 'valid' | [[0, 0], [number, number], [number, number], [0, 0]] =
    padT + padB + padL + padR === 0
      ? 'valid'
      : [
          [0, 0],
          [padT, padB],
          [padL, padR],
          [0, 0],
        ];
  // On wasm with SIMD the direct convolution SegConv2D (gradients/wasm/conv.wat),
  // reading the filter flipped and transposed (1×1 included, where it beats
  // the matrix product); see the package README. Elsewhere a convolution
  // with w'[u', v', o, c] = w[kh-1-u', kw-1-v', c, o].
  const full = wasmConvReady()
    ? (tf.engine().runKernel(SEG_CONV2D, { x: up, filter }, {
        strides: 1,
        pad,
        dataFormat: 'NHWC',
        dilations: [dh, dw],
        activation: 'linear',
        flipFilter: true,
      } as unknown as tf.NamedAttrMap) as tf.Tensor4D)
    : tf.conv2d(up, tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]), 1, pad, 'NHWC', [
        dh,
        dw,
      ]);
  if (r0 === 0 && c0 === 0 && full.shape[1] === H && full.shape[2] === W) return full;
  return tf.slice(full, [0, r0, c0, 0], [-1, H, W, -1]);
}

/**
 * Pads for the input-gradient convolution along one axis: `dx[p] = out[p + r0]`
 * where `out` is dy (upsampled, length `n`) convolved with pads `[P, Q]`.
 */
function inputGradPads(
  size: number,
  n: number,
  k: number,
  d: number,
  forwardPad: number,
): [number, number, number] {
  const want = (k - 1) * d - forwardPad;
  const P = Math.max(0, want);
  const r0 = P - want;
  const produced = n + P - d * (k - 1);
  const Q = Math.max(0, r0 + size - produced);
  return [P, r0, Q];
}

/** Inserts s−1 zero rows (columns) between the rows (columns) of x. */
function upsample(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return x;
  const [b, h, w, c] = x.shape;
  const x6 = tf.reshape(x, [b, h, 1, w, 1, c]);
  const padded = tf.pad(x6, [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  const flat = tf.reshape(padded, [b, h * sh, w * sw, c]);
  return tf.slice(flat, [0, 0, 0, 0], [-1, (h - 1) * sh + 1, (w - 1) * sw + 1, -1]) as tf.Tensor4D;
}
