/**
 * Multi-label energies on grids and general graphs, their validation, and
 * the flat edge list the move solvers and {@link computeEnergy} share.
 *
 * Energy of a labeling L: `Σ_p unary[p*K + L_p] + Σ_edges w_e · V(L_p, L_q)`
 * with V the Potts term `[a ≠ b]` unless a K×K `pairwise` matrix is given.
 */
import {
  assertFinite,
  assertInt,
  assertIntRange,
  assertLength,
  assertNonNegative,
  assertObject,
  SegRangeError,
  SegValueError,
} from '@seg/tensor/errors';
import type { FloatArray } from '../arrays.js';
import {
  absSum,
  assertArray,
  assertBudget,
  assertEdges,
  assertNodes,
  assertTotal,
} from '../bounds.js';
import { GRID_STEPS } from '../maxflow/directions.js';
import { GraphBK, graphBkBytes } from '../maxflow/graph-bk.js';
import { GridBK, gridBkBytes } from '../maxflow/grid-bk.js';

/** @deprecated Renamed {@link FloatArray} (the same union as the deprecated `Capacities`); this alias goes in the next minor release. */
export type Costs = FloatArray;

/**
 * A labeling problem on a W×H pixel grid: the data of the energy
 * `Σ_p unary[p·K + L_p] + Σ_edges w · V(L_p, L_q)` (evaluate it with
 * {@link computeEnergy}).
 */
export interface GridProblem {
  width: number;
  height: number;
  /** K ≥ 2. */
  numLabels: number;
  /** Site-major unary costs `[p*K + k]`, p = y·W + x, length W·H·K, finite. */
  unary: FloatArray;
  /**
   * Edge weights, one array of length W·H per forward direction: `[right, down]`
   * (4-connected) or `[right, down, downRight, downLeft]` (8-connected); entry p
   * weighs the edge from p to that neighbour (ignored where it lies outside).
   * Finite, ≥ 0.
   */
  weights: readonly FloatArray[];
  /** K×K pairwise matrix V (row-major), multiplied by each edge's weight. @default Potts, V(a,b) = [a ≠ b] */
  pairwise?: FloatArray;
}

/** A labeling problem on a general graph (edge list): the data of the same energy as {@link GridProblem}'s. */
export interface GraphProblem {
  numNodes: number;
  /** K ≥ 2. */
  numLabels: number;
  /** Site-major unary costs `[p*K + k]`, length numNodes·K, finite. */
  unary: FloatArray;
  /** Edge ends, length M, in `[0, numNodes)`. */
  from: Int32Array;
  to: Int32Array;
  /** Edge weights, length M, finite, ≥ 0. */
  weights: FloatArray;
  /** K×K pairwise matrix V (row-major). @default Potts */
  pairwise?: FloatArray;
}

/** A grid or graph labeling problem. */
export type LabelingProblem = GridProblem | GraphProblem;

/** @deprecated Renamed {@link GridProblem} (it is a problem, not an energy); this alias goes in the next minor release. */
export type GridEnergy = GridProblem;

/** @deprecated Renamed {@link GraphProblem} (it is a problem, not an energy); this alias goes in the next minor release. */
export type GraphEnergy = GraphProblem;

/** Options of the move-making solvers. */
export interface MoveOptions {
  /** Largest number of cycles (one cycle = one move per label, or per label pair for swap). @default 20 */
  maxCycles?: number;
  /** Order in which labels are visited in a cycle (a permutation of a subset of 0..K-1). @default 0..K-1 */
  labelOrder?: ArrayLike<number>;
  /** Hard constraints: `seeds[p] ≥ 0` fixes node p to that label, -1 leaves it free. Length N. */
  seeds?: Int32Array;
  /** Starting labeling (seeds override it). @default the unary argmin */
  init?: Int32Array;
  /**
   * Memory budget in bytes, checked before anything is allocated: the edge
   * list, the max-flow solver, the labels and the moves' working arrays
   * (`Infinity`: none). @default GRAPH_CUT_MAX_BYTES (8 GiB)
   */
  maxBytes?: number;
}

