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
 * Relies on tfjs-backend-wasm 4.22's `BackendWasm`: `dataIdMap.get(dataId).memoryOffset`
 * (a tensor's byte offset), `makeOutput(shape, dtype)` (allocates on its heap)
 * and its Emscripten module at `backend.wasm`, whose memory is `asm.memory`
 * (exported by the single-threaded builds) or `wasmMemory` (the shared memory
 * of the multi-threaded build).
 */
import * as tf from '@tensorflow/tfjs-core';
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

/** What the kernel uses of tfjs-backend-wasm 4.22's `BackendWasm`. */
interface WasmBackendLike {
  wasm?: {
    asm?: { memory?: unknown };
    wasmMemory?: unknown;
    HEAPU8?: Uint8Array;
  } | null;
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
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
  ): void;
}

const compiled: { plain?: WebAssembly.Module | null; shared?: WebAssembly.Module | null } = {};
const instances = new WeakMap<WebAssembly.Memory, FilterGradExports | null>();

function compile(base64: string): WebAssembly.Module | null {
  try {
    const bin = atob(base64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new WebAssembly.Module(bytes);
  } catch {
    return null; // no WebAssembly SIMD (or no threads, for the shared variant)
  }
}

/**
 * The backend's memory, when its heap view looks at it (or at a smaller
 * buffer of it: the multi-threaded build renews its views lazily after
 * another thread grows the memory).
 */
function backendMemory(backend: WasmBackendLike): WebAssembly.Memory | null {
  const wasm = backend.wasm;
  if (!wasm) return null;
  const memory = wasm.wasmMemory ?? wasm.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory) || !wasm.HEAPU8) return null;
  const heap = wasm.HEAPU8.buffer;
  return heap === memory.buffer || heap.byteLength <= memory.buffer.byteLength ? memory : null;
}

/** The module instantiated on `memory`, or null where it cannot be. */
function instanceOn(memory: WebAssembly.Memory): FilterGradExports | null {
  let exports = instances.get(memory);
  if (exports !== undefined) return exports;
  const shared =
    typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
  const key = shared ? 'shared' : 'plain';
  if (compiled[key] === undefined) {
    compiled[key] = compile(shared ? FILTER_GRAD_SHARED_WASM_BASE64 : FILTER_GRAD_WASM_BASE64);
  }
  const module = compiled[key];
  exports = null;
  if (module) {
    try {
      exports = new WebAssembly.Instance(module, { env: { memory } })
        .exports as unknown as FilterGradExports;
    } catch {
      exports = null;
    }
  }
  instances.set(memory, exports);
  return exports;
}

function kernelOf(backend: unknown): FilterGradExports | null {
  const b = backend as WasmBackendLike;
  if (!b || typeof b.makeOutput !== 'function' || !b.dataIdMap) return null;
  const memory = backendMemory(b);
  return memory ? instanceOn(memory) : null;
}

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
function filterGradKernel({
  inputs,
  backend,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const b = backend as WasmBackendLike;
  const kernel = kernelOf(b);
  if (!kernel) throw new Error(`${SEG_CONV2D_BACKPROP_FILTER}: the SIMD module is unavailable`);
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as FilterGradAttrs;
  const [n, h, w, ci] = x.shape as [number, number, number, number];
  const [, ho, wo, co] = dy.shape as [number, number, number, number];
  const out = b.makeOutput([a.filterHeight, a.filterWidth, ci, co], 'float32');
  const outOffset = b.dataIdMap.get(out.dataId)!.memoryOffset;
  const [tileRows, tileCols] = tileShape(wo, ci, co);
  kernel.filterGrad(
    b.dataIdMap.get(x.dataId)!.memoryOffset,
    b.dataIdMap.get(dy.dataId)!.memoryOffset,
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
  );
  return out;
}

/** The kernel's registration (wasm backend). */
export const wasmFilterGradKernelConfig: tf.KernelConfig = {
  kernelName: SEG_CONV2D_BACKPROP_FILTER,
  backendName: 'wasm',
  kernelFunc: filterGradKernel as unknown as tf.KernelFunc,
};
