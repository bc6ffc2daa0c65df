/**
 * A direct NHWC convolution (with bias and ReLU) as a kernel of the wasm
 * backend (`SegConv2D`), in WebAssembly SIMD (conv.wat), run on
 * tfjs-backend-wasm's own memory as the filter-gradient kernel is
 * (filter-grad.ts): the module imports the backend's `WebAssembly.Memory`
 * and reads x, the filter and the bias where the backend keeps them.
 *
 * The SIMD code needs an input with no padding and the filter packed in
 * blocks of output channels: the kernel function pads x into a scratch
 * buffer when the convolution pads it, packs the filter there (conv.wat's
 * header), and copies the bias (zeros without one). The module is about
 * 4.0 KB (4091 bytes), under the 4 KB that browsers allow a synchronous
 * `new WebAssembly.Module` on the main thread. Where the memory cannot be
 * found or SIMD is missing, {@link wasmConvReady} is false and the callers
 * keep XNNPACK.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  backendMemory,
  backendModule,
  type KernelArgs,
  moduleOn,
  offsetOf,
  type WasmBackendLike,
} from './backend-module.js';
import { kernelThreads, partsFor, runParts, splitRange } from './kernel-threads.js';
import { CONV_SHARED_WASM_BASE64, CONV_WASM_BASE64 } from './kernels-wasm.js';

/** The kernel's name in tfjs's registry (wasm backend only). */
export const SEG_CONV2D = 'SegConv2D';

/** The kernel's attributes: the convolution geometry (tfjs's `Conv2DInfo` fields) and the activation. */
export interface SegConv2DAttrs {
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
  /** `'linear'` or `'relu'` (max(·, 0) after the bias). */
  activation: 'linear' | 'relu';
  /** Filter rows per pass over the output (tuning; absent or 0: see {@link rowsPerPass}). */
  rowsPerPass?: number;
  /**
   * The filter input is a forward filter F `[kh, kw, o, c]` and the kernel
   * convolves with `W[u, v, c, o] = F[kh−1−u, kw−1−v, o, c]`, flipped and
   * transposed (the input gradient of F's convolution). @default false
   */
  flipFilter?: boolean;
}

/**
 * Filter rows per pass over the output by default: all of them (one pass).
 * Passes of fewer rows (each adding its rows' sums to the output of the one
 * before) kept a block's filter in the L1 cache while its rows were cop
 * floats apart; with the filter packed in blocks they measured slower or
 * equal at N4's layers (fc 48 → 200: 460 ms for 1 row per pass, 388 for 2,
 * 375 for all 3; 1 → 48: 37 / 25 / 18 ms; load 2.0–2.4), so they are left
 * as a tuning option (`rowsPerPass`).
 */
export function rowsPerPass(kh: number): number {
  return kh;
}

/** The module's exports. */
export interface ConvExports {
  /** Rows [r0, r1) of xp `[n, hp, wp, ci]`: x `[n, h, w, ci]` framed in zeros (pt rows above, pl columns left). */
  pad(
    x: number,
    xp: number,
    h: number,
    w: number,
    ci: number,
    hp: number,
    wp: number,
    pt: number,
    pl: number,
    r0: number,
    r1: number,
  ): void;
  conv(
    x: number,
    w: number,
    bias: number,
    out: number,
    n: number,
    h: number,
    wd: number,
    ci: number,
    ho: number,
    wo: number,
    co: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    dh: number,
    dw: number,
    relu: number,
    rowsPerPass: number,
  ): void;
}

const kernelOf = backendModule<ConvExports>(CONV_WASM_BASE64, CONV_SHARED_WASM_BASE64);

/**
 * True when the active backend is wasm, the kernel is registered for it and
 * the SIMD module runs on its memory.
 */
export function wasmConvReady(): boolean {
  return (
    tf.getBackend() === 'wasm' &&
    tf.getKernel(SEG_CONV2D, 'wasm') !== undefined &&
    kernelOf(tf.backend()) !== null
  );
}

/**
 * `y[b,i,j,o] = act(Σ x[b, i·sh + u·dh − top, j·sw + v·dw − left, c] · w[u,v,c,o] + bias[o])`
 * for x `[n,h,w,c]`, filter `[kh,kw,c,o]`, bias `[o]` (optional), all
 * float32 NHWC, by the module `kernel` (the committed module on the backend's
 * memory: its parts may run on the kernel threads, which hold the same one).
 */