/** What the solvers return. */
export interface LabelingResult {
  /** One label a node. */
  labels: Int32Array;
  /** Energy of `labels` (as {@link computeEnergy} gives it). */
  energy: number;
  /** Energy after each cycle. */
  energies: number[];
  /** Number of cycles run. */
  cycles: number;
}

/** The checked problem, as a flat edge list bound to a max-flow solver's arcs. */
export interface Compiled {
  n: number;
  K: number;
  unary: FloatArray;
  from: Int32Array;
  to: Int32Array;
  /**
   * Edge weights: float32 when the problem's weights all are (the same
   * values, read as float64, in half the memory), float64 otherwise.
   */
  w: FloatArray;
  /** K×K matrix, or null for Potts. */
  V: Float64Array | null;
  solver: GridBK | GraphBK;
  /** Arc index of edge e (from → to) and of its reverse, in `solver.rc`. */
  arcF: Int32Array;
  arcB: Int32Array;
}

/** The size of a problem, for an out-of-memory message. */
export function problemSize(p: LabelingProblem): string {
  const K = p.numLabels;
  if (isGrid(p)) return `a ${p.width}×${p.height} grid with ${K} labels`;
  return `a graph of ${p.numNodes} nodes, ${p.from?.length} edges and ${K} labels`;
}

/** Whether a problem is on a grid. */
export function isGrid(p: LabelingProblem): p is GridProblem {
  return (p as GridProblem).width !== undefined;
}

/**
 * Checks a pairwise matrix: K×K, finite, ≥ 0, zero diagonal, symmetric, and
 * for `metric` the triangle inequality (α-expansion needs a metric;
 * αβ-swap a semi-metric).
 */
export function checkPairwise(fn: string, V: FloatArray, K: number, metric: boolean): void {
  assertLength(fn, 'pairwise', V, K * K, 'numLabels*numLabels');
  assertNonNegative(fn, 'pairwise', V);
  for (let a = 0; a < K; a++) {
    if (V[a * K + a] !== 0) {
      throw new SegValueError(
        `${fn}: pairwise has V(${a},${a}) = ${V[a * K + a]}, expected 0 on the diagonal`,
      );
    }
    for (let b = a + 1; b < K; b++) {
      if (V[a * K + b] !== V[b * K + a]) {
        throw new SegValueError(
          `${fn}: pairwise is not symmetric: V(${a},${b}) = ${V[a * K + b]}, V(${b},${a}) = ${V[b * K + a]}`,
        );
      }
    }
  }
  if (!metric) return;
  for (let a = 0; a < K; a++) {
    for (let b = 0; b < K; b++) {
      for (let c = 0; c < K; c++) {
        const ab = V[a * K + b]!;
        const via = V[a * K + c]! + V[c * K + b]!;
        if (ab > via * (1 + 1e-12)) {
          throw new SegValueError(
            `${fn}: pairwise is not a metric: V(${a},${b}) = ${ab} > V(${a},${c}) + V(${c},${b}) = ${via}`,
          );
        }
      }
    }
  }
}

/**
 * The memory budget of a solve: its limit, and what the solver allocates
 * beyond the compiled problem and the starting labels, in bytes, from the
 * problem's sizes (n nodes, at most m edges, K labels; D directions a node on
 * a grid, 0 on a general graph).
 */
export interface Budget {
  maxBytes: number;
  extra: (n: number, m: number, K: number, D: number) => number;
}

/**
 * Throws a SegRangeError when a problem's compiled form (edge list: ends
 * and arc indices, 16 bytes an edge, weights 4 or 8 (`f32`); the max-flow
 * solver's arrays), its labels (5 bytes a node) and the solver's extra
 * arrays exceed the budget.
 */
function checkBudget(
  fn: string,
  size: string,
  budget: Budget,
  sizes: { n: number; m: number; K: number; D: number; f32: boolean; solverBytes: number },
): void {
  const { n, m, K, D, f32, solverBytes } = sizes;
  const bytes = (16 + (f32 ? 4 : 8)) * m + solverBytes + 5 * n + budget.extra(n, m, K, D);
  assertBudget(fn, size, bytes, budget.maxBytes);
}

