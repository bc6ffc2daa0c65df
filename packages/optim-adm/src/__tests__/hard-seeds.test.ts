// Issue 17: hard seeds were a fixed 1e9 penalty and flipped once λ·w outweighed it
// (graph cut at λ 1e12, ADM at 1e15). They are now structural: they hold for every λ.
import { createSolverPool } from '@seg/crf-solvers';
import { labelMap, Rng, rgbImage, SegValueError } from '@seg/tensor';
import { expectThrow, tsWorker } from '@seg/tensor/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interactiveGraphCut } from '../graphcut/interactive.js';
import { MAX_POTTS_WEIGHT, problemEnergy } from '../proposals/potts-problem.js';
import { inlineSolver, poolSolver, proposalProblem, solvePotts } from '../proposals/y-step.js';
import { segmentImage } from '../segment.js';

/** λ spread over [0, 1e30]: the ends, the old failure points, and log-uniform in between. */
const lambdaArb = fc.oneof(
  fc.constantFrom(0, 1, 1e9, 1e12, 1e15, 1e20, MAX_POTTS_WEIGHT),
  fc.double({ min: -3, max: 30, noNaN: true }).map((e) => 10 ** e),
);

function randomProblem(seed: number, w: number, h: number, K: number, conn: 4 | 8, pw: number) {
  const rng = new Rng(seed);
  const n = w * h;
  const probs = new Float32Array(n * K);
  for (let p = 0; p < n; p++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += probs[p * K + k] = rng.uniform() + 1e-3;
    for (let k = 0; k < K; k++) probs[p * K + k] = probs[p * K + k]! / s;
  }
  const edges = Array.from({ length: conn / 2 }, () =>
    Float32Array.from(rng.uniformArray(n, 0, 1)),
  );
  const seeds = Int32Array.from({ length: n }, () => (rng.uniform() < 0.35 ? rng.int(K) : -1));
  return proposalProblem(probs, w, h, K, edges, seeds, { pottsWeight: pw });
}

/** The brute-force minimum of a problem's energy over the labelings that keep its seeds (K = 2). */
function bruteMin(pr: ReturnType<typeof randomProblem>): number {
  const n = pr.width * pr.height;
  const L = new Int32Array(n);
  let best = Number.POSITIVE_INFINITY;
  for (let m = 0; m < 2 ** n; m++) {
    let ok = true;
    for (let p = 0; p < n; p++) {
      L[p] = (m >> p) & 1;
      if (pr.seeds![p]! >= 0 && pr.seeds![p] !== L[p]) ok = false;
    }
    if (ok) best = Math.min(best, problemEnergy(pr, L));
  }
  return best;
}

describe('hard seeds hold for every λ in [0, 1e30]', () => {
  it('solvePotts, K = 2 (one min cut) and K = 3 (α-expansion): every seed keeps its label; K = 2 is still the exact minimum', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom(2, 3),
        fc.constantFrom(4 as const, 8 as const),
        lambdaArb,
        (seed, w, h, K, conn, lambda) => {
          const pr = randomProblem(seed, w, h, K, conn, lambda);
          const y = solvePotts(pr);
          for (let p = 0; p < w * h; p++) if (pr.seeds![p]! >= 0) expect(y[p]).toBe(pr.seeds![p]);
          if (K === 2) {
            const best = bruteMin(pr);
            expect(problemEnergy(pr, y)).toBeLessThanOrEqual(best + 1e-9 * Math.max(1, best));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('on the worker pool too (the same instance, solved in a worker)', async () => {
    const pool = await createSolverPool({
      ...tsWorker(new URL(import.meta.resolve('@seg/crf-solvers/worker'))),
      size: 1,
    });
    try {
      const problems = [0, 1e9, 1e12, 1e15, 1e30].flatMap((lambda, i) =>
        [2, 3].map((K) => randomProblem(100 + i, 6, 5, K, 8, lambda)),
      );
      const a = await poolSolver(pool).solve(problems);
      const b = await inlineSolver().solve(problems);
      problems.forEach((pr, i) => {
        for (let p = 0; p < pr.seeds!.length; p++) {
          if (pr.seeds![p]! >= 0)
            expect([a[i]![p], b[i]![p]]).toEqual([pr.seeds![p], pr.seeds![p]]);
        }
      });
    } finally {
      await pool.close();
    }
  });

  it('interactiveGraphCut and segmentImage (graph cut) keep every scribble at λ 1e12 and 1e30', async () => {
    const rng = new Rng(5);
    const [w, h] = [12, 10];
    const image = rgbImage(w, h, Uint8Array.from(rng.uniformArray(w * h * 3, 0, 255), Math.floor));
    const s = new Int32Array(w * h).fill(-1);
    for (let y = 2; y < 8; y++) s[y * w + 3] = 1; // an object stroke
    for (let y = 0; y < h; y++) s[y * w + w - 1] = 0; // a background stroke
    s[5 * w + 8] = 1; // a lone object seed amid background
    const seeds = labelMap(w, h, s);
    for (const lambda of [1e12, 1e30]) {
      const viaCut = interactiveGraphCut(image, seeds, { lambda });
      const viaSegment = (await segmentImage(image, seeds, { method: 'graphcut', lambda })).labels;
      for (let p = 0; p < w * h; p++) {
        if (s[p]! >= 0) expect([viaCut.data[p], viaSegment.data[p]]).toEqual([s[p], s[p]]);
      }
    }
  });

  it('refuses λ past MAX_POTTS_WEIGHT (the float32 weights would overflow)', async () => {
    const image = rgbImage(2, 1, new Uint8Array(6));
    const seeds = labelMap(2, 1, Int32Array.from([0, 1]));
    expectThrow(
      () => interactiveGraphCut(image, seeds, { lambda: 1e31 }),
      SegValueError,
      'interactiveGraphCut: options.lambda is 1e+31, expected a finite number ≥ 0 and ≤ 1e+30',
    );
    await expect(segmentImage(image, seeds, { method: 'adm', lambda: 1e31 })).rejects.toThrow(
      new SegValueError(
        'segmentImage: options.lambda is 1e+31, expected a finite number ≥ 0 and ≤ 1e+30',
      ),
    );
    await expect(segmentImage(image, seeds, { seed: 4294967297 })).rejects.toThrow(
      'segmentImage: options.seed is 4294967297, expected an integer in [0, 4294967295]',
    );
    expectThrow(
      () =>
        proposalProblem(
          new Float32Array(4).fill(0.5),
          2,
          1,
          2,
          [new Float32Array(2), new Float32Array(2)],
          Int32Array.from([-1, -1]),
          {
            pottsWeight: 1e31,
          },
        ),
      SegValueError,
      'proposalProblem: options.pottsWeight is 1e+31, expected a finite number ≥ 0 and ≤ 1e+30',
    );
  });
});
