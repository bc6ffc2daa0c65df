/**
 * The hand-written SIMD kernels (conv, matmul, filter-grad) on more than one thread.
 *
 * On tfjs-backend-wasm's multi-threaded build the backend's memory is a
 * shared `WebAssembly.Memory`, but only XNNPACK's operators use its pthread
 * pool: a kernel of ours runs on the calling thread alone. Here a kernel
 * instead cuts its work into calls that write disjoint parts of its output
 * (rows of a product, output rows of a convolution, filter rows of a
 * filter gradient) and hands them to
 * helper threads: Workers (worker_threads in Node) that instantiate the same
 * modules on the same memory and wait on a shared control block.
 *
 * Each call is claimed by whoever gets it first, the calling thread
 * included, with a compare-and-swap on a counter tagged with the job's
 * generation (a helper still finishing the last job cannot claim a call of
 * the next one). So a helper that is asleep, slow to wake or gone costs
 * nothing but its share: the calling thread claims what is left and the
 * result is the same. The calling thread then waits for the calls the
 * helpers claimed (`Atomics.wait`, or a spin where the thread may not block:
 * a browser's main thread).
 *
 * The helpers start with the threaded backend ({@link startKernelThreads},
 * called by `initBackend`); on any other memory a kernel runs on one thread.
 */
import { importNodeBuiltin, isNode } from '../../pool/protocol.js';
import { backendMemory, compileModule, type WasmBackendLike } from './backend-module.js';
import {
  CONV_SHARED_WASM_BASE64,
  FILTER_GRAD_SHARED_WASM_BASE64,
  MATMUL_SHARED_WASM_BASE64,
} from './kernels-wasm.js';

/** The exports the helpers run: module (shared build) and function name. */
const FUNCTIONS = [
  { module: MATMUL_SHARED_WASM_BASE64, name: 'matmul' },
  { module: MATMUL_SHARED_WASM_BASE64, name: 'axpy' },
  { module: MATMUL_SHARED_WASM_BASE64, name: 'packPanels' },
  { module: MATMUL_SHARED_WASM_BASE64, name: 'matmulCols' },
  { module: MATMUL_SHARED_WASM_BASE64, name: 'dotCols' },
  { module: CONV_SHARED_WASM_BASE64, name: 'conv' },
  { module: CONV_SHARED_WASM_BASE64, name: 'pad' },
  { module: FILTER_GRAD_SHARED_WASM_BASE64, name: 'filterGrad' },
] as const;

/** A function the helpers can run (see {@link runParts}). */
export type KernelFunction = (typeof FUNCTIONS)[number]['name'];

/** Each function's index in {@link FUNCTIONS} (the control block names it so). */
const FUNCTION_INDEX = Object.fromEntries(FUNCTIONS.map((f, i) => [f.name, i])) as Record<
  KernelFunction,
  number
>;

// The control block (Int32Array slots), then the calls' arguments.
const SEQ = 0; // the job's generation (1…0x7fff); -1 stops the helpers
const NEXT = 1; // generation << 16 | the next unclaimed call
const DONE = 2; // calls finished
const CALLS = 3; // calls in the job
const FN = 4; // index in FUNCTIONS
const NARGS = 5; // arguments per call
const FAILED = 6; // a call threw (a helper's message in `failures`)
const STALL = 7; // tests: 1 makes a helper stop after claiming a call, until it is 0 again
const MARKS = 8; // per call: the generation of the job it was last finished in
/** The most calls in one job (more are run as several jobs). */
const MAX_CALLS = 256;
/** NEXT's call index once a job is closed: above any call index, so nothing is claimed. */
const CLOSED = 0xffff;
const HEADER = MARKS + MAX_CALLS;
/** Loads of the control block before a thread sleeps (tens of microseconds). */
const SPIN = 20000;
/**
 * The fewest multiply-adds worth a part of a kernel on another thread (about
 * 10 µs of work); tests lower it to cut small products into parts.
 */
export const partTuning = {
  minMacs: 1 << 18,
  /**
   * How long the calling thread waits for a helper's part (ms) before it
   * computes the part itself and stops the helpers; at least this, or 20
   * times the longest part the calling thread ran. Tests lower it.
   */
  stallMs: 60_000,
};

