import { SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import { expectThrow } from '@seg/tensor/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  alphaBetaSwap,
  alphaExpansion,
  binaryGraphCut,
  computeEnergy,
  type GraphProblem,
  type GridProblem,
} from '../index.js';

const DX = [1, 0, 1, -1];
const DY = [0, 1, 1, 1];

/** The grid problem as an explicit edge list. */
function toGraph(p: GridProblem): GraphProblem {
  const from: number[] = [];
  const to: number[] = [];
  const weights: number[] = [];
  p.weights.forEach((wk, k) => {
    for (let y = 0; y < p.height; y++) {
      for (let x = 0; x < p.width; x++) {
        const u = x + DX[k]!;
        const v = y + DY[k]!;
        if (u < 0 || u >= p.width || v >= p.height) continue;
        from.push(y * p.width + x);
        to.push(v * p.width + u);
        weights.push(wk[y * p.width + x]!);
      }
    }
  });
  return {
    numNodes: p.width * p.height,
    numLabels: p.numLabels,
    unary: p.unary,
    from: Int32Array.from(from),
    to: Int32Array.from(to),
    weights: Float64Array.from(weights),
    ...(p.pairwise ? { pairwise: p.pairwise } : {}),
  };
}

/** Direct energy, written independently of the library. */
function energy(p: GraphProblem, L: ArrayLike<number>): number {
  const K = p.numLabels;
  let e = 0;
  for (let i = 0; i < p.numNodes; i++) e += p.unary[i * K + L[i]!]!;
  for (let j = 0; j < p.from.length; j++) {
    const a = L[p.from[j]!]!;
    const b = L[p.to[j]!]!;
    e += p.weights[j]! * (p.pairwise ? p.pairwise[a * K + b]! : a === b ? 0 : 1);
  }
  return e;
}

/** Minimum energy over all K^n labelings that respect the seeds. */
function bruteMin(p: GraphProblem, seeds?: Int32Array): number {
  const n = p.numNodes;
  const K = p.numLabels;
  const L = new Int32Array(n);
  let best = Infinity;
  const total = K ** n;
  for (let code = 0; code < total; code++) {
    let c = code;
    let ok = true;
    for (let i = 0; i < n; i++) {
      L[i] = c % K;
      c = Math.floor(c / K);
      if (seeds && seeds[i]! >= 0 && seeds[i] !== L[i]) ok = false;
    }
    if (ok) best = Math.min(best, energy(p, L));
  }
  return best;
}

/**
 * α-expansion with every move solved by enumeration, as the anchor defines
 * it: the move takes the smallest subset of minimum energy (the sink side a
 * max-flow search returns), and is kept only when it lowers the energy by
 * more than a relative 1e-9. Returns the labeling after each cycle.
 */
function bruteExpansion(p: GraphProblem, seeds: Int32Array | undefined, maxCycles: number) {
  const n = p.numNodes;
  const K = p.numLabels;
  const L = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let k = 1; k < K; k++) if (p.unary[i * K + k]! < p.unary[i * K + b]!) b = k;
    L[i] = seeds && seeds[i]! >= 0 ? seeds[i]! : b;
  }
  let e = energy(p, L);
  const trace: Int32Array[] = [];
  for (let cycle = 0; cycle < maxCycles; cycle++) {
    let changed = false;
    for (let alpha = 0; alpha < K; alpha++) {
      const free: number[] = [];
      for (let i = 0; i < n; i++) if (L[i] !== alpha && !(seeds && seeds[i]! >= 0)) free.push(i);
      let best = Infinity;
      let inter = 0;
      const M = new Int32Array(n);
      for (let s = 0; s < 1 << free.length; s++) {
        M.set(L);
        free.forEach((i, j) => {
          if (s & (1 << j)) M[i] = alpha;
        });
        const v = energy(p, M);
        if (v < best) {
          best = v;
          inter = s;
        } else if (v === best) inter &= s;
      }
      if (best < e - 1e-9 * (1 + Math.abs(e))) {
        free.forEach((i, j) => {
          if (inter & (1 << j)) L[i] = alpha;
        });
        e = energy(p, L);
        changed = true;
      }
    }
    trace.push(L.slice());
    if (!changed) break;
  }
  return trace;
}

