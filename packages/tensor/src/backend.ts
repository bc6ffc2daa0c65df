import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import './gradients/register.js';
import { assertInt, SegRangeError, SegValueError } from './errors.js';
import {
  kernelThreads,
  startKernelThreads,
  stopKernelThreads,
} from './gradients/wasm/kernel-threads.js';
import { importNodeBuiltin, isNode } from './pool/protocol.js';
import {
  MAX_WASM_THREADS,
  prepareThreads,
  settleWorkers,
  type ThreadsSetup,
  threadsUnavailable,
} from './wasm-threads.js';

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
  /**
   * wasm threads per op, 1 to 8. Above 1 runs tfjs's multi-threaded SIMD
   * build: in Node on worker_threads, in a browser where the page is
   * cross-origin isolated (COOP/COEP). @seg's SIMD kernels (matMul,
   * fusedConv2d, the Conv2D gradients, segSgd) split their work over that
   * many threads (helper Workers on the same memory), so this speeds up a
   * single job made of large kernels; tfjs's own kernels (XNNPACK's) run on
   * the calling thread: two thread pools on the same cores contend (XNNPACK's
   * workers spin after each op, on the core @seg's helper needs), measured
   * in the package README. To run several jobs at once, a
   * {@link WorkerPool} of one-thread workers is the other way.
   *
   * @default Node: the `SEG_WASM_THREADS` environment variable when set
   * (in every thread of the process); else 1 on the main thread and 1 in a
   * worker thread. Browser: tfjs's own choice (threads when the page is
   * cross-origin isolated, `navigator.hardwareConcurrency / 2` of them).
   * Ignored when the wasm backend already runs and `threads` is not given.
   */
  threads?: number;
}

/** What {@link initBackend} set up. */
export interface BackendReport {
  backend: BackendName;
  /** WebAssembly SIMD in use (wasm backend only). */
  simd: boolean;
  /**
   * Threads that run each wasm op: 1 is the calling thread alone; N > 1 is the
   * multi-threaded SIMD build with N threads for @seg's SIMD kernels (the
   * caller and N − 1 helpers; tfjs's own kernels on the caller alone when N
   * was asked for, XNNPACK's pool of N threads on tfjs's own default in a
   * browser). Always 1 on the cpu backend.
   */
  threads: number;
  /**
   * Present when fewer threads run than were asked for (by
   * {@link InitBackendOptions.threads} or the default): why, e.g. the page is
   * not cross-origin isolated, or the threaded build failed to start (its
   * error). The backend then runs on one thread.
   */
  threadsFallback?: string;
}

/**
 * How many helper threads @seg's SIMD kernels (`matMul`, `fusedConv2d`, the
 * Conv2D input and filter gradients) run on now, besides the calling thread,
 * for the wasm backend that {@link initBackend} started in this thread (a
 * diagnostic: the kernels use them by themselves).
 *
 * `threads − 1` once `initBackend` runs the multi-threaded build with
 * `threads` > 1: Workers (worker_threads in Node) that instantiated the
 * kernels on the backend's shared memory and answered. 0 on one thread
 * ({@link BackendReport.threadsFallback} says why when more were asked
 * for), before the wasm backend starts, where the helpers could not be
 * made (e.g. a Content-Security-Policy that refuses `blob:` workers; the
 * kernels then run on the calling thread, with the same results), and after
 * a helper stopped answering (the kernels go on alone; a console warning
 * says so). Counted whichever backend is active.
 *
 * @example
 * const { threads } = await initBackend({ threads: 2 }); // 2 where threads are available
 * kernelHelpers();                                      // 1 (threads − 1)
 * await initBackend({ threads: 1 });
 * kernelHelpers();                                      // 0
 */
export function kernelHelpers(): number {
  const wasm = tf.engine().registry.wasm;
  return wasm === undefined ? 0 : kernelThreads(wasm) - 1;
}

/** What the last wasm start made: its thread count and fallback reason. */
let wasmStarted: { threads: number; fallback?: string } | undefined;
/** initBackend calls run one after another (a start is not re-entrant). */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Selects and initialises a tfjs backend; resolves once ops can run.
 * Gradients for every tfjs-core op, and a Conv2D gradient that works on wasm
 * and with dilation > 1, are registered when `@seg/tensor` is imported.
 *
 * On wasm, `threads` > 1 runs the multi-threaded SIMD build (see
 * {@link InitBackendOptions.threads}); where threads are unavailable it runs
 * on one thread and says why in {@link BackendReport.threadsFallback}.
 * Asking for another thread count than the running one restarts the wasm
 * backend: tensors made on it before are lost (disposing them is a no-op;
 * reading them throws).
 *
 * @example
 * const report = await initBackend();          // { backend: 'wasm', simd: true, threads: 1 }
 * await initBackend({ threads: 2 });          // { backend: 'wasm', simd: true, threads: 2 }
 * await initBackend({ backend: 'cpu' });      // the reference backend, for tests
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendReport> {
  const run = queue.then(() => start(options));
  queue = run.catch(() => {});
  return run;
}

