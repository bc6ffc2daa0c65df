/**
 * A grid Potts labeling problem in the layout of @seg/crf-solvers (and of
 * SEGPOTTS): unary N·K site-major, one weight array per direction (right,
 * down, down-right, down-left), seeds as hard constraints, and its exact
 * solution for K = 2 by one minimum cut.
 */
import { assertIntRange, assertLength } from '@seg/tensor';
import { checkPottsProblem } from '../validate.js';
import { GridGraph } from './solvers.js';

/** Cost that makes a seed a hard constraint (as the classic instance's 1e9 links). */
export const HARD = 1e9;

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

const DIRS = ['right', 'down', 'downRight', 'downLeft'] as const;
const DX = [1, 0, 1, -1];
const DY = [0, 1, 1, 1];

/**
 * The min-cut instance of a two-label {@link PottsProblem} (label 1 on the
 * source side, seeds as {@link HARD} links), in the layout of
 * @seg/crf-solvers' `GridInstance`.
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
  const source = new Float64Array(N);
  const sink = new Float64Array(N);
  for (let p = 0; p < N; p++) {
    const s = seeds ? seeds[p]! : -1;
    // the source capacity is paid when p ends on the sink side (label 0)
    let c0 = unary[2 * p]!;
    let c1 = unary[2 * p + 1]!;
    if (s === 1) c0 = HARD;
    else if (s === 0) c1 = HARD;
    const m = Math.min(c0, c1);
    source[p] = c0 - m;
    sink[p] = c1 - m;
  }
  return {
    width: W,
    height: H,
    connectivity: potts.length === 4 ? 8 : 4,
    source,
    sink,
    edges: potts.map((w) => Float64Array.from(w)),
  };
}

/** Labels (1 = source side) of a cut as Int32. */
export function cutLabels(labels: Uint8Array): Int32Array {
  const out = new Int32Array(labels.length);
  for (let p = 0; p < labels.length; p++) out[p] = labels[p]!;
  return out;
}

/**
 * Exact minimiser of a two-label {@link PottsProblem} by one BK min cut on
 * a grid graph. Seeds are hard: a seed pixel keeps its label.
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
  return cutLabels(g.maxflow().labels);
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
