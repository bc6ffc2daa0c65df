// The solver pool passes a time limit and an AbortSignal to its workers
// (issue 17): a solve that takes too long no longer holds a worker forever.
import { WorkerTaskError, WorkerTimeoutError } from '@seg/tensor';
import { expectThrow, tsWorker } from '@seg/tensor/testing';
import { expect, it } from 'vitest';
import { createSolverPool, type GridProblem } from '../index.js';

function grid(width: number, height: number, K: number): GridProblem {
  const n = width * height;
  return {
    width,
    height,
    numLabels: K,
    unary: Float64Array.from({ length: n * K }, (_, i) => ((i * 7919) % 97) / 10),
    weights: [0, 1, 2, 3].map(() => new Float64Array(n).fill(1)),
  };
}

async function settle(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => new Error('resolved'),
    (e: unknown) => e,
  );
}

it('times out or aborts a solve, names bad input, and keeps solving', async () => {
  const pool = await createSolverPool({
    ...tsWorker(new URL('../batch/worker.ts', import.meta.url)),
    size: 1,
  });
  try {
    const slow = grid(600, 600, 12);
    const timedOut = await settle(pool.alphaExpansion(slow, { maxCycles: 50 }, { timeout: 50 }));
    expectThrow(
      () => {
        throw timedOut;
      },
      WorkerTimeoutError as never,
      'WorkerPool: task "alphaExpansion" ran longer than its timeout of 50 ms (its worker was terminated and replaced)',
    );
    const aborted = await settle(
      pool.binaryGraphCut(grid(4, 4, 2), {}, { signal: AbortSignal.abort(new Error('no')) }),
    );
    expect((aborted as Error).message).toBe('no');
    const bad = await settle(
      pool.binaryGraphCut({ ...grid(4, 4, 2), weights: undefined } as never),
    );
    expectThrow(
      () => {
        throw bad;
      },
      WorkerTaskError as never,
      'WorkerPool: task "binaryGraphCut" failed in a worker: SegValueError: binaryGraphCut: weights is undefined, expected an array of 2 (4-connected) or 4 (8-connected) arrays of edge weights',
    );
    const r = await pool.binaryGraphCut(grid(8, 8, 2));
    expect(r.labels.length).toBe(64);
  } finally {
    await pool.close();
  }
});