/**
 * How many parts a kernel of `macs` multiply-adds is cut into on `threads`
 * threads: about 2 per thread (a thread that finishes first takes another),
 * each of at least {@link partTuning}'s `minMacs`; 1 on one thread.
 */
export function partsFor(macs: number, threads: number): number {
  return threads > 1
    ? Math.max(1, Math.min(2 * threads, Math.floor(macs / partTuning.minMacs)))
    : 1;
}

const MAX_ARGS = 24;

/**
 * A helper's code (a classic script: `eval` in worker_threads, a Blob URL in
 * a browser). It gets { modules, names, memory, control } in its first
 * message, instantiates the modules on the memory and claims calls of every
 * job published in the control block until SEQ is -1.
 */
const HELPER_SOURCE = `
'use strict';
const start = ({ modules, names, memory, control }, post) => {
  const ctrl = new Int32Array(control);
  const instances = modules.map((m) => new WebAssembly.Instance(m, { env: { memory } }).exports);
  const fns = names.map(([i, name]) => instances[i][name]);
  post({ ready: true });
  let gen = Atomics.load(ctrl, ${SEQ});
  for (;;) {
    // the next kernel often follows within microseconds: look before sleeping
    for (let spin = 0; spin < ${SPIN} && Atomics.load(ctrl, ${SEQ}) === gen; spin++);
    Atomics.wait(ctrl, ${SEQ}, gen);
    gen = Atomics.load(ctrl, ${SEQ});
    if (gen < 0) return;
    for (;;) {
      const v = Atomics.load(ctrl, ${NEXT});
      const n = Atomics.load(ctrl, ${CALLS});
      if (v >>> 16 !== gen || (v & 0xffff) >= n) break;
      if (Atomics.compareExchange(ctrl, ${NEXT}, v, v + 1) !== v) continue;
      const i = v & 0xffff;
      const nargs = Atomics.load(ctrl, ${NARGS});
      const at = ${HEADER} + i * nargs;
      while (Atomics.load(ctrl, ${STALL}) === 1) Atomics.wait(ctrl, ${STALL}, 1);
      try {
        fns[Atomics.load(ctrl, ${FN})](...ctrl.subarray(at, at + nargs));
      } catch (e) {
        Atomics.store(ctrl, ${FAILED}, 1);
        post({ failure: String(e && e.message || e) });
      }
      Atomics.store(ctrl, ${MARKS} + i, gen);
      Atomics.add(ctrl, ${DONE}, 1);
      Atomics.notify(ctrl, ${DONE});
    }
  }
};
if (typeof self === 'undefined') {
  // Node: an eval'd worker is CommonJS, or ESM under --input-type=module (no
  // require there); import() works in both, and the port queues the message
  import('node:worker_threads').then(({ parentPort }) => {
    parentPort.once('message', (data) => start(data, (m) => parentPort.postMessage(m)));
  });
} else {
  self.onmessage = (e) => { self.onmessage = null; start(e.data, (m) => self.postMessage(m)); };
}
`;

interface Helper {
  terminate(): unknown;
}

/** The helpers of one memory. */
interface Threads {
  memory: WebAssembly.Memory;
  ctrl: Int32Array;
  helpers: Helper[];
  gen: number;
  /** Whether this thread may block in `Atomics.wait` (not a browser's main thread). */
  canWait: boolean;
  failure?: string;
}

let current: Threads | undefined;

/**
 * Starts `threads − 1` helper threads for the kernels on `backend`'s memory
 * (stopping those of an earlier memory). Resolves with the threads the
 * kernels now run on (1 where the memory is not shared, helpers cannot be
 * made or the modules do not compile).
 */
