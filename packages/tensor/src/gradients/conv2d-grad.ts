import * as tf from '@tensorflow/tfjs-core';
import { SegShapeError } from '../errors.js';
import { product } from './matmul-grad.js';

/**
 * A Conv2D gradient built from forward ops only (`conv2d`, `matMul`, slices),
 * so that it runs on every backend (tfjs-backend-wasm has no
 * `Conv2DBackpropFilter`) and for dilation > 1 (tfjs's own gradient refuses
 * it).
 *
 * Forward (NHWC, stride s, dilation d, one of them 1, pads from convInfo):
 *   y[b,i,j,o] = Σ x[b, i·s + u·d − top, j·s + v·d − left, c] · w[u,v,c,o]
 * Filter gradient: one matrix product dW = Xᵀ·dY, dY the `[b·i·j, o]` view
 * of dy and Xᵀ the `[(u,v,c), b·i·j]` matrix of the input values each tap
 * reads (built channel-major, so the product needs no transpose), in chunks
 * of taps that bound its size.
 * Input gradient: dy upsampled by s (zeros between rows and columns), then
 * convolved with the flipped filter, in and out channels swapped, dilation d.
 * A 1×1 filter with stride 1 and no padding is a matrix product both ways.
 */
export const conv2dGradConfig: tf.GradConfig = {
  kernelName: tf.Conv2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x4, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const { strides, pad, dataFormat, dilations, dimRoundingMode } =
      attrs as unknown as tf.Conv2DAttrs;
    if (dataFormat !== 'NHWC') {
      throw new SegShapeError(`Conv2D gradient: dataFormat is ${dataFormat}, expected NHWC`);
    }
    const dyT = dy as tf.Tensor4D;
    const info = tf.backend_util.computeConv2DInfo(
      x4.shape,
      filter.shape,
      strides,
      dilations ?? 1,
      pad,
      dimRoundingMode,
      false,
      'channelsLast',
    );
    return {
      x: () => conv2dInputGrad(dyT, filter, x4.shape, info),
      filter: () => conv2dFilterGrad(x4, dyT, info),
    };
  },
};

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
 * Largest number of values in one chunk of the filter gradient's tap matrix
 * Xᵀ (4 Mi floats = 16 MiB); larger problems run in several products.
 */
const MAX_TAP_MATRIX = 1 << 22;

/**
 * The gradient of a Conv2D with respect to its filter, `[kh, kw, c, o]`, for
 * input `x` and output gradient `dy` (NHWC), the convolution given by `info`;
 * `maxTapValues` bounds the tap matrix of one product.
 */
export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  info: tf.backend_util.Conv2DInfo,
  maxTapValues = MAX_TAP_MATRIX,
): tf.Tensor4D {
  const [b, , , c] = x.shape;
  const { outHeight: ho, outWidth: wo, outChannels: o } = info;
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const dy2 = tf.reshape(dy, [b * ho * wo, o]);
  if (isPointwise(info)) {
    return tf.reshape(product(tf.reshape(x, [b * ho * wo, c]), dy2, true, false), [1, 1, c, o]);
  }
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const [, h, w] = x.shape;
  const taps: [number, number][] = [];
  for (let u = 0; u < kh; u++) for (let v = 0; v < kw; v++) taps.push([u * dh, v * dw]);
  // Channel-major input, padded just enough for every tap's window.
  let padBottom = Math.max(0, (ho - 1) * sh + (kh - 1) * dh - top - (h - 1));
  const padRight = Math.max(0, (wo - 1) * sw + (kw - 1) * dw - left - (w - 1));
  const wp = left + w + padRight;
  const strided = sh > 1 || sw > 1;
  if (!strided) {
    // Stride 1: each tap's window is one run of ho·wp values per channel in
    // the flat padded image (rows read whole, the wp − wo extra columns
    // meeting zeros in dy), a copy per channel rather than per row.
    const need = Math.ceil(((ho + (kh - 1) * dh) * wp + (kw - 1) * dw) / wp);
    padBottom = Math.max(padBottom, need - top - h);
  }
  let xt: tf.Tensor4D = tf.transpose(x, [3, 0, 1, 2]); // C×B×H×W
  if (top + padBottom + left + padRight > 0) {
    xt = tf.pad(xt, [
      [0, 0],
      [0, 0],
      [top, padBottom],
      [left, padRight],
    ]);
  }
  const hp = top + h + padBottom;
  const cols = strided ? wo : wp; // output columns in the product, wo ≤ wp
  const rhs =
    cols === wo
      ? dy2
      : tf.reshape(
          tf.pad(dy, [
            [0, 0],
            [0, 0],
            [0, wp - wo],
            [0, 0],
          ]),
          [b * ho * wp, o],
        );
  const flat = strided ? xt : tf.reshape(xt, [c, b, hp * wp]);
  const window = ([r, q]: [number, number]): tf.Tensor =>
    strided
      ? tf.stridedSlice(
          xt,
          [0, 0, r, q],
          [c, b, r + (ho - 1) * sh + 1, q + (wo - 1) * sw + 1],
          [1, 1, sh, sw],
        )
      : tf.slice(flat, [0, 0, r * wp + q], [c, b, ho * wp]);
  const per = Math.max(1, Math.floor(maxTapValues / (c * b * ho * cols)));
  const parts: tf.Tensor[] = [];
  for (let t0 = 0; t0 < taps.length; t0 += per) {
    const windows = taps.slice(t0, t0 + per).map(window);
    const m = windows.length === 1 ? windows[0]! : tf.concat(windows, 0);
    parts.push(tf.matMul(tf.reshape(m, [windows.length * c, b * ho * cols]), rhs));
  }
  const g = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
  return tf.reshape(g, [kh, kw, c, o]);
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
  if (isPointwise(info)) {
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
  // w'[u', v', o, c] = w[kh-1-u', kw-1-v', c, o]
  const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
  const [padT, r0, padB] = inputGradPads(H, hu, kh, dh, info.padInfo.top);
  const [padL, c0, padR] = inputGradPads(W, wu, kw, dw, info.padInfo.left);
  const full = tf.conv2d(
    up,
    flipped,
    1,
    padT + padB + padL + padR === 0
      ? 'valid'
      : [
          [0, 0],
          [padT, padB],
          [padL, padR],
          [0, 0],
        ],
    'NHWC',
    [dh, dw],
  );
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