const value = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.double({ min: 0, max: 5, noNaN: true }));

/**
 * Costs none of which vanishes when added to another (0, or at least 1e-6):
 * a weight below the rounding unit of the costs it meets (a subnormal beside
 * a unary of 3) changes no float sum, so which minimiser is the least or the
 * greatest is then decided by rounding, not by the problem.
 */
const resolvedValue = fc.oneof(
  fc.integer({ min: 0, max: 6 }),
  fc.double({ min: 1e-6, max: 5, noNaN: true }),
);

/** A metric on K labels: distances between random points on a line, or Potts scaled. */
const metric = (K: number) =>
  fc.oneof(
    fc.array(fc.integer({ min: 0, max: 5 }), { minLength: K, maxLength: K }).map((pts) => {
      const V = new Float64Array(K * K);
      for (let a = 0; a < K; a++)
        for (let b = 0; b < K; b++) V[a * K + b] = Math.abs(pts[a]! - pts[b]!);
      return V;
    }),
    fc.constant(undefined),
  );

const gridProblem = (maxNodes: number, kMin = 2, kMax = 4, costs = value) =>
  fc
    .record({
      w: fc.integer({ min: 1, max: 3 }),
      h: fc.integer({ min: 1, max: 3 }),
      K: fc.integer({ min: kMin, max: kMax }),
      conn: fc.constantFrom(2, 4),
    })
    .filter(({ w, h, K }) => K ** (w * h) <= maxNodes)
    .chain(({ w, h, K, conn }) => {
      const n = w * h;
      return fc.record({
        problem: fc.record({
          width: fc.constant(w),
          height: fc.constant(h),
          numLabels: fc.constant(K),
          unary: fc
            .array(costs, { minLength: n * K, maxLength: n * K })
            .map((a) => Float64Array.from(a)),
          weights: fc.array(
            fc.array(costs, { minLength: n, maxLength: n }).map((a) => Float64Array.from(a)),
            { minLength: conn, maxLength: conn },
          ),
          pairwise: metric(K),
        }),
        seeds: fc.array(fc.integer({ min: -1, max: K - 1 }), {
          minLength: n,
          maxLength: n,
        }),
        useSeeds: fc.boolean(),
      });
    })
    .map(({ problem, seeds, useSeeds }) => {
      const p = problem as GridProblem;
      if (!p.pairwise) delete (p as { pairwise?: unknown }).pairwise;
      // keep seeds sparse: a seed on every second node at most
      const s = Int32Array.from(seeds, (v, i) => (i % 2 === 0 ? v : -1));
      return { problem: p, seeds: useSeeds ? s : undefined };
    });