/**
 * Checks a grid problem's size, unary length and edge weights (finite,
 * ≥ 0), and with a `budget` the bytes it will need; returns its node count,
 * connectivity, whether every weight array is float32, and Σ|weights|.
 */
export function checkGrid(
  fn: string,
  prob: GridProblem,
  withSolver: boolean,
  budget?: Budget,
): { n: number; D: 4 | 8; f32: boolean; weightSum: number } {
  const K = prob.numLabels;
  const { width: W, height: H, weights } = prob;
  assertInt(fn, 'width', W, 1);
  assertInt(fn, 'height', H, 1);
  const n = W * H;
  assertNodes(fn, `width*height = ${W}×${H}`, n);
  assertLength(fn, 'unary', prob.unary, n * K, 'width*height*numLabels');
  if (!Array.isArray(weights)) {
    throw new SegValueError(
      `${fn}: weights is ${String(weights)}, expected an array of 2 (4-connected) or 4 (8-connected) arrays of edge weights`,
    );
  }
  if (weights.length !== 2 && weights.length !== 4) {
    throw new SegRangeError(
      `${fn}: weights has ${weights.length} arrays, expected 2 (4-connected) or 4 (8-connected)`,
    );
  }
  const D = weights.length === 4 ? 8 : 4;
  const h = D >> 1;
  const f32 = weights.every((wk) => wk instanceof Float32Array);
  if (budget) {
    const solverBytes = withSolver ? gridBkBytes(n, D) : 0;
    checkBudget(fn, `${problemSize(prob)}, ${D}-connected`, budget, {
      n,
      m: h * n,
      K,
      D,
      f32,
      solverBytes,
    });
  }
  let weightSum = 0;
  for (let k = 0; k < h; k++) {
    const wk = weights[k]!;
    assertArray(fn, `weights[${k}]`, wk, 'a Float32Array or Float64Array');
    assertLength(fn, `weights[${k}]`, wk, n, 'width*height');
    weightSum += absSum(fn, `weights[${k}]`, wk, true);
  }
  return { n, D, f32, weightSum };
}

/**
 * Checks the unary costs (finite), the pairwise matrix (a metric when
 * `metric`) and that every energy stays finite; returns V as float64, or
 * null for Potts.
 */
export function checkCosts(
  fn: string,
  prob: LabelingProblem,
  weightSum: number,
  metric: boolean,
): Float64Array | null {
  const unarySum = absSum(fn, 'unary', prob.unary, false);
  let V: Float64Array | null = null;
  let maxV = 1;
  if (prob.pairwise) {
    checkPairwise(fn, prob.pairwise, prob.numLabels, metric);
    V = Float64Array.from(prob.pairwise);
    maxV = 0;
    for (let i = 0; i < V.length; i++) if (V[i]! > maxV) maxV = V[i]!;
  }
  assertTotal(fn, '|unary| and the weighted pairwise costs', unarySum + weightSum * maxV);
  return V;
}

/**
 * Validates the problem and builds its edge list and solver; with a
 * `budget`, first checks the bytes all of it will need (on a grid, counting
 * every edge of the connectivity, weighted or not).
 */