export async function startKernelThreads(backend: unknown, threads: number): Promise<number> {
  stopKernelThreads();
  const memory = backendMemory(backend as WasmBackendLike);
  if (
    threads < 2 ||
    !memory ||
    typeof SharedArrayBuffer !== 'function' ||
    !(memory.buffer instanceof SharedArrayBuffer)
  ) {
    return 1;
  }
  const modules: WebAssembly.Module[] = [];
  const names: [number, string][] = [];
  for (const f of FUNCTIONS) {
    const m = compileModule(f.module);
    if (!m) return 1;
    let i = modules.indexOf(m);
    if (i < 0) i = modules.push(m) - 1;
    names.push([i, f.name]);
  }
  const control = new SharedArrayBuffer(4 * (HEADER + MAX_CALLS * MAX_ARGS));
  const ctrl = new Int32Array(control);
  const started: Helper[] = [];
  const threadsState: Threads = { memory, ctrl, helpers: started, gen: 0, canWait: canBlock(ctrl) };
  try {
    for (let t = 1; t < threads; t++) {
      started.push(await makeHelper({ modules, names, memory, control }, threadsState));
    }
  } catch {
    for (const h of started) h.terminate();
    return 1;
  }
  current = threadsState;
  return threads;
}

/** Stops the helper threads (before the backend's module is dropped). */
export function stopKernelThreads(): void {
  if (!current) return;
  Atomics.store(current.ctrl, SEQ, -1);
  Atomics.notify(current.ctrl, SEQ);
  for (const h of current.helpers) h.terminate();
  current = undefined;
}

/** The threads a kernel on `backend`'s memory runs on (1 + its helpers). */
export function kernelThreads(backend: unknown): number {
  if (!current) return 1;
  return backendMemory(backend as WasmBackendLike) === current.memory
    ? 1 + current.helpers.length
    : 1;
}

/**
 * Runs `local(...call)` for every call, on the calling thread and the
 * helpers of `backend`'s memory (on the calling thread alone without
 * helpers, or for one call). `fn` names the helpers' copy of `local`: the
 * same export of the same module. The calls must write disjoint memory.
 * Throws when a call threw on a helper.
 */
export function runParts(
  backend: unknown,
  fn: KernelFunction,
  local: (...args: number[]) => void,
  calls: readonly (readonly number[])[],
): void {
  const t = current;
  if (calls.length <= 1 || !t || backendMemory(backend as WasmBackendLike) !== t.memory) {
    for (const c of calls) local(...c);
    return;
  }
  if (calls.length > MAX_CALLS) {
    // more calls than the control block holds: jobs of MAX_CALLS in turn
    for (let i = 0; i < calls.length; i += MAX_CALLS) {
      runParts(backend, fn, local, calls.slice(i, i + MAX_CALLS));
    }
    return;
  }
  const nargs = calls[0]!.length;
  if (nargs > MAX_ARGS) throw new Error(`runParts: ${nargs} arguments, at most ${MAX_ARGS}`);
  const { ctrl } = t;
  // Close the last job before anything of this one is written: a helper that
  // read NEXT while that job was still open, and then this job's CALLS, would
  // otherwise claim a call of this job (its CAS on NEXT still succeeding)
  // before its arguments, FN and NARGS were all written, and run it with
  // half of them (wild pointers: out-of-bounds traps on both threads, seen
  // every few thousand back-to-back jobs of an MLP step). With NEXT closed,
  // such a CAS fails: it expected the open value.
  Atomics.store(ctrl, NEXT, (t.gen << 16) | CLOSED);
  for (let i = 0; i < calls.length; i++) ctrl.set(calls[i]!, HEADER + i * nargs);
  const n = calls.length;
  t.gen = (t.gen % 0x7fff) + 1;
  const gen = t.gen;
  Atomics.store(ctrl, CALLS, n);
  Atomics.store(ctrl, FN, FUNCTION_INDEX[fn]);
  Atomics.store(ctrl, NARGS, nargs);
  Atomics.store(ctrl, DONE, 0);
  Atomics.store(ctrl, FAILED, 0);
  for (let i = 0; i < n; i++) Atomics.store(ctrl, MARKS + i, 0); // no mark left from 0x7fff jobs ago
  Atomics.store(ctrl, NEXT, gen << 16);
  Atomics.store(ctrl, SEQ, gen);
  Atomics.notify(ctrl, SEQ);
  let mine = 0;
  let longest = 0;
  // claim calls as the helpers do (HELPER_SOURCE's loop, which must stay in step)
  for (;;) {
    const v = Atomics.load(ctrl, NEXT);
    if ((v & 0xffff) >= n) break;
    if (Atomics.compareExchange(ctrl, NEXT, v, v + 1) !== v) continue;
    const i = v & 0xffff;
    const t0 = performance.now();
    local(...calls[i]!);
    longest = Math.max(longest, performance.now() - t0);
    Atomics.store(ctrl, MARKS + i, gen);
    mine++;
  }
  const target = n - mine;
  const patience = Math.max(partTuning.stallMs, 20 * longest);
  const start = performance.now();
  for (let spin = 0; ; spin++) {
    const done = Atomics.load(ctrl, DONE);
    if (done >= target) break;
    if (spin >= SPIN) {
      if (performance.now() - start > patience) {
        stalled(t, fn, patience, calls, local, gen);
        return;
      }
      if (t.canWait) Atomics.wait(ctrl, DONE, done, Math.min(1000, patience));
    }
  }
  if (Atomics.load(ctrl, FAILED)) {
    throw new Error(`${fn}: a call failed on a kernel thread${t.failure ? `: ${t.failure}` : ''}`);
  }
}

