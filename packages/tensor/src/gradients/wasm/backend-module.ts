/**
 * What the hand-written SIMD kernels (filter-grad, matmul, conv) share: how
 * each module is compiled and instantiated on tfjs-backend-wasm's own
 * memory, so that it reads and writes tensors where the backend keeps them,
 * with no copies.
 *
 * Relies on tfjs-backend-wasm 4.22's `BackendWasm`: `dataIdMap.get(dataId).memoryOffset`
 * (a tensor's byte offset), `makeOutput(shape, dtype)` (allocates on its heap)
 * and its Emscripten module at `backend.wasm`, whose memory is `asm.memory`
 * (exported by the single-threaded builds) or `wasmMemory` (the shared memory
 * of the multi-threaded build).
 */
import type * as tf from '@tensorflow/tfjs-core';

/** What the kernels use of tfjs-backend-wasm 4.22's `BackendWasm`. */
export interface WasmBackendLike {
  wasm?: {
    asm?: { memory?: unknown };
    wasmMemory?: unknown;
    HEAPU8?: Uint8Array;
  } | null;
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

const compiled = new Map<string, WebAssembly.Module | null>();

/**
 * A module from its bytes in base64, compiled once (the kernel threads
 * instantiate the same compiled module), or null where it cannot compile: no
 * WebAssembly SIMD (or no threads, for a shared-memory build).
 */
export function compileModule(base64: string): WebAssembly.Module | null {
  let module = compiled.get(base64);
  if (module !== undefined) return module;
  try {
    const bin = atob(base64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    module = new WebAssembly.Module(bytes);
  } catch {
    module = null;
  }
  compiled.set(base64, module);
  return module;
}

/**
 * The backend's memory, when its heap view looks at it (or at a smaller
 * buffer of it: the multi-threaded build renews its views lazily after
 * another thread grows the memory).
 */
export function backendMemory(backend: WasmBackendLike): WebAssembly.Memory | null {
  const wasm = backend.wasm;
  if (!wasm) return null;
  const memory = wasm.wasmMemory ?? wasm.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory) || !wasm.HEAPU8) return null;
  const heap = wasm.HEAPU8.buffer;
  return heap === memory.buffer || heap.byteLength <= memory.buffer.byteLength ? memory : null;
}

/**
 * A module importing the backend's memory as `env.memory`, in two builds
 * (base64): importing a non-shared memory, and a shared one (the
 * multi-threaded backend's). Gives, for a backend, the module's exports
 * instantiated on its memory (compiled once per build, instantiated once per
 * memory), or null where that cannot be: not the wasm backend, no SIMD, no
 * threads for the shared build.
 */
export function backendModule<E>(
  plainBase64: string,
  sharedBase64: string,
): (backend: unknown) => E | null {
  const instances = new WeakMap<WebAssembly.Memory, E | null>();
  const instanceOn = (memory: WebAssembly.Memory): E | null => {
    let exports = instances.get(memory);
    if (exports !== undefined) return exports;
    const shared =
      typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
    const module = compileModule(shared ? sharedBase64 : plainBase64);
    exports = null;
    if (module) {
      try {
        exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as E;
      } catch {
        exports = null;
      }
    }
    instances.set(memory, exports);
    return exports;
  };
  return (backend) => {
    const b = backend as WasmBackendLike;
    if (!b || typeof b.makeOutput !== 'function' || !b.dataIdMap) return null;
    const memory = backendMemory(b);
    return memory ? instanceOn(memory) : null;
  };
}

/** What tfjs passes a kernel function. */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/** A tensor's byte offset in the backend's memory. */
export function offsetOf(backend: WasmBackendLike, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset;
}

/** The module's exports on `backend` (a loader of {@link backendModule}), or an error naming the kernel. */
export function moduleOn<E>(
  kernelName: string,
  load: (backend: unknown) => E | null,
  backend: WasmBackendLike,
): E {
  const exports = load(backend);
  if (!exports) throw new Error(`${kernelName}: the SIMD module is unavailable`);
  return exports;
}
