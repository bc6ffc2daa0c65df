import { describe, expect, it } from 'vitest';
import { WorkerPool, WorkerTaskError } from '../index.js';
import { tsWorker } from '../testing/index.js';

const opts = tsWorker(new URL('./fixtures/tasks.ts', import.meta.url));

describe('WorkerPool', () => {
  it('runs tasks, transfers typed arrays both ways, and closes', async () => {
    const pool = await WorkerPool.create({ ...opts, size: 2 });
    expect(pool.size).toBe(2);
    const a = new Float64Array([1, 2, 3]);
    const r = await pool.run<{ out: Float64Array; n: number }>('double', [a], {
      transfer: [a.buffer],
    });
    expect(a.length).toBe(0); // moved, not copied
    expect(Array.from(r.out)).toEqual([2, 4, 6]);
    expect(r.n).toBe(3);
    const sums = await Promise.all(
      Array.from({ length: 10 }, (_, i) => pool.run<number>('sum', [new Float32Array([i, i, 1])])),
    );
    expect(sums).toEqual(Array.from({ length: 10 }, (_, i) => 2 * i + 1));
    await pool.close();
    await expect(pool.run('sum', [new Float32Array(1)])).rejects.toThrow(/closed/);
  });

  it('propagates a failing task as WorkerTaskError and keeps serving', async () => {
    const pool = await WorkerPool.create({ ...opts, size: 1 });
    const err = await pool.run('fail', ['bad label 7']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerTaskError);
    expect((err as Error).message).toBe(
      'WorkerPool: task "fail" failed in a worker: RangeError: bad label 7',
    );
    await expect(pool.run('nope')).rejects.toThrow(/no task named "nope"/);
    expect(await pool.run('sleep', [1])).toBe(1);
    await pool.close();
  });

  it('fails only the task of a worker that dies, and replaces the worker', async () => {
    const pool = await WorkerPool.create({ ...opts, size: 1 });
    await expect(pool.run('crash')).rejects.toThrow(
      /a worker stopped while running task "crash": worker exited with code 3/,
    );
    expect(await pool.run('sum', [new Float32Array(2)])).toBe(0);
    await pool.close();
  });

  it('uses both workers in parallel', async () => {
    const pool = await WorkerPool.create({ ...opts, size: 2 });
    await Promise.all([pool.run('spin', [1]), pool.run('spin', [1])]);
    const t0 = performance.now();
    await Promise.all([pool.run('spin', [500]), pool.run('spin', [500])]);
    const t = performance.now() - t0;
    expect(t).toBeLessThan(900); // one after the other would take ≥ 1000 ms
    await pool.close();
  });

  it('refuses a bad size and a script that does not load', async () => {
    await expect(WorkerPool.create({ ...opts, size: 0 })).rejects.toThrow(
      'WorkerPool.create: size is 0, expected an integer in [1, 1024]',
    );
    await expect(
      WorkerPool.create({
        ...tsWorker(new URL('./fixtures/missing.ts', import.meta.url)),
        size: 1,
      }),
    ).rejects.toThrow(/failed to start/);
  });

  it('refuses a missing script and bad task arguments', async () => {
    await expect(WorkerPool.create({ size: 1 } as never)).rejects.toThrow(
      'WorkerPool.create: script is undefined, expected a string or a URL',
    );
    const pool = await WorkerPool.create({ ...opts, size: 1 });
    await expect(pool.run(3 as never)).rejects.toThrow(
      'WorkerPool.run: task is 3, expected a string',
    );
    await expect(pool.run('sum', new Float32Array(2) as never)).rejects.toThrow(
      'WorkerPool.run: args is 0,0, expected an array (task "sum")',
    );
    await pool.close();
  });
});
