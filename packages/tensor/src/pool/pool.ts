import { assertInt, assertObject, SegValueError } from '../errors.js';
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
  /** Node only: `execArgv` of each worker thread. */
  execArgv?: string[];
  /** Node only: `workerData` of each worker thread. */
  workerData?: unknown;
  /** Browser only: makes one worker; by default `new Worker(script, { type: 'module' })`. */
  createWorker?: () => Worker;
}

/** Per-call options of {@link WorkerPool.run}. */
export interface RunOptions {
  /** Buffers to move to the worker instead of copying (the caller loses them). */
  transfer?: ArrayBuffer[];
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

interface Job {
  req: TaskRequest;
  transfer: ArrayBuffer[];
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

interface Slot {
  endpoint: Endpoint;
  job: Job | null;
}

/**
 * A fixed set of workers (worker_threads in Node, Web Workers in the
 * browser) that run named tasks from one worker module, one task per worker
 * at a time, in the order they were asked for.
 *
 * @example
 * const pool = await WorkerPool.create({ script: new URL('./solver-worker.js', import.meta.url) });
 * const sums = await Promise.all(arrays.map((a) => pool.run<number>('sum', [a], { transfer: [a.buffer] })));
 * await pool.close();
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;
  private failure: Error | null = null;

  private constructor() {}

  /** Starts the workers and resolves when every one has loaded its script. */
  static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
    const fn = 'WorkerPool.create';
    assertObject(fn, 'options', options);
    const { script } = options;
    if (typeof script !== 'string' && !(script instanceof URL)) {
      throw new SegValueError(`${fn}: script is ${String(script)}, expected a string or a URL`);
    }
    const size = options.size ?? (await defaultPoolSize());
    assertInt('WorkerPool.create', 'size', size, 1, 1024);
    const pool = new WorkerPool();
    const starts: Promise<void>[] = [];
    for (let i = 0; i < size; i++) starts.push(pool.spawn(options));
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
    return this.slots.length;
  }

  /**
   * Runs `task(...args)` on the next free worker. Typed arrays in `args` are
   * copied unless their buffers are listed in `options.transfer`; typed arrays
   * in the result are transferred back.
   */
  run<R>(task: string, args: unknown[] = [], options: RunOptions = {}): Promise<R> {
    const fn = 'WorkerPool.run';
    if (typeof task !== 'string') {
      return Promise.reject(new SegValueError(`${fn}: task is ${String(task)}, expected a string`));
    }
    if (!Array.isArray(args)) {
      return Promise.reject(
        new SegValueError(`${fn}: args is ${String(args)}, expected an array (task "${task}")`),
      );
    }
    if (this.closed)
      return Promise.reject(new Error(`WorkerPool.run: the pool is closed (task "${task}")`));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<R>((resolve, reject) => {
      const req: TaskRequest = { id: this.nextId++, task, args };
      this.queue.push({
        req,
        transfer: options.transfer ?? [],
        resolve: resolve as (v: unknown) => void,
        reject,
      });
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
      this.slots.map(async (s) => {
        s.job?.reject(err);
        s.job = null;
        await s.endpoint.terminate();
      }),
    );
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      try {
        slot.endpoint.post(job.req, job.transfer);
      } catch (e) {
        slot.job = null;
        job.reject(e);
      }
    }
  }

  private onMessage(slot: Slot, msg: TaskResponse): void {
    if (msg.id === -1) return;
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

  /** A worker died (uncaught error or exit): fail its task and every later one. */
  private onCrash(slot: Slot, error: Error): void {
    if (this.closed) return;
    const err = new Error(`WorkerPool: a worker stopped: ${error.message}`, { cause: error });
    this.failure ??= err;
    slot.job?.reject(err);
    slot.job = null;
    for (const job of this.queue.splice(0)) job.reject(err);
  }

  private async spawn(options: WorkerPoolOptions): Promise<void> {
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    const ready = new Promise<void>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    let started = false;
    const slot = { endpoint: null as unknown as Endpoint, job: null } as Slot;
    const message = (m: TaskResponse) => {
      if (m.id === -1) {
        started = true;
        readyResolve();
      } else this.onMessage(slot, m);
    };
    const crash = (e: Error) => {
      if (!started)
        readyReject(
          new Error(`WorkerPool.create: a worker failed to start: ${e.message}`, { cause: e }),
        );
      else this.onCrash(slot, e);
    };
    if (isNode()) {
      const wt = await importNodeBuiltin<typeof import('node:worker_threads')>('worker_threads');
      const w = new wt.Worker(options.script, {
        execArgv: options.execArgv ?? [],
        workerData: options.workerData,
      });
      w.on('message', message);
      w.on('error', crash);
      w.on('exit', (code) => crash(new Error(`worker exited with code ${code}`)));
      slot.endpoint = {
        post: (m, t) => w.postMessage(m, t),
        terminate: async () => {
          w.removeAllListeners('exit');
          await w.terminate();
        },
      };
    } else {
      const w = options.createWorker?.() ?? new Worker(options.script, { type: 'module' });
      w.addEventListener('message', (e: MessageEvent<TaskResponse>) => message(e.data));
      w.addEventListener('error', (e: ErrorEvent) => crash(new Error(e.message || 'worker error')));
      slot.endpoint = {
        post: (m, t) => w.postMessage(m, t),
        terminate: async () => w.terminate(),
      };
    }
    this.slots.push(slot);
    await ready;
  }
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
