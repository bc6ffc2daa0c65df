import { Rng, SegRangeError, WorkerTaskError } from '@seg/tensor';
import { expectRejects, tsWorker } from '@seg/tensor/testing';
import { describe, expect, it } from 'vitest';
import { alphaExpansion, binaryGraphCut, createSolverPool, type GridProblem } from '../index.js';

function problem(seed: number, K: number): GridProblem {
  const rng = new Rng(seed);
  const width = 40;
  const height = 30;
  const n = width * height;
  return {
    width,
    height,
    numLabels: K,
    unary: Float64Array.from(rng.uniformArray(n * K, 0, 5)),
    weights: [0, 1, 2, 3].map(() => Float64Array.from(rng.uniformArray(n, 0, 2))),
  };
}

describe('createSolverPool', () => {
  it('solves many problems in parallel, as the in-thread solvers do', async () => {
    const pool = await createSolverPool({
      ...tsWorker(new URL('../batch/worker.ts', import.meta.url)),
      size: 2,
    });
    try {
      expect(pool.size).toBe(2);
      const binary = Array.from({ length: 4 }, (_, i) => problem(i + 1, 2));
      const multi = Array.from({ length: 3 }, (_, i) => problem(i + 11, 4));
      const [rb, rm] = await Promise.all([
        Promise.all(binary.map((p) => pool.binaryGraphCut(p))),
        Promise.all(multi.map((p) => pool.alphaExpansion(p, { maxCycles: 3 }))),
      ]);
      binary.forEach((p, i) => {
        const local = binaryGraphCut(p);
        expect(rb[i]!.labels).toEqual(local.labels);
        expect(rb[i]!.energy).toBe(local.energy);
      });
      multi.forEach((p, i) => {
        expect(rm[i]!.energy).toBe(alphaExpansion(p, { maxCycles: 3 }).energy);
      });
      const err = await pool
        .binaryGraphCut({ ...binary[0]!, numLabels: 3 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerTaskError);
      expect((err as Error).message).toContain('binaryGraphCut: numLabels is 3, expected 2');
      const n = 4;
      const zeros = () => new Float64Array(n);
      const short = await pool
        .gridMaxflow({
          width: 2,
          height: 2,
          connectivity: 4,
          source: zeros(),
          sink: zeros(),
          edges: [zeros()],
        })
        .catch((e: unknown) => e);
      expect(short).toBeInstanceOf(WorkerTaskError);
      expect((short as Error).message).toContain(
        'SegShapeError: gridMaxflow: edges has 1 arrays, expected 2 (one per forward direction of connectivity 4)',
      );
    } finally {
      await pool.close();
    }
  });

  it('rejects a bad pool size under its own name', async () => {
    await expectRejects(
      createSolverPool({ size: 0 }),
      SegRangeError,
      'createSolverPool: size is 0, expected an integer ≥ 1',
    );
  });
});
