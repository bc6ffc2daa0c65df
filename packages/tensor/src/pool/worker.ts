import {
  collectTransferables,
  importNodeBuiltin,
  isNode,
  type TaskRequest,
  type TaskResponse,
} from './protocol.js';

/** A task a worker runs: plain data in (typed arrays welcome), plain data out. */
export type Task = (...args: never[]) => unknown;

interface Port {
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
}

/**
 * Makes the calling worker script serve `tasks` to its `WorkerPool` (from `@seg/tensor`).
 * Call it once, at the top level of the worker module. Typed arrays in a
 * task's result are transferred back, not copied; an error thrown (or a
 * promise rejected) by a task rejects the caller's promise with its message.
 *
 * @example
 * // solver-worker.ts
 * import { exposeTasks } from '@seg/tensor/worker';
 * exposeTasks({ sum: (a: Float32Array) => a.reduce((s, v) => s + v, 0) });
 */
export async function exposeTasks(tasks: Record<string, Task>): Promise<void> {
  let port: Port & { on?: (ev: 'message', cb: (m: TaskRequest) => void) => void };
  if (isNode()) {
    const wt = await importNodeBuiltin<typeof import('node:worker_threads')>('worker_threads');
    if (!wt.parentPort) throw new Error('exposeTasks: not running inside a worker thread');
    port = wt.parentPort as unknown as typeof port;
    port.on!('message', (m: TaskRequest) => void handle(m));
  } else {
    const self = globalThis as unknown as {
      postMessage(m: unknown, t?: ArrayBuffer[]): void;
      addEventListener(ev: 'message', cb: (e: { data: TaskRequest }) => void): void;
    };
    port = { postMessage: (m, t) => self.postMessage(m, t ?? []) };
    self.addEventListener('message', (e) => void handle(e.data));
  }
  const ready: TaskResponse = { id: -1, ok: true, ready: true, tasks: Object.keys(tasks) };
  port.postMessage(ready);

  async function handle(req: TaskRequest): Promise<void> {
    let response: TaskResponse;
    try {
      // own properties only: a task named "constructor" or "toString" is not Object's
      const fn = Object.hasOwn(tasks, req.task) ? tasks[req.task] : undefined;
      if (typeof fn !== 'function')
        throw new Error(
          `no task named "${req.task}" (this worker has: ${Object.keys(tasks).join(', ')})`,
        );
      const result = await (fn as (...a: unknown[]) => unknown)(...req.args);
      response = { id: req.id, ok: true, result };
      port.postMessage(response, collectTransferables(result));
      return;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      response = {
        id: req.id,
        ok: false,
        error: { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) },
      };
    }
    port.postMessage(response);
  }
}
