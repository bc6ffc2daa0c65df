// How the multi-threaded SIMD build of tfjs-backend-wasm 4.22 is started
// (private to initBackend).
//
// initBackend runs the threaded build for its shared memory (@seg's kernels
// and their helper threads work on it) with XNNPACK's pool at one thread.
// The build still makes Emscripten pthread workers as it starts, each
// importing the build's JavaScript glue, and in Node that stops it: tfjs
// turns `WASM_HAS_MULTITHREAD_SUPPORT` off (tfjs issue 3830). Its pthread
// worker script is a `blob:` URL, which `worker_threads` refuses
// (ERR_WORKER_PATH), and the glue it hands the workers is a Blob of the
// bundle's transpiled factory, which refers to the bundle's own variables.
// The package also ships both untranspiled (`wasm-out/…-threaded-simd.js`,
// `wasm-out/…-threaded-simd.worker.js`, the latter exporting the worker
// script as a string). So while the backend starts, the `Worker` that the
// glue makes its pthreads with is a worker_threads Worker that evaluates
// that script (`eval: true`), and its `load` message names the glue file.
// (The build caps its pool at half the logical cores; at one thread the cap
// never applies.)
//
// Nothing in node_modules is modified; all of it is undone once the backend
// has started (its pthreads are made then, and never later).
import { importNodeBuiltin, isNode } from './pool/protocol.js';

/** The most threads `initBackend` runs (tfjs-backend-wasm 4.22 pre-creates 8 pthread workers). */
export const MAX_WASM_THREADS = 8;

const WORKER_FILE =
  '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js';
const GLUE_FILE = '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';

// A wasm module using shared memory and an atomic op (wasm-feature-detect's
// threads test, as tfjs's own flag uses).
const THREADS_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65,
  0, 254, 16, 2, 0, 26, 11,
]);

/** What {@link prepareThreads} set up for one start of the threaded build. */
export interface ThreadsSetup {
  /** Undoes the set-up; call once the backend has started (or failed to). */
  restore(): void;
  /** Rejects with a pthread worker's error (Node), which would otherwise end the process. */
  failure: Promise<never>;
  /** Stops every pthread worker this start made (after a failed start). */
  terminate(): void;
}

/** The pthread side of a started threaded module (Emscripten's `PThread`). */
interface PThreadPool {
  unusedWorkers: { terminate(): unknown }[];
  runningWorkers: { unref?(): void }[];
}

/** Why threads cannot run here, or undefined when they can. */
export function threadsUnavailable(simd: boolean): string | undefined {
  if (!simd) return 'WebAssembly SIMD is unavailable (the threaded build needs it)';
  if (typeof SharedArrayBuffer !== 'function') {
    return isNode()
      ? 'SharedArrayBuffer is unavailable in this runtime'
      : 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp), so SharedArrayBuffer is unavailable';
  }
  if (!isNode() && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== true) {
    return 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  }
  try {
    if (!WebAssembly.validate(THREADS_PROBE)) return 'WebAssembly threads are unavailable';
  } catch {
    return 'WebAssembly threads are unavailable';
  }
  return undefined;
}

/**
 * Readies the runtime for the threaded build; the caller then sets
 * `WASM_HAS_MULTITHREAD_SUPPORT`, calls `setThreadsCount`, starts the
 * backend (racing {@link ThreadsSetup.failure}) and calls
 * {@link ThreadsSetup.restore}. Nothing to do in a browser. Rejects where the
 * Node set-up lacks a piece.
 */
export async function prepareThreads(): Promise<ThreadsSetup> {
  if (isNode()) return prepareNode();
  return { restore: () => {}, failure: new Promise<never>(() => {}), terminate: () => {} };
}

async function prepareNode(): Promise<ThreadsSetup> {
  const [wt, mod] = await Promise.all([
    importNodeBuiltin<typeof import('node:worker_threads')>('worker_threads'),
    importNodeBuiltin<typeof import('node:module')>('module'),
  ]);
  const require = mod.createRequire(import.meta.url);
  const glue = require.resolve(GLUE_FILE);
  const contents: unknown = (require(WORKER_FILE) as { wasmWorkerContents?: unknown })
    .wasmWorkerContents;
  if (typeof contents !== 'string') {
    throw new Error(`${WORKER_FILE} exports no wasmWorkerContents string`);
  }
  // The string holds raw newlines inside string literals (tfjs escapes them
  // the same way before making its Blob).
  const script = contents.replace(/\n/g, '\\n');
  let fail: (e: unknown) => void = () => {};
  const failure = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failure.catch(() => {}); // observed by the caller's race only
  const made = new Set<import('node:worker_threads').Worker>();
  let starting = true;

  /** A pthread worker: the build's worker script, fed the glue file by path. */
  class PthreadWorker extends wt.Worker {
    constructor(url: unknown) {
      // a CommonJS script with no inherited flags (not --input-type=module,
      // nor a parent's loaders such as tsx's)
      super(script, { eval: true, execArgv: [] });
      made.add(this);
      // the blob: URL tfjs made for its own script is not needed
      if (typeof url === 'string' && url.startsWith('blob:')) URL.revokeObjectURL(url);
    }
    override postMessage(
      message: unknown,
      transfer?: readonly import('node:worker_threads').TransferListItem[],
    ): void {
      const m = message as { cmd?: unknown; urlOrBlob?: unknown } | null;
      if (m?.cmd === 'load' && typeof m.urlOrBlob !== 'string') message = { ...m, urlOrBlob: glue };
      super.postMessage(message, transfer);
    }
    // The glue's error listener rethrows, which would end the process: while
    // the backend starts, the error goes to `failure` instead and the start
    // falls back to one thread (later errors keep the glue's behaviour).
    // biome-ignore lint/suspicious/noExplicitAny: the base's overloads take any listener
    override on(event: string | symbol, listener: (...args: any[]) => void): this {
      if (event !== 'error') return super.on(event, listener);
      return super.on('error', (e: unknown) => {
        if (!starting) {
          listener(e);
          return;
        }
        fail(e);
        try {
          listener(e);
        } catch {
          // reported through `failure`
        }
      });
    }
  }

  // The glue runs `Worker = require('worker_threads').Worker` on the global
  // object and then `new Worker(url)`: while the backend starts, the global
  // reads as PthreadWorker and ignores that write.
  const g = globalThis as Record<string, unknown>;
  const workerBefore = Object.getOwnPropertyDescriptor(g, 'Worker');
  Object.defineProperty(g, 'Worker', {
    configurable: true,
    get: () => PthreadWorker,
    set: () => {},
  });
  return {
    restore: () => {
      starting = false;
      if (workerBefore) Object.defineProperty(g, 'Worker', workerBefore);
      else delete g.Worker;
    },
    failure,
    terminate: () => {
      for (const w of made) void w.terminate();
      made.clear();
    },
  };
}

/**
 * After a threaded start in Node: the pthreads that run keep no event-loop
 * reference (the process can exit, as with one thread), and the pre-created
 * workers the pool did not take are stopped (they only hold memory).
 */
export function settleWorkers(wasmModule: unknown): void {
  const pool = (wasmModule as { PThread?: PThreadPool } | undefined)?.PThread;
  if (!pool || !isNode()) return;
  for (const w of pool.runningWorkers) w.unref?.();
  for (const w of pool.unusedWorkers.splice(0)) void w.terminate();
}
