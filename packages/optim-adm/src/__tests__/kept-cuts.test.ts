// The inline solver's kept graphs: a re-solve from the last flow gives the
// labels of a fresh cut, a problem is matched by content, never by identity,
// and the byte budget holds.
import { Rng, SegValueError } from '@seg/tensor';
import { expectThrow } from '@seg/tensor/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeptCuts, keptCutBytes } from '../proposals/kept-cuts.js';

/** The labels of `problem` on its kept graph, or on a new one (undefined: not kept). */
function keptSolve(kept: KeptCuts, problem: PottsProblem): Int32Array | undefined {
  return (kept.find(problem) ?? kept.add(problem))?.solve(problem);
}

import type { PottsProblem } from '../proposals/potts-problem.js';
import { inlineSolver, proposalProblem, solvePotts } from '../proposals/y-step.js';

/** Probabilities of `n` pixels, K = 2, drifting from `base` by up to `drift`. */
function probsNear(rng: Rng, base: Float32Array | null, n: number, drift: number): Float32Array {
  const probs = new Float32Array(2 * n);
  for (let p = 0; p < n; p++) {
    const b = base ? base[2 * p + 1]! : rng.uniform();
    const s = Math.min(1, Math.max(0, b + (rng.uniform() - 0.5) * drift));
    probs[2 * p] = 1 - s;
    probs[2 * p + 1] = s;
  }
  return probs;
}

function weightsOf(rng: Rng, n: number, conn: 4 | 8, scale: number): Float32Array[] {
  return Array.from({ length: conn / 2 }, () => Float32Array.from(rng.uniformArray(n, 0, scale)));
}

function seedsOf(rng: Rng, n: number): Int32Array {
  return Int32Array.from({ length: n }, () => (rng.uniform() < 0.2 ? rng.int(2) : -1));
}