describe('alphaExpansion', () => {
  it('never raises the energy, reports computeEnergy, respects seeds, and is within 2× of the optimum for Potts', () => {
    fc.assert(
      fc.property(gridProblem(5000), fc.boolean(), ({ problem, seeds }, asGraph) => {
        const g = toGraph(problem);
        const prob = asGraph ? g : problem;
        const opts = seeds ? { seeds, maxCycles: 50 } : { maxCycles: 50 };
        const r = alphaExpansion(prob, opts);
        expect(r.energy).toBeCloseTo(computeEnergy(prob, r.labels), 9);
        expect(r.energy).toBeCloseTo(energy(g, r.labels), 9);
        for (let i = 1; i < r.energies.length; i++)
          expect(r.energies[i]!).toBeLessThanOrEqual(r.energies[i - 1]! + 1e-9);
        expect(r.energies.at(-1)).toBe(r.energy);
        if (seeds) {
          for (let i = 0; i < seeds.length; i++)
            if (seeds[i]! >= 0) expect(r.labels[i]).toBe(seeds[i]);
        }
        const best = bruteMin(g, seeds);
        expect(r.energy).toBeGreaterThanOrEqual(best - 1e-9);
        if (!problem.pairwise) expect(r.energy).toBeLessThanOrEqual(2 * best + 1e-9);
        else {
          // metric bound: 2 · max V / min V over distinct labels
          const V = problem.pairwise;
          const K = problem.numLabels;
          let lo = Infinity;
          let hi = 0;
          for (let a = 0; a < K; a++)
            for (let b = 0; b < K; b++)
              if (a !== b) {
                lo = Math.min(lo, V[a * K + b]!);
                hi = Math.max(hi, V[a * K + b]!);
              }
          if (lo > 0) expect(r.energy).toBeLessThanOrEqual(((2 * hi) / lo) * best + 1e-9);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('never raises the energy from a given start', () => {
    fc.assert(
      fc.property(
        gridProblem(5000),
        fc.array(fc.nat(), { minLength: 9, maxLength: 9 }),
        ({ problem }, init0) => {
          const n = problem.width * problem.height;
          const init = Int32Array.from({ length: n }, (_, i) => init0[i]! % problem.numLabels);
          const e0 = computeEnergy(problem, init);
          const r = alphaExpansion(problem, { init, maxCycles: 3 });
          expect(r.energies[0]!).toBeLessThanOrEqual(e0 + 1e-9);
          const s = alphaBetaSwap(problem, { init, maxCycles: 3 });
          expect(s.energies[0]!).toBeLessThanOrEqual(e0 + 1e-9);
          expect(s.energy).toBeCloseTo(computeEnergy(problem, s.labels), 9);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('grid and graph forms give the same energies', () => {
    // resolved costs: the two forms add the same terms in another order, and a
    // subnormal weight that changes no sum lets rounding pick another move
    // (CI drew weights of 5e-324 beside unaries of 2: energies 5 and 4)
    fc.assert(
      fc.property(gridProblem(5000, 2, 4, resolvedValue), ({ problem, seeds }) => {
        const a = alphaExpansion(problem, seeds ? { seeds } : {});
        const b = alphaExpansion(toGraph(problem), seeds ? { seeds } : {});
        expect(a.energy).toBeCloseTo(b.energy, 9);
      }),
      { numRuns: 100 },
    );
  });

  it('makes the same moves as exact enumeration, cycle by cycle (warm-started cuts included)', () => {
    // integer costs: the arithmetic is exact, so ties are real ties and the smallest minimiser is defined
    const intProblem = fc
      .record({
        w: fc.integer({ min: 2, max: 4 }),
        h: fc.integer({ min: 1, max: 3 }),
        K: fc.integer({ min: 2, max: 4 }),
        conn: fc.constantFrom(2, 4),
        potts: fc.boolean(),
      })
      .filter(({ w, h }) => w * h <= 10)
      .chain(({ w, h, K, conn, potts }) => {
        const n = w * h;
        const int = (len: number, max: number) =>
          fc
            .array(fc.integer({ min: 0, max }), { minLength: len, maxLength: len })
            .map((a) => Float64Array.from(a));
        return fc.record({
          problem: fc.record({
            width: fc.constant(w),
            height: fc.constant(h),
            numLabels: fc.constant(K),
            unary: int(n * K, 9),
            weights: fc.array(int(n, 4), { minLength: conn, maxLength: conn }),
            ...(potts ? {} : { pairwise: metric(K).filter((V) => V !== undefined) }),
          }),
          seeds: fc.option(
            fc
              .array(fc.integer({ min: -1, max: K - 1 }), { minLength: n, maxLength: n })
              .map((a) => Int32Array.from(a, (v, i) => (i % 3 === 0 ? v : -1))),
            { nil: undefined },
          ),
        });
      });
    fc.assert(
      fc.property(intProblem, fc.boolean(), ({ problem, seeds }, asGraph) => {
        const g = toGraph(problem as GridProblem);
        const ref = bruteExpansion(g, seeds, 8);
        for (let cycles = 1; cycles <= ref.length; cycles++) {
          const r = alphaExpansion(asGraph ? g : (problem as GridProblem), {
            maxCycles: cycles,
            ...(seeds ? { seeds } : {}),
          });
          expect(Array.from(r.labels)).toEqual(Array.from(ref[cycles - 1]!));
        }
      }),
      { numRuns: 80 },
    );
  });

  it('refuses a non-metric pairwise term and other bad input', () => {
    const base: GridProblem = {
      width: 2,
      height: 1,
      numLabels: 3,
      unary: new Float64Array(6),
      weights: [new Float64Array(2), new Float64Array(2)],
    };
    const notMetric = Float64Array.of(0, 1, 3, 1, 0, 1, 3, 1, 0);
    expectThrow(
      () => alphaExpansion({ ...base, pairwise: notMetric }),
      SegValueError,
      'alphaExpansion: pairwise is not a metric: V(0,2) = 3 > V(0,1) + V(1,2) = 2',
    );
    // a semi-metric is enough for the swap
    expect(alphaBetaSwap({ ...base, pairwise: notMetric }).cycles).toBe(1);
    expectThrow(
      () => alphaBetaSwap({ ...base, pairwise: Float64Array.of(0, 1, 1, 2, 0, 1, 1, 1, 0) }),
      SegValueError,
      'alphaBetaSwap: pairwise is not symmetric: V(0,1) = 1, V(1,0) = 2',
    );
    expectThrow(
      () => alphaExpansion({ ...base, pairwise: Float64Array.of(0, 1, 1, 1, 1, 1, 1, 1, 0) }),
      SegValueError,
      'alphaExpansion: pairwise has V(1,1) = 1, expected 0 on the diagonal',
    );
    expectThrow(
      () => alphaExpansion({ ...base, unary: new Float64Array(5) }),
      SegShapeError,
      'alphaExpansion: unary has length 5, expected width*height*numLabels = 6',
    );
    expectThrow(
      () => alphaExpansion({ ...base, unary: Float64Array.of(0, 0, Number.NaN, 0, 0, 0) }),
      SegValueError,
      'alphaExpansion: unary[2] is NaN, expected a finite number',
    );
    expectThrow(
      () => alphaExpansion({ ...base, numLabels: 1, unary: new Float64Array(2) }),
      SegRangeError,
      'alphaExpansion: numLabels is 1, expected an integer ≥ 2',
    );
    expectThrow(
      () => alphaExpansion({ ...base, width: 0, unary: new Float64Array(0) }),
      SegRangeError,
      'alphaExpansion: width is 0, expected an integer ≥ 1',
    );
    expectThrow(
      () => alphaExpansion({ ...base, weights: [Float64Array.of(1, -1), new Float64Array(2)] }),
      SegValueError,
      'alphaExpansion: weights[0][1] is -1, expected a finite number ≥ 0',
    );
    expectThrow(
      () => alphaExpansion({ ...base, weights: [new Float64Array(2)] }),
      SegRangeError,
      'alphaExpansion: weights has 1 arrays, expected 2 (4-connected) or 4 (8-connected)',
    );
    expectThrow(
      () => alphaExpansion(base, { seeds: Int32Array.of(-1, 3) }),
      SegRangeError,
      'alphaExpansion: seeds[1] is 3, expected an integer in [-1, 2]',
    );
    expectThrow(
      () => alphaExpansion(base, { labelOrder: [0, 1, 1] }),
      SegValueError,
      'alphaExpansion: labelOrder lists label 1 twice, expected each label at most once',
    );
    // checked as given, not after an Int32Array truncated 0.5 to 0
    expectThrow(
      () => alphaBetaSwap(base, { labelOrder: [0.5, 1] }),
      SegRangeError,
      'alphaBetaSwap: labelOrder[0] is 0.5, expected an integer in [0, 2]',
    );
    expectThrow(
      () => alphaExpansion(base, { maxCycles: 0 }),
      SegRangeError,
      'alphaExpansion: maxCycles is 0, expected an integer ≥ 1',
    );
    expectThrow(
      () => computeEnergy(base, Int32Array.of(0, 3)),
      SegRangeError,
      'computeEnergy: labels[1] is 3, expected an integer in [0, 2]',
    );
    expectThrow(
      () => binaryGraphCut(base),
      SegRangeError,
      'binaryGraphCut: numLabels is 3, expected 2',
    );
  });
});

describe('binaryGraphCut', () => {
  it('finds the exact minimum (all 2^n labelings, n ≤ 9), seeds respected', () => {
    fc.assert(
      fc.property(gridProblem(1 << 14, 2, 2), fc.boolean(), ({ problem, seeds }, asGraph) => {
        const g = toGraph(problem);
        const r = binaryGraphCut(asGraph ? g : problem, seeds ? { seeds } : {});
        const best = bruteMin(g, seeds);
        expect(r.energy).toBeCloseTo(best, 9);
        expect(r.energy).toBeCloseTo(energy(g, r.labels), 9);
        if (seeds) {
          for (let i = 0; i < seeds.length; i++)
            if (seeds[i]! >= 0) expect(r.labels[i]).toBe(seeds[i]);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('the grid path (built straight into the grid solver) gives the general path’s labels and energy', () => {
    fc.assert(
      fc.property(
        gridProblem(1 << 14, 2, 2),
        fc.option(fc.double({ min: 0.1, max: 3, noNaN: true }), { nil: undefined }),
        fc.constantFrom(0 as const, 1 as const),
        ({ problem, seeds }, v, ties) => {
          // the two solvers push flow in different orders: keep to costs
          // whose sums they both round alike (no subnormals)
          const round = <A extends Float32Array | Float64Array>(a: A) =>
            a.map((x) => (Math.abs(x) < 1e-6 ? 0 : x)) as A;
          const costs = { unary: round(problem.unary), weights: problem.weights.map(round) };
          const p =
            v === undefined
              ? { ...problem, ...costs }
              : { ...problem, ...costs, pairwise: Float64Array.of(0, v, v, 0) };
          const options = { ...(seeds ? { seeds } : {}), ties };
          const grid = binaryGraphCut(p, options);
          const graph = binaryGraphCut(toGraph(p), options);
          expect(Array.from(grid.labels)).toEqual(Array.from(graph.labels));
          expect(grid.energy).toBeCloseTo(graph.energy, 9);
          expect(grid.energy).toBe(computeEnergy(p, grid.labels));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('ties: 0 and 1 give the least and the greatest minimiser, and ties: 1 is the labels-exchanged cut', () => {
    fc.assert(
      fc.property(gridProblem(1 << 14, 2, 2, resolvedValue), ({ problem, seeds }) => {
        const r0 = binaryGraphCut(problem, seeds ? { seeds } : {});
        const r1 = binaryGraphCut(problem, { ...(seeds ? { seeds } : {}), ties: 1 });
        expect(r1.energy).toBeCloseTo(r0.energy, 9);
        for (let p = 0; p < r0.labels.length; p++)
          expect(r0.labels[p]!).toBeLessThanOrEqual(r1.labels[p]!);
        // the same cut as solving with labels 0 and 1 exchanged, then exchanging back
        const u = problem.unary;
        const exchanged = { ...problem, unary: problem.unary.map((_, i) => u[i ^ 1]!) };
        const xs = seeds?.map((s) => (s < 0 ? -1 : 1 - s));
        const rx = binaryGraphCut(exchanged, xs ? { seeds: xs } : {});
        expect(Array.from(r1.labels)).toEqual(Array.from(rx.labels, (l) => 1 - l));
      }),
      { numRuns: 200 },
    );
    const problem = {
      width: 2,
      height: 1,
      numLabels: 2,
      unary: new Float32Array(4),
      weights: [new Float32Array(2), new Float32Array(2)],
    };
    expect(Array.from(binaryGraphCut(problem).labels)).toEqual([0, 0]);
    expect(Array.from(binaryGraphCut(problem, { ties: 1 }).labels)).toEqual([1, 1]);
    expectThrow(
      () => binaryGraphCut(problem, { ties: 2 as 1 }),
      SegValueError,
      'binaryGraphCut: options.ties is 2, expected 0 or 1',
    );
  });
});