function runConv(
  b: WasmBackendLike,
  kernel: ConvExports,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  bias: tf.TensorInfo | undefined,
  a: SegConv2DAttrs,
): tf.TensorInfo {
  const [n, h, w, ci] = x.shape as [number, number, number, number];
  const flip = a.flipFilter === true;
  const [kh, kw, f2, f3] = filter.shape as [number, number, number, number];
  const co = flip ? f2 : f3;
  const { padTop: pt, padBottom: pb, padLeft: pl, padRight: pr } = a;
  const hp = h + pt + pb;
  const wp = w + pl + pr;
  const ho = Math.floor((hp - (kh - 1) * a.dilationHeight - 1) / a.strideHeight) + 1;
  const wo = Math.floor((wp - (kw - 1) * a.dilationWidth - 1) / a.strideWidth) + 1;
  const out = b.makeOutput([n, Math.max(0, ho), Math.max(0, wo), co], 'float32');
  if (n === 0 || ho <= 0 || wo <= 0 || co === 0) return out;
  const cop = (co + 3) & ~3;
  const padded = pt + pb + pl + pr > 0;
  // scratch: the padded input, the filter in blocks of output vectors (see conv.wat), the bias (cop)
  const xFloats = padded ? n * hp * wp * ci : 0;
  const wFloats = kh * kw * ci * cop;
  const scratch = b.makeOutput([xFloats + wFloats + cop], 'float32');
  try {
    const base = offsetOf(b, scratch);
    const xOff = offsetOf(b, x);
    const wOff = offsetOf(b, filter);
    const heap = new Float32Array(backendMemory(b)!.buffer);
    const s = base >>> 2;
    const threads = kernelThreads(b);
    if (padded) {
      // x framed in zeros, by the module's bulk copies (a typed array's
      // fill and copyWithin are slower on the threaded build's shared memory)
      const padArgs = [xOff, base, h, w, ci, hp, wp, pt, pl];
      runParts(
        b,
        'pad',
        kernel.pad,
        splitRange(n * hp, partsFor(xFloats, threads), 1).map(([r0, r1]) => [...padArgs, r0, r1]),
      );
    }
    packFilter(heap, wOff >>> 2, s + xFloats, kh, kw, ci, co, flip);
    const bs = s + xFloats + wFloats;
    heap.fill(0, bs, bs + cop);
    if (bias) {
      const from = offsetOf(b, bias) >>> 2;
      heap.copyWithin(bs, from, from + co);
    }
    const args = [
      padded ? base : xOff,
      base + xFloats * 4,
      base + (xFloats + wFloats) * 4,
      offsetOf(b, out),
      n,
      hp,
      wp,
      ci,
      ho,
      wo,
      co,
      kh,
      kw,
      a.strideHeight,
      a.strideWidth,
      a.dilationHeight,
      a.dilationWidth,
      a.activation === 'relu' ? 1 : 0,
      a.rowsPerPass || rowsPerPass(kh),
    ];
    runParts(b, 'conv', kernel.conv, convParts(args, threads, n * ho * wo * co * kh * kw * ci));
  } finally {
    b.disposeData(scratch.dataId, true);
  }
  return out;
}

/**
 * `conv`'s arguments for the whole convolution cut into parts for `threads`
 * threads ({@link partsFor}) that write disjoint output: groups of images, or
 * with fewer images than parts, ranges of one image's output rows (x and
 * the output offset to the range, as a convolution of `r1 − r0` rows).
 */
function convParts(args: number[], threads: number, macs: number): number[][] {
  const [x, , , out, n, hp, wp, ci, ho, wo, co, , , sh] = args;
  const wanted = partsFor(macs, threads);
  if (wanted <= 1) return [args];
  const xImage = 4 * hp! * wp! * ci!;
  const outImage = 4 * ho! * wo! * co!;
  const calls: number[][] = [];
  if (n! >= wanted) {
    for (const [b0, b1] of splitRange(n!, wanted, 1)) {
      const c = args.slice();
      c[0] = x! + b0 * xImage;
      c[3] = out! + b0 * outImage;
      c[4] = b1 - b0;
      calls.push(c);
    }
    return calls;
  }
  for (const [r0, r1] of splitRange(ho!, Math.ceil(wanted / n!), 1)) {
    for (let img = 0; img < n!; img++) {
      const c = args.slice();
      c[0] = x! + img * xImage + 4 * r0 * sh! * wp! * ci!;
      c[3] = out! + img * outImage + 4 * r0 * wo! * co!;
      c[4] = 1;
      c[8] = r1 - r0;
      calls.push(c);
    }
  }
  return calls;
}