async function start(options: InitBackendOptions): Promise<BackendReport> {
  const backend = options.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'cpu') {
    throw new SegValueError(
      `initBackend: backend is ${JSON.stringify(backend)}, expected 'wasm' or 'cpu'`,
    );
  }
  if (options.threads !== undefined) {
    assertInt('initBackend', 'threads', options.threads, 1, MAX_WASM_THREADS);
  }
  if (backend === 'cpu') {
    const ok = await tf.setBackend('cpu');
    if (!ok) throw new SegValueError('initBackend: the cpu backend failed to initialise');
    await tf.ready();
    return { backend, simd: false, threads: 1 };
  }
  if (options.wasmPaths !== undefined && tf.engine().registry.wasm === undefined) {
    setWasmPaths(options.wasmPaths as string);
  }
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const live = tf.engine().registry.wasm !== undefined;
  const running = live ? (wasmStarted?.threads ?? runningThreads()) : undefined;
  if (live && (options.threads === undefined || options.threads === running)) {
    await setWasm();
    return report(simd, running!, wasmStarted?.fallback);
  }
  const wanted = options.threads ?? (await defaultThreads());
  if (live) restartWasm();
  wasmStarted = undefined;
  const started = await startWasm(wanted, simd);
  wasmStarted = started;
  return report(simd, started.threads, started.fallback);
}

function report(simd: boolean, threads: number, fallback?: string): BackendReport {
  return fallback === undefined
    ? { backend: 'wasm', simd, threads }
    : { backend: 'wasm', simd, threads, threadsFallback: fallback };
}

function runningThreads(): number {
  try {
    return Math.max(1, getThreadsCount());
  } catch {
    return 1;
  }
}

async function setWasm(): Promise<void> {
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new SegValueError('initBackend: the wasm backend failed to initialise');
  await tf.ready();
}

/** wanted = undefined: tfjs's own choice (browser default). */
async function startWasm(
  wanted: number | undefined,
  simd: boolean,
): Promise<{ threads: number; fallback?: string }> {
  const unavailable = threadsUnavailable(simd);
  if (wanted === undefined) {
    // tfjs's own default: threads where the page allows them, its own count
    await setWasm();
    const threads = runningThreads();
    if (threads > 1) await startKernelThreads(tf.backend(), threads);
    return threads === 1 && unavailable ? { threads, fallback: unavailable } : { threads };
  }
  if (wanted === 1 || unavailable !== undefined) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setThreadsCount(1);
    await setWasm();
    return wanted === 1 ? { threads: 1 } : { threads: 1, fallback: unavailable };
  }
  let failure: string | undefined;
  let setup: ThreadsSetup | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    restartWasm(); // with the factory that keeps its error
    setup = await prepareThreads();
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    // XNNPACK's pool: the calling thread alone (its workers would spin on the
    // cores @seg's helpers work on); the threaded build for the shared memory
    setThreadsCount(1);
    lastStartError = undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no start within ${START_TIMEOUT_MS / 1000} s`)),
        START_TIMEOUT_MS,
      );
    });
    const ok = await Promise.race([tf.setBackend('wasm'), setup.failure, timeout]);
    if (!ok) throw lastStartError ?? new Error('tf.setBackend returned false');
    await tf.ready();
  } catch (e) {
    failure = `the threaded build failed to start: ${e instanceof Error ? e.message : String(e)}`;
    setup?.terminate();
  } finally {
    clearTimeout(timer);
    setup?.restore();
  }
  if (failure !== undefined) {
    restartWasm();
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setThreadsCount(1);
    await setWasm();
    return { threads: 1, fallback: failure };
  }
  settleWorkers((tf.engine().registry.wasm as unknown as { wasm?: unknown }).wasm);
  const threads = await startKernelThreads(tf.backend(), wanted);
  return threads < wanted
    ? { threads, fallback: `@seg's kernel helpers started ${threads} of ${wanted} threads` }
    : { threads };
}

/** How long a threaded start may take before it counts as failed. */
const START_TIMEOUT_MS = 60_000;

/** The error of the last failed wasm start (tf.setBackend only logs it). */
let lastStartError: unknown;

/**
 * Drops the wasm backend (and the tensors on it) and registers its factory
 * again, so that the next `tf.setBackend('wasm')` starts a new module.
 */
function restartWasm(): void {
  if (wasmFactory === undefined) {
    throw new SegValueError('initBackend: no wasm backend is registered');
  }
  const old = tf.engine().registry.wasm;
  stopKernelThreads();
  if (tf.engine().registryFactory.wasm !== undefined) tf.removeBackend('wasm');
  // Tensors of the old module are gone with it: disposing one is a no-op
  // (instead of a TypeError from the disposed backend).
  if (old !== undefined) old.disposeData = () => true;
  const { factory, priority } = wasmFactory;
  tf.registerBackend(
    'wasm',
    async () => {
      try {
        return await factory();
      } catch (e) {
        lastStartError = e;
        throw e;
      }
    },
    priority,
  );
}

/** tfjs-backend-wasm's own factory, as registered when it was imported. */
const wasmFactory = tf.engine().registryFactory.wasm
  ? { ...tf.engine().registryFactory.wasm! }
  : undefined;

/**
 * The thread count when none is asked for. Node: the `SEG_WASM_THREADS`
 * environment variable when set (for every thread of the process, workers
 * included); else 1 in a worker thread (a {@link WorkerPool} already spreads
 * work over the cores) and {@link DEFAULT_NODE_THREADS} on the main thread.
 * Browser: undefined (tfjs's own count).
 */
async function defaultThreads(): Promise<number | undefined> {
  if (!isNode()) return undefined;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env?.SEG_WASM_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
      throw new SegRangeError(
        `initBackend: SEG_WASM_THREADS is ${JSON.stringify(env)}, expected an integer in [1, ${MAX_WASM_THREADS}]`,
      );
    }
    return n;
  }
  const wt = await importNodeBuiltin<typeof import('node:worker_threads')>('worker_threads');
  return wt.isMainThread ? DEFAULT_NODE_THREADS : 1;
}

/** Threads on the main thread in Node when none are asked for. */
const DEFAULT_NODE_THREADS = 1;
