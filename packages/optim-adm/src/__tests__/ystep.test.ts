import { Rng } from '@seg/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  binaryInstance,
  type PottsProblem,
  pottsProblemEnergy,
  solveBinary,
} from '../proposals/potts-problem.js';
import { GRID_DIRECTION_NAMES, GridGraph } from '../proposals/solvers.js';
import { proposalEnergy, proposalProblem, solvePotts } from '../proposals/y-step.js';

function randomCase(seed: number, w: number, h: number, K: number, conn: 4 | 8) {
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
  const seeds = Int32Array.from({ length: n }, () => (rng.uniform() < 0.3 ? rng.int(K) : -1));
  return { probs, edges, seeds };
}

function allLabelings(
  n: number,
  K: number,
  seeds: Int32Array,
  visit: (l: Int32Array) => void,
): void {
  const L = new Int32Array(n);
  const total = K ** n;
  for (let m = 0; m < total; m++) {
    let r = m;
    let ok = true;
    for (let p = 0; p < n; p++) {
      L[p] = r % K;
      r = Math.floor(r / K);
      if (seeds[p]! >= 0 && seeds[p] !== L[p]) ok = false;
    }
    if (ok) visit(L);
  }
}

describe('Y-step', () => {
  it('K = 2: keeps hard seeds and reaches the brute-force minimum of the energy it minimises', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.constantFrom(4 as const, 8 as const),
        fc.double({ min: 0, max: 5, noNaN: true }),
        (seed, conn, pw) => {
          const [w, h] = [4, 3];
          const { probs, edges, seeds } = randomCase(seed, w, h, 2, conn);
          const pr = proposalProblem(probs, w, h, 2, edges, seeds, { pottsWeight: pw });
          const y = solvePotts(pr);
          for (let p = 0; p < w * h; p++) if (seeds[p]! >= 0) expect(y[p]).toBe(seeds[p]);
          let best = Number.POSITIVE_INFINITY;
          allLabelings(w * h, 2, seeds, (l) => {
            best = Math.min(best, pottsProblemEnergy(pr, l));
          });
          expect(proposalEnergy(pr, y)).toBeLessThanOrEqual(best + 1e-4);
        },
      ),
      { numRuns: 40, seed: 3 },
    );
  });

  it('K = 3 (α-expansion): never above the seeded argmax it starts from, seeds kept', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.double({ min: 0, max: 3, noNaN: true }),
        (seed, pw) => {
          const [w, h] = [3, 3];
          const { probs, edges, seeds } = randomCase(seed, w, h, 3, 8);
          const pr = proposalProblem(probs, w, h, 3, edges, seeds, { pottsWeight: pw });
          const y = solvePotts(pr);
          const start = new Int32Array(w * h);
          for (let p = 0; p < w * h; p++) {
            let b = 0;
            for (let k = 1; k < 3; k++) if (probs[p * 3 + k]! > probs[p * 3 + b]!) b = k;
            start[p] = seeds[p]! >= 0 ? seeds[p]! : b;
          }
          for (let p = 0; p < w * h; p++) if (seeds[p]! >= 0) expect(y[p]).toBe(seeds[p]);
          expect(proposalEnergy(pr, y)).toBeLessThanOrEqual(proposalEnergy(pr, start) + 1e-4);
          let best = Number.POSITIVE_INFINITY;
          allLabelings(w * h, 3, seeds, (l) => {
            best = Math.min(best, pottsProblemEnergy(pr, l));
          });
          // α-expansion is within factor 2 of the optimum for Potts (on the pairwise part)
          expect(proposalEnergy(pr, y)).toBeLessThanOrEqual(2 * best + 1e-4);
        },
      ),
      { numRuns: 25, seed: 5 },
    );
  });

  it('soft seeds: a seed label is paid for by the penalty, not forced', () => {
    const probs = Float32Array.from([0.01, 0.99, 0.5, 0.5]);
    const edges = [new Float32Array(2)];
    const seeds = Int32Array.from([0, -1]);
    const hard = solvePotts(proposalProblem(probs, 2, 1, 2, edges, seeds, { pottsWeight: 0 }));
    expect(hard[0]).toBe(0);
    const weak = solvePotts(
      proposalProblem(probs, 2, 1, 2, edges, seeds, {
        pottsWeight: 0,
        seeds: 'soft',
        seedPenalty: 1,
      }),
    );
    expect(weak[0]).toBe(1); // −log 0.01 = 4.6 > −log 0.99 + 1
    const strong = solvePotts(
      proposalProblem(probs, 2, 1, 2, edges, seeds, {
        pottsWeight: 0,
        seeds: 'soft',
        seedPenalty: 10,
      }),
    );
    expect(strong[0]).toBe(0);
  });

  it('K = 2 by binaryGraphCut: the same labeling, bit for bit, as the grid max-flow of the structural instance, ties included', () => {
    /** The cut the Y-step made before it used binaryGraphCut: a GridGraph on binaryInstance, label 1 = source side. */
    const gridCut = (pr: PottsProblem) => {
      const inst = binaryInstance(pr);
      const g = new GridGraph(inst);
      g.setTerminals(inst.source, inst.sink);
      inst.edges.forEach((e, d) => {
        g.setEdges(GRID_DIRECTION_NAMES[d]!, e);
      });
      const labels = Int32Array.from(g.maxflow().labels);
      for (let p = 0; p < labels.length; p++)
        if (pr.seeds && pr.seeds[p]! >= 0) labels[p] = pr.seeds[p]!;
      return labels;
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom(1, 2, 4),
        fc.boolean(),
        fc.constantFrom(0, 0.5, 3, 1e6),
        (seed, w, h, directions, ties, lambda) => {
          const rng = new Rng(seed);
          const n = w * h;
          // small integer costs and weights make many minimum cuts tie
          const value = (hi: number) => (ties ? rng.int(hi) : rng.uniform() * hi);
          const pr: PottsProblem = {
            width: w,
            height: h,
            numLabels: 2,
            unary: Float32Array.from({ length: 2 * n }, () => value(3)),
            weights: Array.from({ length: directions }, () =>
              Float32Array.from({ length: n }, () => lambda * value(2)),
            ),
            seeds: Int32Array.from({ length: n }, () => (rng.uniform() < 0.2 ? rng.int(2) : -1)),
          };
          expect(solveBinary(pr)).toEqual(gridCut(pr));
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  it('still reads a problem whose weights are under their deprecated name, potts', () => {
    const { probs, edges, seeds } = randomCase(11, 4, 3, 2, 8);
    const pr = proposalProblem(probs, 4, 3, 2, edges, seeds, { pottsWeight: 0.7 });
    const { weights, ...rest } = pr;
    const legacy = { ...rest, potts: weights };
    expect(solvePotts(legacy)).toEqual(solvePotts(pr));
    expect(pottsProblemEnergy(legacy, solvePotts(pr))).toBe(pottsProblemEnergy(pr, solvePotts(pr)));
    expect(proposalEnergy(legacy, solvePotts(pr))).toBe(proposalEnergy(pr, solvePotts(pr)));
  });
});