export function compile(
  fn: string,
  prob: LabelingProblem,
  metric: boolean,
  withSolver = true,
  budget?: Budget,
): Compiled {
  assertObject(fn, 'problem', prob);
  const K = prob.numLabels;
  assertInt(fn, 'numLabels', K, 2);
  assertArray(fn, 'unary', prob.unary, 'a Float32Array or Float64Array of unary costs');
  // Σ|unary| + Σ weights · max V bounds every energy and flow of the moves
  let weightSum = 0;
  let n: number;
  let from: Int32Array;
  let to: Int32Array;
  let w: FloatArray;
  let solver: GridBK | GraphBK | null = null;
  let arcF: Int32Array;
  let arcB: Int32Array;
  if (isGrid(prob)) {
    const { width: W, height: H, weights } = prob;
    const grid = checkGrid(fn, prob, withSolver, budget);
    n = grid.n;
    weightSum = grid.weightSum;
    const { D, f32 } = grid;
    const h = D >> 1;
    let m = 0;
    for (let k = 0; k < h; k++) {
      const wk = weights[k]!;
      const { dx, dy } = GRID_STEPS[k]!;
      for (let y = 0; y + dy < H; y++) {
        for (let x = dx < 0 ? 1 : 0; x < (dx > 0 ? W - 1 : W); x++) if (wk[y * W + x]! > 0) m++;
      }
    }
    from = new Int32Array(m);
    to = new Int32Array(m);
    w = f32 ? new Float32Array(m) : new Float64Array(m);
    arcF = new Int32Array(m);
    arcB = new Int32Array(m);
    let e = 0;
    for (let k = 0; k < h; k++) {
      const wk = weights[k]!;
      const { dx, dy } = GRID_STEPS[k]!;
      const off = dx + dy * W;
      for (let y = 0; y + dy < H; y++) {
        for (let x = dx < 0 ? 1 : 0; x < (dx > 0 ? W - 1 : W); x++) {
          const p = y * W + x;
          const c = wk[p]!;
          if (c <= 0) continue;
          from[e] = p;
          to[e] = p + off;
          w[e] = c;
          arcF[e] = p * D + k;
          arcB[e] = (p + off) * D + (k ^ h);
          e++;
        }
      }
    }
    if (withSolver) solver = new GridBK(W, H, D);
  } else {
    n = prob.numNodes;
    assertInt(fn, 'numNodes', n, 1);
    assertNodes(fn, 'numNodes', n);
    assertLength(fn, 'unary', prob.unary, n * K, 'numNodes*numLabels');
    assertArray(fn, 'from', prob.from, 'an Int32Array of edge tails');
    assertArray(fn, 'to', prob.to, 'an Int32Array of edge heads');
    assertArray(fn, 'weights', prob.weights, 'a Float32Array or Float64Array of edge weights');
    const m = prob.from.length;
    assertEdges(fn, m);
    assertLength(fn, 'to', prob.to, m, 'from.length');
    assertLength(fn, 'weights', prob.weights, m, 'from.length');
    const f32 = prob.weights instanceof Float32Array;
    if (budget) {
      const solverBytes = withSolver ? graphBkBytes(n, m) : 0;
      checkBudget(fn, problemSize(prob), budget, { n, m, K, D: 0, f32, solverBytes });
    }
    assertIntRange(fn, 'from', prob.from, 0, n - 1);
    assertIntRange(fn, 'to', prob.to, 0, n - 1);
    weightSum = absSum(fn, 'weights', prob.weights, true);
    for (let e = 0; e < m; e++) {
      if (prob.from[e] === prob.to[e]) {
        throw new SegValueError(
          `${fn}: edge ${e} is a loop (from[${e}] = to[${e}] = ${prob.from[e]}), expected two different nodes`,
        );
      }
    }
    from = Int32Array.from(prob.from);
    to = Int32Array.from(prob.to);
    w = f32 ? Float32Array.from(prob.weights) : Float64Array.from(prob.weights);
    arcF = new Int32Array(m);
    arcB = new Int32Array(m);
    if (withSolver) {
      const g = new GraphBK(n, from, to);
      arcF.set(g.edgeArc);
      for (let e = 0; e < m; e++) arcB[e] = g.sister[arcF[e]!]!;
      solver = g;
    }
  }
  const V = checkCosts(fn, prob, weightSum, metric);
  return {
    n,
    K,
    unary: prob.unary,
    from,
    to,
    w,
    V,
    solver: solver as GridBK | GraphBK,
    arcF,
    arcB,
  };
}

/** Energy of labels under a compiled problem (labels already checked). */
export function energyOf(c: Compiled, L: Int32Array): number {
  const { n, K, unary, from, to, w, V } = c;
  let e = 0;
  for (let p = 0; p < n; p++) e += unary[p * K + L[p]!]!;
  const m = from.length;
  let pair = 0;
  if (V) {
    for (let i = 0; i < m; i++) pair += w[i]! * V[L[from[i]!]! * K + L[to[i]!]!]!;
  } else {
    for (let i = 0; i < m; i++) if (L[from[i]!] !== L[to[i]!]) pair += w[i]!;
  }
  return e + pair;
}

