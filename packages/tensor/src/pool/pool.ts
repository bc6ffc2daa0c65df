import { assertInt, assertNumber, assertObject, SegValueError } from '../errors.js';
import { importNodeBuiltin, isNode, type TaskRequest, type TaskResponse } from './protocol.js';

/** The part of a Web Worker or a Node worker thread the pool uses. */
interface Endpoint {
  post(message: TaskRequest, transfer: ArrayBuffer[]): void;
  terminate(): Promise<void>;
}

/** Options of {@link WorkerPool.create}. */
export interface WorkerPoolOptions {
  /** The worker module: it calls `exposeTasks` from `@seg/tensor/worker`. A file URL or path in Node, a URL in the browser. */
  script: string | URL;
  /** Number of workers. @default the number of cores (navigator.hardwareConcurrency / os.availableParallelism) */
  size?: number;
  /**
   * Default time limit of a task in ms, from the moment a worker takes it:
   * past it the worker is terminated (and replaced) and the task rejects
   * with a {@link WorkerTimeoutError}. {@link RunOptions.timeout} overrides it.
   * @default Infinity (no limit)
   */
  taskTimeout?: number;
  /** Node only: `execArgv` of each worker thread. */
  execArgv?: string[];
  /** Node only: `workerData` of each worker thread. */
  workerData?: unknown;
  /**
   * Node only: `resourceLimits` of each worker thread (e.g.
   * `{ maxOldGenerationSizeMb: 512 }`): a worker past them stops with an
   * out-of-memory error, fails its task and is replaced.
   */
  resourceLimits?: {
    maxOldGenerationSizeMb?: number;
    maxYoungGenerationSizeMb?: number;
    codeRangeSizeMb?: number;
    stackSizeMb?: number;
  };
  /** Browser only: makes one worker; by default `new Worker(script, { type: 'module' })`. */
  createWorker?: () => Worker;
}

/** Per-call options of {@link WorkerPool.run}. */
export interface RunOptions {
  /** Buffers to move to the worker instead of copying (the caller loses them). */
  transfer?: ArrayBuffer[];
  /** Time limit of this task in ms (see {@link WorkerPoolOptions.taskTimeout}). */
  timeout?: number;
  /**
   * Cancels the task: a queued task leaves the queue; a running one has its
   * worker terminated (and replaced). The promise rejects with `signal.reason`.
   */
  signal?: AbortSignal;
}

/** A task failed inside a worker; `cause` holds the worker's stack. */
export class WorkerTaskError extends Error {
  override name = 'WorkerTaskError';
  constructor(
    readonly task: string,
    readonly remoteName: string,
    message: string,
    readonly remoteStack?: string,
  ) {
    super(`WorkerPool: task "${task}" failed in a worker: ${remoteName}: ${message}`);
  }
}

/**
 * The worker running a task stopped (it exited, ran out of memory, or threw
 * outside a task): that task fails with this error, the worker is replaced,
 * and the other tasks go on.
 */
export class WorkerCrashError extends Error {
  override name = 'WorkerCrashError';
  constructor(
    readonly task: string,
    reason: Error,
  ) {
    super(
      `WorkerPool: a worker stopped while running task "${task}": ${reason.message} (the worker was replaced)`,
      { cause: reason },
    );
  }
}

/** A task ran past its time limit: its worker was terminated and replaced. */
export class WorkerTimeoutError extends Error {
  override name = 'WorkerTimeoutError';
  constructor(
    readonly task: string,
    readonly timeout: number,
  ) {
    super(
      `WorkerPool: task "${task}" ran longer than its timeout of ${timeout} ms (its worker was terminated and replaced)`,
    );
  }
}

interface Job {
  req: TaskRequest;
  transfer: ArrayBuffer[];
  timeout: number;
  signal: AbortSignal | undefined;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  /** Starts the job's clock, when a worker takes it. */
  start(): void;
  /** Clears the job's timer and abort listener. */
  cleanup(): void;
}

interface Slot {
  endpoint: Endpoint;
  job: Job | null;
  /** False once the worker is terminated or dead: its late messages are ignored. */
  live: boolean;
}

