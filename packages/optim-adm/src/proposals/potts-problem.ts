/**
 * A grid Potts labeling problem in the layout of @seg/crf-solvers (and of
 * SEGPOTTS): unary N·K site-major, one weight array per direction (right,
 * down, down-right, down-left), seeds as hard constraints, and its exact
 * solution for K = 2 by one minimum cut.
 */
import {
  assertInt,
  assertIntRange,
  assertLength,
  assertNonNegative,
  SegShapeError,
  SegValueError,
} from '@seg/tensor';
import { GridGraph } from './solvers.js';

/**
 * The cost {@link proposalEnergy} adds per seed pixel whose label is not its
 * seed's (a report of violated constraints). The solvers do not use it: they
 * fix seed pixels structurally (see `binaryInstance`), so seeds hold
 * for every Potts weight.
 */
export const HARD = 1e9;

/**
 * The largest Potts weight (`λ·w_pq`, per edge) a problem may have: the
 * weights are float32, and sums of a few of them must stay finite in the
 * solvers. Larger λ are refused (segmentImage, interactiveGraphCut,
 * proposalProblem) rather than overflowing to ∞.
 */
export const MAX_POTTS_WEIGHT = 1e30;

/** A Potts energy `Σ_p U[p·K + L_p] + Σ_edges w·[L_p ≠ L_q]` on a grid, with optional seeds. */
export interface PottsProblem {
  width: number;
  height: number;
  numLabels: number;
  /** N·K, site-major `[p*K + k]`. */
  unary: Float32Array;
  /** `[right, down]` or `[right, down, downRight, downLeft]`, each N long. */
  potts: Float32Array[];
  /** Labels forced at seed pixels (-1: free); omitted = none. */
  seeds?: Int32Array;
}

/**
 * Whether a Potts problem may have `n` edge-weight arrays (right, down,
 * down-right, down-left): 2 or 4; for K = 2 (one min cut) also 1, right only.
 */
export function edgeCountOk(n: number, K: number): boolean {
  return n === 2 || n === 4 || (n === 1 && K === 2);
}

/**
 * Throws unless `problem` is a {@link PottsProblem}: integer sizes, K ≥ 2,
 * a unary of W·H·K finite entries, 2 or 4 (K = 2: also 1) edge-weight arrays of W·H finite
 * entries ≥ 0, and seeds (if any) of W·H labels in [-1, K-1].
 */
export function checkPottsProblem(fn: string, problem: PottsProblem): void {
  if (!problem || typeof problem !== 'object') {
    throw new SegValueError(`${fn}: problem is ${String(problem)}, expected a PottsProblem`);
  }
  const { width: W, height: H, numLabels: K, unary, potts, seeds } = problem;
  assertInt(fn, 'problem.width', W, 1);
  assertInt(fn, 'problem.height', H, 1);
  assertInt(fn, 'problem.numLabels', K, 2);
  const N = W * H;
  if (!(unary instanceof Float32Array)) {
    throw new SegValueError(`${fn}: problem.unary is not a Float32Array`);
  }
  assertLength(fn, 'problem.unary', unary, N * K, 'width*height*numLabels');
  for (let i = 0; i < unary.length; i++) {
    if (!Number.isFinite(unary[i]!)) {
      throw new SegValueError(
        `${fn}: problem.unary[${i}] is ${unary[i]}, expected a finite number`,
      );
    }
  }
  if (!Array.isArray(potts) || !edgeCountOk(potts.length, K)) {
    throw new SegShapeError(
      `${fn}: problem.potts has ${Array.isArray(potts) ? potts.length : 'no'} arrays, expected 2 (4-connected) or 4 (8-connected)`,
    );
  }
  potts.forEach((w, d) => {
    assertLength(fn, `problem.potts[${d}]`, w, N, 'width*height');
    assertNonNegative(fn, `problem.potts[${d}]`, w);
  });
  if (seeds !== undefined) {
    assertLength(fn, 'problem.seeds', seeds, N, 'width*height');
    assertIntRange(fn, 'problem.seeds', seeds, -1, K - 1);
  }
}

const DIRS = ['right', 'down', 'downRight', 'downLeft'] as const;
const DX = [1, 0, 1, -1];
const DY = [0, 1, 1, 1];

/**
 * The min-cut instance of a two-label {@link PottsProblem} (label 1 on the
 * source side), in the layout of @seg/crf-solvers' `GridInstance`. Seeds
 * are enforced structurally, not by a large penalty: a seed pixel's edges
 * are removed and their weights moved onto its free neighbours' cost of
 * the other label (the exact energy once the seed's label is fixed), and
 * the seed keeps only a unit link to its own terminal. No cut can then
 * change a seed, whatever the weights (a finite penalty such as 1e9 is
 * outweighed once λ·w is larger). Read labels back with {@link cutLabels}
 * and the seeds.
 */
