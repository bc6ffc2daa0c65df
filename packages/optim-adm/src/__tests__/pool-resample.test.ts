import { createSolverPool } from '@seg/crf-solvers';
import { labelMap, Rng, rgbImage } from '@seg/tensor';
import { tsWorker } from '@seg/tensor/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { downscaleImage, downscaleSeeds, reducedSize, upscaleProbs } from '../net/resample.js';
import { inlineSolver, poolSolver, proposalEnergy, proposalProblem } from '../proposals/y-step.js';

describe('poolSolver', () => {
  it('solves a batch on 2 workers to the same energies as in this thread, K = 2 and K = 3', async () => {
    const pool = await createSolverPool({
      ...tsWorker(new URL(import.meta.resolve('@seg/crf-solvers/worker'))),
      size: 2,
    });
    try {
      const rng = new Rng(11);
      for (const K of [2, 3]) {
        const problems = Array.from({ length: 4 }, () => {
          const [w, h] = [9, 7];
          const probs = new Float32Array(w * h * K);
          for (let p = 0; p < w * h; p++) {
            let s = 0;
            for (let k = 0; k < K; k++) s += probs[p * K + k] = rng.uniform() + 0.05;
            for (let k = 0; k < K; k++) probs[p * K + k] = probs[p * K + k]! / s;
          }
          const edges = Array.from({ length: 4 }, () =>
            Float32Array.from(rng.uniformArray(w * h, 0, 1)),
          );
          const seeds = Int32Array.from({ length: w * h }, () =>
            rng.uniform() < 0.1 ? rng.int(K) : -1,
          );
          return proposalProblem(probs, w, h, K, edges, seeds, { pottsWeight: 1.5 });
        });
        const a = await inlineSolver().solve(problems);
        const b = await poolSolver(pool).solve(problems);
        problems.forEach((pr, i) => {
          expect(proposalEnergy(pr, b[i]!)).toBeCloseTo(proposalEnergy(pr, a[i]!), 3);
        });
      }
    } finally {
      await pool.close();
    }
  });
});

describe('resampling', () => {
  it('keeps every one-pixel scribble when reducing, and labels only cells that hold seeds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 40 }),
        fc.integer({ min: 8, max: 40 }),
        fc.integer({ min: 1, max: 1e6 }),
        (W, H, seed) => {
          const rng = new Rng(seed);
          const d = new Int32Array(W * H).fill(-1);
          const y0 = rng.int(H);
          for (let x = 0; x < W; x++) d[y0 * W + x] = 1; // a thin horizontal stroke
          const [w, h] = reducedSize(W, H, 6);
          const s = downscaleSeeds(labelMap(W, H, d), w, h, 2);
          const cy = Math.min(h - 1, Math.floor((y0 * h) / H));
          let labelled = 0;
          for (let i = 0; i < w * h; i++) if (s.data[i]! >= 0) labelled++;
          expect(labelled).toBe(w);
          for (let x = 0; x < w; x++)
            expect([
              s.data[cy * w + x],
              s.data[Math.max(0, cy - 1) * w + x],
              s.data[Math.min(h - 1, cy + 1) * w + x],
            ]).toContain(1);
        },
      ),
      { numRuns: 30, seed: 2 },
    );
  });

  it('averages areas when reducing an image and keeps probabilities on the simplex when enlarging', () => {
    const img = rgbImage(
      4,
      2,
      Uint8Array.from([
        0, 0, 0, 100, 100, 100, 10, 20, 30, 30, 20, 10, 0, 0, 0, 100, 100, 100, 10, 20, 30, 30, 20,
        10,
      ]),
    );
    const r = downscaleImage(img, 2, 1);
    expect(Array.from(r.data)).toEqual([50, 50, 50, 20, 20, 20]);
    const up = upscaleProbs(
      {
        width: 2,
        height: 2,
        numLabels: 2,
        data: Float32Array.from([0.1, 0.9, 0.6, 0.4, 0.3, 0.7, 1, 0]),
      },
      5,
      3,
    );
    for (let p = 0; p < 15; p++) expect(up.data[2 * p]! + up.data[2 * p + 1]!).toBeCloseTo(1, 6);
    expect(up.data[0]).toBeCloseTo(0.1, 6); // a corner keeps its value
  });
});