/**
 * A fixed number of workers (worker_threads in Node, Web Workers in the
 * browser) that run named tasks from one worker module, one task per worker
 * at a time, in the order they were asked for.
 *
 * Failures stay local: a task that throws rejects with a
 * {@link WorkerTaskError}; a worker that exits, runs out of memory or throws
 * outside a task fails only the task it was running
 * ({@link WorkerCrashError}) and is replaced; a task past its `timeout`, or
 * whose `signal` aborts, has its worker terminated and replaced. Only when
 * a replacement cannot start does the pool stop (every waiting task rejects).
 *
 * @example
 * const pool = await WorkerPool.create({ script: new URL('./solver-worker.js', import.meta.url) });
 * const sums = await Promise.all(arrays.map((a) => pool.run<number>('sum', [a], { transfer: [a.buffer] })));
 * const late = await pool.run('solve', [problem], { timeout: 60_000, signal: AbortSignal.timeout(90_000) });
 * await pool.close();
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;
  private failure: Error | null = null;
  private starting = 0;

  private constructor(
    private readonly options: WorkerPoolOptions,
    private readonly workers: number,
    private readonly taskTimeout: number,
  ) {}

  /** Starts the workers and resolves when every one has loaded its script. */
  static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
    const fn = 'WorkerPool.create';
    assertObject(fn, 'options', options);
    const { script } = options;
    if (typeof script !== 'string' && !(script instanceof URL)) {
      throw new SegValueError(`${fn}: script is ${String(script)}, expected a string or a URL`);
    }
    const size = options.size ?? (await defaultPoolSize());
    assertInt(fn, 'size', size, 1, 1024);
    const taskTimeout = options.taskTimeout ?? Number.POSITIVE_INFINITY;
    checkTimeout(fn, 'taskTimeout', taskTimeout);
    const pool = new WorkerPool({ ...options }, size, taskTimeout);
    const starts: Promise<void>[] = [];
    for (let i = 0; i < size; i++) starts.push(pool.spawn());
    try {
      await Promise.all(starts);
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Number of workers. */
  get size(): number {
    return this.workers;
  }

  /**
   * Runs `task(...args)` on the next free worker. Typed arrays in `args` are
   * copied unless their buffers are listed in `options.transfer`; typed arrays
   * in the result are transferred back.
   */
  run<R>(task: string, args: unknown[] = [], options: RunOptions = {}): Promise<R> {
    const fn = 'WorkerPool.run';
    try {
      if (typeof task !== 'string') {
        throw new SegValueError(`${fn}: task is ${String(task)}, expected a string`);
      }
      if (!Array.isArray(args)) {
        throw new SegValueError(
          `${fn}: args is ${String(args)}, expected an array (task "${task}")`,
        );
      }
      assertObject(fn, 'options', options);
      if (options.timeout !== undefined) checkTimeout(fn, 'options.timeout', options.timeout);
      const { signal } = options;
      if (signal !== undefined && !isAbortSignal(signal)) {
        throw new SegValueError(
          `${fn}: options.signal is ${String(signal)}, expected an AbortSignal`,
        );
      }
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.closed)
      return Promise.reject(new Error(`WorkerPool.run: the pool is closed (task "${task}")`));
    if (this.failure) return Promise.reject(this.failure);
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<R>((resolve, reject) => {
      const req: TaskRequest = { id: this.nextId++, task, args };
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => this.cancel(job, signal!.reason);
      const job: Job = {
        req,
        transfer: options.transfer ?? [],
        timeout: options.timeout ?? this.taskTimeout,
        signal,
        resolve: (v) => {
          job.cleanup();
          resolve(v as R);
        },
        reject: (e) => {
          job.cleanup();
          reject(e);
        },
        start: () => {
          if (Number.isFinite(job.timeout)) {
            timer = setTimeout(
              () => this.cancel(job, new WorkerTimeoutError(task, job.timeout)),
              job.timeout,
            );
          }
        },
        cleanup: () => {
          if (timer !== undefined) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  /** Terminates the workers; tasks not finished are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('WorkerPool: closed before the task finished');
    for (const job of this.queue.splice(0)) job.reject(err);
    await Promise.all(
      this.slots.splice(0).map(async (s) => {
        s.live = false;
        s.job?.reject(err);
        s.job = null;
        await s.endpoint.terminate();
      }),
    );
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job || !slot.live) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      try {
        slot.endpoint.post(job.req, job.transfer);
        job.start();
      } catch (e) {
        slot.job = null;
        job.reject(e);
      }
    }
  }

  /** Rejects `job` with `error`: out of the queue, or by terminating (and replacing) its worker. */
  private cancel(job: Job, error: unknown): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) {
      this.queue.splice(i, 1);
      job.reject(error);
      return;
    }
    const slot = this.slots.find((s) => s.job === job);
    if (slot === undefined) return; // already settled
    slot.job = null;
    job.reject(error);
    this.replace(slot);
  }

  private onMessage(slot: Slot, msg: TaskResponse): void {
    if (msg.id === -1 || !slot.live) return;
    const job = slot.job;
    if (!job || job.req.id !== msg.id) return;
    slot.job = null;
    if (msg.ok) job.resolve((msg as { result: unknown }).result);
    else {
      const { name, message, stack } = (
        msg as { error: { name: string; message: string; stack?: string } }
      ).error;
      job.reject(new WorkerTaskError(job.req.task, name, message, stack));
    }
    this.pump();
  }

  /** A worker died (uncaught error, exit, out of memory): fail its task only, and replace it. */
  private onCrash(slot: Slot, error: Error): void {
    if (this.closed || !slot.live) return;
    const job = slot.job;
    slot.job = null;
    job?.reject(new WorkerCrashError(job.req.task, error));
    this.replace(slot);
  }

  /** Terminates a worker (if still running) and starts another in its place. */
  private replace(slot: Slot): void {
    slot.live = false;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    void slot.endpoint.terminate().catch(() => undefined);
    if (this.closed) return;
    this.spawn().then(
      () => this.pump(),
      (e: Error) => {
        // a replacement that cannot start: once no worker is left, nothing can run
        if (this.slots.length === 0 && this.starting === 0 && !this.closed) {
          this.failure = new Error(`WorkerPool: no worker left: ${e.message}`, { cause: e });
          for (const job of this.queue.splice(0)) job.reject(this.failure);
        }
      },
    );
  }

  private async spawn(): Promise<void> {
    const options = this.options;
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    const ready = new Promise<void>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    let started = false;
    const slot: Slot = { endpoint: null as unknown as Endpoint, job: null, live: true };
    const message = (m: TaskResponse) => {
      if (m.id === -1) {
        started = true;
        readyResolve();
      } else this.onMessage(slot, m);
    };
    const crash = (e: Error) => {
      if (!started) {
        slot.live = false;
        readyReject(
          new Error(`WorkerPool.create: a worker failed to start: ${e.message}`, { cause: e }),
        );
      } else this.onCrash(slot, e);
    };
    this.starting++;
    try {
      if (isNode()) {
        const wt = await importNodeBuiltin<typeof import('node:worker_threads')>('worker_threads');
        const w = new wt.Worker(options.script, {
          execArgv: options.execArgv ?? [],
          workerData: options.workerData,
          ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
        });
        w.on('message', message);
        w.on('error', crash);
        w.on('exit', (code) => crash(new Error(`worker exited with code ${code}`)));
        slot.endpoint = {
          post: (m, t) => w.postMessage(m, t),
          terminate: async () => {
            w.removeAllListeners('exit');
            w.removeAllListeners('error');
            w.removeAllListeners('message');
            w.on('error', () => undefined);
            await w.terminate();
          },
        };
      } else {
        const w = options.createWorker?.() ?? new Worker(options.script, { type: 'module' });
        w.addEventListener('message', (e: MessageEvent<TaskResponse>) => message(e.data));
        w.addEventListener('error', (e: ErrorEvent) =>
          crash(new Error(e.message || 'worker error')),
        );
        slot.endpoint = {
          post: (m, t) => w.postMessage(m, t),
          terminate: async () => w.terminate(),
        };
      }
      await ready;
    } catch (e) {
      void slot.endpoint?.terminate().catch(() => undefined);
      throw e;
    } finally {
      this.starting--;
    }
    if (this.closed) {
      await slot.endpoint.terminate();
      return;
    }
    this.slots.push(slot);
  }
}

/** Checks a time limit in ms: a number > 0 (Infinity for none). */
function checkTimeout(fn: string, arg: string, ms: number): void {
  if (ms !== Number.POSITIVE_INFINITY) assertNumber(fn, arg, ms, 1);
}

function isAbortSignal(s: unknown): s is AbortSignal {
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof (s as AbortSignal).aborted === 'boolean' &&
    typeof (s as AbortSignal).addEventListener === 'function'
  );
}

async function defaultPoolSize(): Promise<number> {
  if (isNode()) {
    const os = await importNodeBuiltin<typeof import('node:os')>('os');
    return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  }
  return Math.max(
    1,
    (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
      ?.hardwareConcurrency ?? 2,
  );
}
