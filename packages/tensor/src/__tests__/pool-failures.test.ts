// Worker pool failures stay local (issue 17): a task named like an Object
// method, a worker that exits, runs out of memory or throws later, a task
// that never finishes or is aborted. Each fails only its own task; the
// worker is replaced and the pool goes on.
import { describe, expect, it } from 'vitest';
import {
  SegValueError,
  WorkerCrashError,
  WorkerPool,
  WorkerTaskError,
  WorkerTimeoutError,
} from '../index.js';
import { expectThrow, tsWorker } from '../testing/index.js';

const opts = tsWorker(new URL('./fixtures/hostile-tasks.ts', import.meta.url));
const TASKS = 'sum, thread, crash, throwLater, oom, spin, hang';

/** Awaits `p` and checks it rejects with exactly `cls` and `message`. */
async function rejects(p: Promise<unknown>, cls: new (...a: never[]) => Error, message: string) {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expectThrow(
    () => {
      throw e ?? new Error('resolved');
    },
    cls as unknown as new (
      m: string,
    ) => Error,
    message,
  );
}

describe('WorkerPool failures', () => {
  it('looks task names up as own properties only', async () => {
    const pool = await WorkerPool.create({ ...opts, size: 1 });
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      await rejects(
        pool.run(name),
        WorkerTaskError,
        `WorkerPool: task "${name}" failed in a worker: Error: no task named "${name}" (this worker has: ${TASKS})`,
      );
    }
    expect(await pool.run('sum', [new Float32Array([1, 2])])).toBe(3);
    await pool.close();
  });

  it('a worker that exits fails only its task, and is replaced', async () => {
    const pool = await WorkerPool.create({ ...opts, size: 2 });
    const [crashed, other, later] = await Promise.allSettled([
      pool.run('crash'),
      pool.run('sum', [new Float32Array([1, 1])]),
      pool.run('sum', [new Float32Array([2, 2])]),
    ]);
    await rejects(
      Promise.reject((crashed as PromiseRejectedResult).reason),
      WorkerCrashError,
      'WorkerPool: a worker stopped while running task "crash": worker exited with code 3 (the worker was replaced)',
    );
    expect(other).toEqual({ status: 'fulfilled', value: 2 });
    expect(later).toEqual({ status: 'fulfilled', value: 4 });
    const sums = await Promise.all([1, 2, 3].map((v) => pool.run('sum', [new Float32Array([v])])));
    expect(sums).toEqual([1, 2, 3]);
    expect(pool.size).toBe(2);
    await pool.close();
  });

  it('a worker that throws after its task, or runs out of memory, is replaced', async () => {
    const pool = await WorkerPool.create({
      ...opts,
      size: 1,
      resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 },
    });
    const first = await pool.run<number>('thread');
    expect(await pool.run('throwLater')).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(await pool.run('sum', [new Float32Array([5])])).toBe(5);
    const second = await pool.run<number>('thread');
    expect(second).not.toBe(first); // the thrower was replaced
    const e = await pool.run('oom').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(WorkerCrashError);
    expect((e as Error).message).toMatch(
      /^WorkerPool: a worker stopped while running task "oom": .*out of memory.* \(the worker was replaced\)$/,
    );
    expect(await pool.run('sum', [new Float32Array([6])])).toBe(6);
    await pool.close();
  });

  it('a task past its timeout has its worker terminated and replaced; the queue goes on', async () => {
    const pool = await WorkerPool.create({ ...opts, size: 1, taskTimeout: 300 });
    const t0 = performance.now();
    const spun = pool.run('spin');
    const queued = pool.run('sum', [new Float32Array([7])], { timeout: Number.POSITIVE_INFINITY });
    await rejects(
      spun,
      WorkerTimeoutError,
      'WorkerPool: task "spin" ran longer than its timeout of 300 ms (its worker was terminated and replaced)',
    );
    expect(await queued).toBe(7);
    await rejects(
      pool.run('hang', [], { timeout: 100 }),
      WorkerTimeoutError,
      'WorkerPool: task "hang" ran longer than its timeout of 100 ms (its worker was terminated and replaced)',
    );
    expect(await pool.run('sum', [new Float32Array([8])])).toBe(8);
    expect(performance.now() - t0).toBeLessThan(10_000);
    await pool.close();
  });

  it('an AbortSignal cancels a running task (terminating its worker) or a queued one', async () => {
    const pool = await WorkerPool.create({ ...opts, size: 1 });
    const running = new AbortController();
    const waiting = new AbortController();
    const spun = pool.run('spin', [], { signal: running.signal });
    const queued = pool.run('sum', [new Float32Array([1])], { signal: waiting.signal });
    waiting.abort(new Error('not needed'));
    await rejects(queued, Error, 'not needed');
    setTimeout(() => running.abort(new Error('stop spinning')), 50);
    await rejects(spun, Error, 'stop spinning');
    await rejects(
      pool.run('sum', [new Float32Array([1])], { signal: AbortSignal.abort(new Error('early')) }),
      Error,
      'early',
    );
    expect(await pool.run('sum', [new Float32Array([9])])).toBe(9);
    await pool.close();
  });

  it('checks timeout and signal', async () => {
    await rejects(
      WorkerPool.create({ ...opts, size: 1, taskTimeout: -1 }),
      SegValueError,
      'WorkerPool.create: taskTimeout is -1, expected a finite number ≥ 1',
    );
    const pool = await WorkerPool.create({ ...opts, size: 1 });
    await rejects(
      pool.run('sum', [], { timeout: 0 }),
      SegValueError,
      'WorkerPool.run: options.timeout is 0, expected a finite number ≥ 1',
    );
    await rejects(
      pool.run('sum', [], { signal: 'stop' as never }),
      SegValueError,
      'WorkerPool.run: options.signal is stop, expected an AbortSignal',
    );
    await pool.close();
  });
});
