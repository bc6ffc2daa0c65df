/**
 * The Conv2D filter gradient as a kernel of the wasm backend
 * (`SegConv2DBackpropFilter`), in WebAssembly SIMD (filter-grad.wat), run on
 * tfjs-backend-wasm's own memory: the module imports the backend's
 * `WebAssembly.Memory`, so it reads x and dy and writes dW where the backend
 * keeps them, with no copies. Where that memory cannot be found, or SIMD is
 * missing, {@link wasmFilterGradReady} is false and the caller keeps the
 * convolution path. The module is about 1.5 KB, under the 4 KB that browsers
 * allow a synchronous `new WebAssembly.Module` on the main thread.
 *
 * What it relies on of tfjs-backend-wasm: backend-module.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  backendModule,
  type KernelArgs,
  moduleOn,
  offsetOf,
  type WasmBackendLike,
} from './backend-module.js';
import { kernelThreads, partsFor, runParts, splitRange } from './kernel-threads.js';
import { FILTER_GRAD_SHARED_WASM_BASE64, FILTER_GRAD_WASM_BASE64 } from './kernels-wasm.js';

/** The kernel's name in tfjs's registry (wasm backend only). */
export const SEG_CONV2D_BACKPROP_FILTER = 'SegConv2DBackpropFilter';

/** The kernel's attributes: the convolution geometry (tfjs's `Conv2DInfo` fields). */
export interface FilterGradAttrs {
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
  /** Output rows per tile (tuning; absent or 0: see {@link tileShape}). */
  tileRows?: number;
  /** Output columns per tile (tuning; absent or 0: see {@link tileShape}). */
  tileCols?: number;
}

interface FilterGradExports {
  filterGrad(
    x: number,
    dy: number,
    out: number,
    n: number,
    h: number,
    w: number,
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
    pt: number,
    pl: number,
    tile: number,
    tcols: number,
    ky0: number,
    ky1: number,
  ): void;
}

const kernelOf = backendModule<FilterGradExports>(
  FILTER_GRAD_WASM_BASE64,
  FILTER_GRAD_SHARED_WASM_BASE64,
);

/**
 * True when the active backend is wasm, the kernel is registered for it and
 * the SIMD module runs on its memory.
 */
export function wasmFilterGradReady(): boolean {
  return (
    tf.getBackend() === 'wasm' &&
    tf.getKernel(SEG_CONV2D_BACKPROP_FILTER, 'wasm') !== undefined &&
    kernelOf(tf.backend()) !== null
  );
}

/** Bytes of x and dy pixels a tile of the output spans: they stay in cache across the tile's passes. */
export const TILE_BYTES = 16384;

/**
 * Rows × columns of an output tile: whole rows while a row fits in
 * {@link TILE_BYTES}, else part of one row (at least 8 pixels).
 */
export function tileShape(wo: number, ci: number, co: number): [number, number] {
  const pixels = Math.max(8, Math.floor(TILE_BYTES / ((ci + co) * 4)));
  return pixels >= wo ? [Math.floor(pixels / wo), wo] : [1, pixels];
}

/**
 * `dW[ky,kx,c,o] = Σ x[b, y·sh + ky·dh − top, x·sw + kx·dw − left, c] · dy[b,y,x,o]`
 * for x `[n,h,w,c]` and dy `[n,ho,wo,o]` (float32, NHWC), shaped
 * `[filterHeight, filterWidth, c, o]`.
 */
function filterGradKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const b = backend as WasmBackendLike;
  const kernel = moduleOn(SEG_CONV2D_BACKPROP_FILTER, kernelOf, b);
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as FilterGradAttrs;
  const [n, h, w, ci] = x.shape as [number, number, number, number];
  const [, ho, wo, co] = dy.shape as [number, number, number, number];
  const out = b.makeOutput([a.filterHeight, a.filterWidth, ci, co], 'float32');
  const outOffset = offsetOf(b, out);
  const [tileRows, tileCols] = tileShape(wo, ci, co);
  const args = [
    offsetOf(b, x),
    offsetOf(b, dy),
    outOffset,
    n,
    h,
    w,
    ci,
    ho,
    wo,
    co,
    a.filterHeight,
    a.filterWidth,
    a.strideHeight,
    a.strideWidth,
    a.dilationHeight,
    a.dilationWidth,
    a.padTop,
    a.padLeft,
    a.tileRows || tileRows,
    a.tileCols || tileCols,
  ];
  // parts: ranges of filter rows (each part reads all of x and dy once)
  const kh = a.filterHeight;
  const parts = Math.min(
    kh,
    partsFor(n * ho * wo * kh * a.filterWidth * ci * co, kernelThreads(b)),
  );
  runParts(
    b,
    'filterGrad',
    kernel.filterGrad,
    splitRange(kh, parts, 1).map(([ky0, ky1]) => [...args, ky0, ky1]),
  );
  return out;
}

/** The kernel's registration (wasm backend). */
export const wasmFilterGradKernelConfig: tf.KernelConfig = {
  kernelName: SEG_CONV2D_BACKPROP_FILTER,
  backendName: 'wasm',
  kernelFunc: filterGradKernel as unknown as tf.KernelFunc,
};