/**
 * Energy of a labeling: `Σ_p unary[p*K + L_p] + Σ_edges w · V(L_p, L_q)`
 * (V = Potts unless `pairwise` is given; the matrix need not be a metric here).
 *
 * @example
 * const e = computeEnergy({ width: 2, height: 1, numLabels: 2, unary, weights: [right, down] }, Int32Array.of(0, 1));
 */
export function computeEnergy(problem: LabelingProblem, labels: Int32Array): number {
  const fn = 'computeEnergy';
  const c = compileForEnergy(fn, problem);
  assertLength(fn, 'labels', labels, c.n, isGrid(problem) ? 'width*height' : 'numNodes');
  assertIntRange(fn, 'labels', labels, 0, c.K - 1);
  return energyOf(c, labels);
}

function compileForEnergy(fn: string, problem: LabelingProblem): Compiled {
  assertObject(fn, 'problem', problem);
  if (problem.pairwise) {
    // any non-negative matrix is fine for evaluating an energy
    const K = problem.numLabels;
    assertInt(fn, 'numLabels', K, 2);
    assertLength(fn, 'pairwise', problem.pairwise, K * K, 'numLabels*numLabels');
    assertFinite(fn, 'pairwise', problem.pairwise);
    const c = compile(fn, { ...problem, pairwise: undefined }, false, false);
    c.V = Float64Array.from(problem.pairwise);
    return c;
  }
  return compile(fn, problem, false, false);
}

/** Checks the options and makes the starting labeling (seeds applied). */
export function startLabels(
  fn: string,
  c: Pick<Compiled, 'n' | 'K' | 'unary'>,
  opts: MoveOptions,
): { L: Int32Array; fixed: Uint8Array } {
  const { n, K, unary } = c;
  const L = new Int32Array(n);
  if (opts.init) {
    assertLength(fn, 'init', opts.init, n, 'number of nodes');
    assertIntRange(fn, 'init', opts.init, 0, K - 1);
    L.set(opts.init);
  } else {
    for (let p = 0; p < n; p++) {
      let best = 0;
      let bv = unary[p * K]!;
      for (let k = 1; k < K; k++) {
        const v = unary[p * K + k]!;
        if (v < bv) {
          bv = v;
          best = k;
        }
      }
      L[p] = best;
    }
  }
  const fixed = new Uint8Array(n);
  if (opts.seeds) {
    assertLength(fn, 'seeds', opts.seeds, n, 'number of nodes');
    assertIntRange(fn, 'seeds', opts.seeds, -1, K - 1);
    for (let p = 0; p < n; p++) {
      const s = opts.seeds[p]!;
      if (s >= 0) {
        L[p] = s;
        fixed[p] = 1;
      }
    }
  }
  return { L, fixed };
}

/** The default `maxCycles` of the move solvers. */
export const DEFAULT_MAX_CYCLES = 20;

/** Checks `maxCycles` and `labelOrder`. */
export function cycleOptions(
  fn: string,
  K: number,
  opts: MoveOptions,
): { maxCycles: number; order: Int32Array } {
  const maxCycles = opts.maxCycles ?? DEFAULT_MAX_CYCLES;
  assertInt(fn, 'maxCycles', maxCycles, 1);
  let order: Int32Array;
  if (opts.labelOrder) {
    // checked before the Int32Array, which would truncate 0.5 or wrap 2³²
    assertIntRange(fn, 'labelOrder', opts.labelOrder, 0, K - 1);
    order = Int32Array.from(opts.labelOrder);
    const seen = new Uint8Array(K);
    for (let i = 0; i < order.length; i++) {
      if (seen[order[i]!]) {
        throw new SegValueError(
          `${fn}: labelOrder lists label ${order[i]} twice, expected each label at most once`,
        );
      }
      seen[order[i]!] = 1;
    }
  } else {
    order = new Int32Array(K);
    for (let k = 0; k < K; k++) order[k] = k;
  }
  return { maxCycles, order };
}