export function binaryInstance(problem: PottsProblem): {
  width: number;
  height: number;
  connectivity: 4 | 8;
  source: Float64Array;
  sink: Float64Array;
  edges: Float64Array[];
} {
  const { width: W, height: H, unary, potts, seeds } = problem;
  const N = W * H;
  // c0[p], c1[p]: the cost of label 0 / 1 at p
  const c0 = new Float64Array(N);
  const c1 = new Float64Array(N);
  for (let p = 0; p < N; p++) {
    c0[p] = unary[2 * p]!;
    c1[p] = unary[2 * p + 1]!;
  }
  const edges = potts.map((w) => Float64Array.from(w));
  if (seeds) {
    edges.forEach((w, d) => {
      const dx = DX[d]!;
      const dy = DY[d]!;
      for (let y = 0; y + dy < H; y++) {
        for (let x = Math.max(0, -dx); x < W - Math.max(0, dx); x++) {
          const p = y * W + x;
          const q = p + dy * W + dx;
          const sp = seeds[p]!;
          const sq = seeds[q]!;
          if (sp < 0 && sq < 0) continue;
          const c = w[p]!;
          w[p] = 0;
          // a free neighbour of a seed pays the edge when it takes the other label
          if (sq < 0) (sp === 1 ? c0 : c1)[q]! += c;
          else if (sp < 0) (sq === 1 ? c0 : c1)[p]! += c;
          // two seeds: a constant, left out
        }
      }
    });
  }
  const source = new Float64Array(N);
  const sink = new Float64Array(N);
  for (let p = 0; p < N; p++) {
    const s = seeds ? seeds[p]! : -1;
    if (s === 1) source[p] = 1;
    else if (s === 0) sink[p] = 1;
    else {
      // the source capacity is paid when p ends on the sink side (label 0)
      const m = Math.min(c0[p]!, c1[p]!);
      source[p] = c0[p]! - m;
      sink[p] = c1[p]! - m;
    }
  }
  return {
    width: W,
    height: H,
    connectivity: potts.length === 4 ? 8 : 4,
    source,
    sink,
    edges,
  };
}

/** Labels (1 = source side) of a cut as Int32; seed pixels (if given) get their seed. */
export function cutLabels(labels: Uint8Array, seeds?: Int32Array): Int32Array {
  const out = new Int32Array(labels.length);
  for (let p = 0; p < labels.length; p++) {
    const s = seeds ? seeds[p]! : -1;
    out[p] = s >= 0 ? s : labels[p]!;
  }
  return out;
}

/**
 * Exact minimiser of a two-label {@link PottsProblem} by one BK min cut on
 * a grid graph. Seeds are hard for every weight: a seed pixel keeps its
 * label (see `binaryInstance`).
 */
export function solveBinary(problem: PottsProblem): Int32Array {
  const inst = binaryInstance(problem);
  const g = new GridGraph({
    width: inst.width,
    height: inst.height,
    connectivity: inst.connectivity,
  });
  g.setTerminals(inst.source, inst.sink);
  inst.edges.forEach((w, d) => {
    g.setEdges(DIRS[d]!, w);
  });
  return cutLabels(g.maxflow().labels, problem.seeds);
}

/** Energy of a labeling of a {@link PottsProblem} (float64; seeds not counted). */
export function pottsProblemEnergy(problem: PottsProblem, labels: Int32Array): number {
  checkLabeling('pottsProblemEnergy', problem, labels);
  return problemEnergy(problem, labels);
}

/** Throws unless `problem` is a valid {@link PottsProblem} and `labels` one of its labelings. */
export function checkLabeling(fn: string, problem: PottsProblem, labels: Int32Array): void {
  checkPottsProblem(fn, problem);
  assertLength(fn, 'labels', labels, problem.width * problem.height, 'width*height');
  assertIntRange(fn, 'labels', labels, 0, problem.numLabels - 1);
}

/** {@link pottsProblemEnergy} without input checks. */
export function problemEnergy(problem: PottsProblem, labels: Int32Array): number {
  const { width: W, height: H, numLabels: K, unary, potts } = problem;
  let e = 0;
  for (let p = 0; p < W * H; p++) e += unary[p * K + labels[p]!]!;
  potts.forEach((w, d) => {
    const dx = DX[d]!;
    const dy = DY[d]!;
    for (let y = 0; y + dy < H; y++) {
      for (let x = Math.max(0, -dx); x < W - Math.max(0, dx); x++) {
        const p = y * W + x;
        if (labels[p] !== labels[p + dy * W + dx]) e += w[p]!;
      }
    }
  });
  return e;
}
