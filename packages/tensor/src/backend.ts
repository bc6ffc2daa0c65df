import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import './gradients/register.js';
import { SegValueError } from './errors.js';

/** The backends `@seg` runs on. */
export type BackendName = 'wasm' | 'cpu';

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** @default 'wasm' (WebAssembly with SIMD where the runtime has it) */
  backend?: BackendName;
  /**
   * Where the `.wasm` files are, for a browser build: a folder URL ending in
   * `/`, or one URL per file (`tfjs-backend-wasm-simd.wasm`, ...). Node finds
   * them in node_modules by itself.
   */
  wasmPaths?:
    | string
    | Partial<
        Record<
          | 'tfjs-backend-wasm.wasm'
          | 'tfjs-backend-wasm-simd.wasm'
          | 'tfjs-backend-wasm-threaded-simd.wasm',
          string
        >
      >;
}

/** What {@link initBackend} set up. */
export interface BackendReport {
  backend: BackendName;
  /** WebAssembly SIMD in use (wasm backend only). */
  simd: boolean;
  /** Number of wasm threads (1 in Node: the backend never threads there). */
  threads: number;
}

/**
 * Selects and initialises a tfjs backend; resolves once ops can run.
 * Gradients for every tfjs-core op, and a Conv2D gradient that works on wasm
 * and with dilation > 1, are registered when `@seg/tensor` is imported.
 *
 * @example
 * const report = await initBackend();          // { backend: 'wasm', simd: true, threads: 1 }
 * await initBackend({ backend: 'cpu' });      // the reference backend, for tests
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendReport> {
  const backend = options.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'cpu') {
    throw new SegValueError(
      `initBackend: backend is ${JSON.stringify(backend)}, expected 'wasm' or 'cpu'`,
    );
  }
  if (backend === 'wasm' && options.wasmPaths !== undefined) {
    setWasmPaths(options.wasmPaths as string);
  }
  const ok = await tf.setBackend(backend);
  if (!ok) throw new SegValueError(`initBackend: the ${backend} backend failed to initialise`);
  await tf.ready();
  if (backend === 'cpu') return { backend, simd: false, threads: 1 };
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const multi = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  const threads = multi ? Math.max(1, getThreadsCount()) : 1;
  return { backend, simd, threads };
}