/**
 * The attributes of a `SegConv2D` call: those of tfjs's `FusedConv2D`
 * (NHWC; activation `'linear'` or `'relu'`), the tuning option
 * `rowsPerPass` and `flipFilter` (for input gradients).
 */
export type SegConv2DKernelAttrs = Pick<
  tf.FusedConv2DAttrs,
  'strides' | 'pad' | 'dataFormat' | 'dilations' | 'dimRoundingMode' | 'activation'
> &
  Pick<SegConv2DAttrs, 'rowsPerPass' | 'flipFilter'>;

/**
 * Writes the filter at float `f` of `heap` (`[kh, kw, ci, co]`, or with
 * `flip` the forward filter `[kh, kw, co, ci]` read flipped and transposed)
 * to float `dst` in the blocks of output vectors that conv.wat walks: 4
 * vectors while 4 are left, then 2, then 1; the block of vectors [v, v + V)
 * is kh·kw·ci rows of 4V floats at `dst + v·kh·kw·ci·4`, zeros past co.
 */
function packFilter(
  heap: Float32Array,
  f: number,
  dst: number,
  kh: number,
  kw: number,
  ci: number,
  co: number,
  flip: boolean,
): void {
  const nv = (co + 3) >> 2;
  const rows = kh * kw * ci;
  for (let v = 0; v < nv; ) {
    const V = nv - v >= 4 ? 4 : nv - v >= 2 ? 2 : 1;
    const width = 4 * V;
    const block = dst + v * rows * 4;
    const o0 = 4 * v;
    const valid = Math.min(width, co - o0);
    heap.fill(0, block, block + rows * width);
    for (let t = 0; t < kh * kw; t++) {
      // flipped: tap (u, v') reads F's tap (kh−1−u, kw−1−v'), i.e. taps in reverse order
      const src = flip ? f + (kh * kw - 1 - t) * co * ci : f + t * ci * co;
      for (let c = 0; c < ci; c++) {
        const at = block + (t * ci + c) * width;
        if (flip) {
          for (let j = 0; j < valid; j++) heap[at + j] = heap[src + (o0 + j) * ci + c]!;
        } else {
          const from = src + c * co + o0;
          heap.copyWithin(at, from, from + valid);
        }
      }
    }
    v += V;
  }
}

function convKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const b = backend as WasmBackendLike;
  const kernel = moduleOn(SEG_CONV2D, kernelOf, b);
  const { x, filter, bias } = inputs as {
    x: tf.TensorInfo;
    filter: tf.TensorInfo;
    bias?: tf.TensorInfo;
  };
  const a = attrs as unknown as SegConv2DKernelAttrs;
  const ci = x.shape[3];
  const [fci, fco] = a.flipFilter
    ? [filter.shape[3], filter.shape[2]]
    : [filter.shape[2], filter.shape[3]];
  if (
    x.shape.length !== 4 ||
    filter.shape.length !== 4 ||
    fci !== ci ||
    (bias && bias.shape.join() !== `${fco}`)
  ) {
    throw new Error(
      `${SEG_CONV2D}: x ${x.shape}, filter ${filter.shape}${a.flipFilter ? ' (flipped)' : ''}, bias ${bias?.shape}: channels do not match`,
    );
  }
  if (a.dataFormat !== 'NHWC' || (a.activation !== 'linear' && a.activation !== 'relu')) {
    throw new Error(
      `${SEG_CONV2D}: dataFormat ${a.dataFormat}, activation ${a.activation}; expected NHWC and linear or relu`,
    );
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    (a.flipFilter
      ? [filter.shape[0], filter.shape[1], filter.shape[3], filter.shape[2]]
      : filter.shape) as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { top, bottom, left, right } = info.padInfo;
  const out = runConv(b, kernel, x, filter, bias, {
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    padTop: top,
    padBottom: bottom,
    padLeft: left,
    padRight: right,
    activation: a.activation,
    rowsPerPass: a.rowsPerPass,
    flipFilter: a.flipFilter,
  });
  if (out.shape[1] !== info.outHeight || out.shape[2] !== info.outWidth) {
    b.disposeData(out.dataId, true);
    throw new Error(
      `${SEG_CONV2D}: output ${out.shape[1]}×${out.shape[2]}, expected ${info.outHeight}×${info.outWidth}`,
    );
  }
  return out;
}

/** The kernel's registration (wasm backend). */
export const wasmConvKernelConfig: tf.KernelConfig = {
  kernelName: SEG_CONV2D,
  backendName: 'wasm',
  kernelFunc: convKernel as unknown as tf.KernelFunc,
};