/**
 * A helper has not finished its part within `patience` ms (it may have
 * died, or its core be starved): the calling thread computes every call not
 * marked done in this job (a helper finishing one of them meanwhile writes
 * the same values), then stops the helpers, so later kernels run on one
 * thread; says so once on the console.
 */
function stalled(
  t: Threads,
  fn: KernelFunction,
  patience: number,
  calls: readonly (readonly number[])[],
  local: (...args: number[]) => void,
  gen: number,
): void {
  for (let i = 0; i < calls.length; i++) {
    if (Atomics.load(t.ctrl, MARKS + i) !== gen) local(...calls[i]!);
  }
  Atomics.store(t.ctrl, STALL, 0);
  stopKernelThreads();
  console.warn(
    `${fn}: a kernel thread did not finish its part within ${(patience / 1000).toFixed(1)} s; the calling thread computed it, and the SIMD kernels run on one thread from now on`,
  );
}

/** Tests: makes the helpers stop after claiming a call (`true`) or go on. */
export function stallKernelThreadsForTests(stall: boolean): void {
  if (!current) return;
  Atomics.store(current.ctrl, STALL, stall ? 1 : 0);
  Atomics.notify(current.ctrl, STALL);
}

/**
 * Cuts `[0, extent)` into at most `parts` ranges, each a multiple of `align`
 * long but the last: the `[start, end)` of each.
 */
export function splitRange(extent: number, parts: number, align: number): [number, number][] {
  const size = Math.ceil(Math.ceil(extent / Math.max(1, parts)) / align) * align;
  const out: [number, number][] = [];
  for (let s = 0; s < extent; s += size) out.push([s, Math.min(extent, s + size)]);
  return out;
}

function canBlock(ctrl: Int32Array): boolean {
  try {
    Atomics.wait(ctrl, FAILED, 1, 0); // 'not-equal' where blocking is allowed
    return true;
  } catch {
    return false; // a browser's main thread
  }
}

async function makeHelper(
  data: {
    modules: WebAssembly.Module[];
    names: [number, string][];
    memory: WebAssembly.Memory;
    control: SharedArrayBuffer;
  },
  state: Threads,
): Promise<Helper> {
  const onMessage = (m: { ready?: boolean; failure?: string }, ready: () => void): void => {
    if (m.ready) ready();
    if (m.failure !== undefined) {
      state.failure = m.failure;
      console.error('HELPER FAILURE', m.failure);
    }
  };
  if (isNode()) {
    const wt = await importNodeBuiltin<typeof import('node:worker_threads')>('worker_threads');
    const w = new wt.Worker(HELPER_SOURCE, { eval: true });
    await new Promise<void>((resolve, reject) => {
      w.on('message', (m) => onMessage(m, resolve));
      w.once('error', reject);
      w.once('exit', () => reject(new Error('a kernel thread exited')));
      w.postMessage(data);
    });
    w.unref();
    return w;
  }
  const url = URL.createObjectURL(new Blob([HELPER_SOURCE], { type: 'text/javascript' }));
  const w = new Worker(url);
  URL.revokeObjectURL(url);
  await new Promise<void>((resolve, reject) => {
    w.onmessage = (e: MessageEvent) => onMessage(e.data, resolve);
    w.onerror = (e) => reject(new Error(e.message));
    w.postMessage(data);
  });
  return w;
}