describe('inlineSolver keeps two-label graphs between calls', () => {
  it('a sequence of Y-steps of one image gives the labels of solvePotts, bit for bit, on one kept graph', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(4 as const, 8 as const),
        fc.constantFrom(0.2, 1, 5),
        fc.boolean(),
        async (seed, w, h, conn, scale, withSeeds) => {
          const rng = new Rng(seed);
          const n = w * h;
          const weights = weightsOf(rng, n, conn, scale);
          const seeds = withSeeds ? seedsOf(rng, n) : new Int32Array(n).fill(-1);
          const solver = inlineSolver();
          let probs: Float32Array | null = null;
          for (let step = 0; step < 5; step++) {
            // the first step far from the next ones, as ADM's first Y-step (colour model added)
            probs = probsNear(rng, probs, n, step === 1 ? 1 : 0.2);
            const problem = proposalProblem(probs, w, h, 2, weights, seeds, { pottsWeight: 1 });
            const [kept] = await solver.solve([problem]);
            expect(kept).toEqual(solvePotts(problem));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('matches problems by content: arrays changed in place or copied are never mistaken', () => {
    const rng = new Rng(7);
    const [w, h] = [9, 7];
    const n = w * h;
    const kept = new KeptCuts(Number.POSITIVE_INFINITY);
    const weights = weightsOf(rng, n, 8, 2);
    const seeds = seedsOf(rng, n);
    const problem = (probs: Float32Array): PottsProblem =>
      proposalProblem(probs, w, h, 2, weights, seeds, { pottsWeight: 1 });
    const first = problem(probsNear(rng, null, n, 1));
    expect(keptSolve(kept, first)).toEqual(solvePotts(first));
    expect(kept.size).toBe(1);
    // a copy of the same problem: the same graph
    const copy = { ...first, weights: first.weights.map((e) => e.slice()), seeds: seeds.slice() };
    expect(keptSolve(kept, copy)).toEqual(solvePotts(copy));
    expect(kept.size).toBe(1);
    // weights changed in place: a new graph, the new cut
    weights[2]![10] = 50;
    const changed = problem(probsNear(rng, null, n, 1));
    expect(keptSolve(kept, changed)).toEqual(solvePotts(changed));
    expect(kept.size).toBe(2);
    // one seed changed in place
    seeds[5] = seeds[5] === 1 ? 0 : 1;
    const reseeded = problem(probsNear(rng, null, n, 1));
    expect(keptSolve(kept, reseeded)).toEqual(solvePotts(reseeded));
    expect(kept.size).toBe(3);
    // no seeds at all
    const free = { ...reseeded, seeds: undefined };
    expect(keptSolve(kept, free)).toEqual(solvePotts(free));
    expect(kept.size).toBe(4);
    kept.clear();
    expect(kept.size).toBe(0);
  });

  it('keeps at most keepBytes, the least recently used going first; larger problems are solved fresh', async () => {
    const rng = new Rng(3);
    const [w, h] = [10, 10];
    const n = w * h;
    const bytes = keptCutBytes(n, 4);
    expect(keptCutBytes(1000, 4)).toBe(193 * 1000);
    const kept = new KeptCuts(2 * bytes);
    const problems = [0, 1, 2].map(() =>
      proposalProblem(
        probsNear(rng, null, n, 1),
        w,
        h,
        2,
        weightsOf(rng, n, 8, 1),
        seedsOf(rng, n),
        {
          pottsWeight: 1,
        },
      ),
    );
    for (const p of problems) expect(keptSolve(kept, p)).toEqual(solvePotts(p));
    expect(kept.size).toBe(2);
    // over the budget alone: not kept, the caller solves it
    expect(keptSolve(new KeptCuts(bytes - 1), problems[0]!)).toBeUndefined();
    // keepBytes 0: the same labels, nothing kept
    const none = inlineSolver({ keepBytes: 0 });
    expect(await none.solve(problems)).toEqual(problems.map(solvePotts));
    // more than two labels: α-expansion, as solvePotts
    const three: PottsProblem = {
      width: 3,
      height: 2,
      numLabels: 3,
      unary: Float32Array.from(rng.uniformArray(18, 0, 3)),
      weights: weightsOf(rng, 6, 4, 1),
    };
    expect(await inlineSolver().solve([three])).toEqual([solvePotts(three)]);
  });

  it('checks the unary of a problem matched to a kept graph, and everything of the others', async () => {
    const rng = new Rng(11);
    const [w, h] = [6, 5];
    const n = w * h;
    const weights = weightsOf(rng, n, 8, 1);
    const seeds = seedsOf(rng, n);
    const solver = inlineSolver();
    const good = proposalProblem(probsNear(rng, null, n, 1), w, h, 2, weights, seeds, {
      pottsWeight: 1,
    });
    await solver.solve([good]);
    const unary = good.unary.slice();
    unary[3] = Number.NaN;
    await expect(solver.solve([{ ...good, unary }])).rejects.toThrow(
      'solvePotts: problem.unary[3] is NaN, expected a finite number',
    );
    await expect(solver.solve([{ ...good, unary: unary.subarray(1) }])).rejects.toThrow(
      'solvePotts: problem.unary has length 59, expected width*height*numLabels = 60',
    );
    const negative = weights.map((e) => e.slice());
    negative[1]![2] = -1;
    await expect(solver.solve([{ ...good, weights: negative }])).rejects.toThrow(
      'solvePotts: problem.weights[1][2] is -1, expected a finite number ≥ 0',
    );
    await expect(solver.solve([null as never])).rejects.toThrow(
      'solvePotts: problem is null, expected a PottsProblem',
    );
  });

  it('rejects bad options with clear messages', () => {
    expectThrow(
      () => inlineSolver({ keepBytes: -1 }),
      SegValueError,
      'inlineSolver: options.keepBytes is -1, expected a finite number ≥ 0',
    );
    expectThrow(
      () => inlineSolver(null as never),
      SegValueError,
      'inlineSolver: options is null, expected an object',
    );
  });
});
