/**
 * A grid Potts labeling problem in the layout of @seg/crf-solvers (a
 * `GridProblem`: unary N·K site-major, one weight array per direction in
 * `GRID_STEPS` order), seeds as hard constraints, and its exact solution for
 * K = 2 by crf-solvers' `binaryGraphCut` (one minimum cut).
 */
import {
  assertInt,
  assertIntRange,
  assertLength,
  assertNonNegative,
  SegShapeError,
  SegValueError,
} from '@seg/tensor';
import {
  type BinaryCutOptions,
  binaryGraphCut,
  GRID_STEPS,
  type GridInstance,
  type GridProblem,
  type SolverPool,
} from './solvers.js';

/**
 * The cost {@link proposalEnergy} adds per seed pixel whose label is not its
 * seed's (a report of violated constraints). The solvers do not use it: they
 * fix seed pixels structurally (`binaryGraphCut` and `alphaExpansion` keep
 * seeds at their label and turn their edges into costs of their free
 * neighbours), so seeds hold for every Potts weight.
 */
export const HARD = 1e9;

/**
 * The largest Potts weight (`λ·w_pq`, per edge) a problem may have: the
 * weights are float32, and sums of a few of them must stay finite in the
 * solvers. Larger λ are refused (segmentImage, interactiveGraphCut,
 * proposalProblem) rather than overflowing to ∞.
 */
export const MAX_POTTS_WEIGHT = 1e30;

/**
 * A Potts energy `Σ_p U[p·K + L_p] + Σ_edges w·[L_p ≠ L_q]` on a grid, with
 * optional seeds: a crf-solvers `GridProblem` without a pairwise matrix (the
 * Potts term), in float32, plus the seeds.
 */
export interface PottsProblem extends Omit<GridProblem, 'pairwise'> {
  /** N·K, site-major `[p*K + k]`. */
  unary: Float32Array;
  /**
   * Potts weights, one array of N per forward direction (`GRID_STEPS`):
   * `[right, down]` or `[right, down, downRight, downLeft]`; for K = 2 also
   * `[right]` alone. Finite, ≥ 0.
   */
  weights: Float32Array[];
  /** Labels forced at seed pixels (-1: free); omitted = none. */
  seeds?: Int32Array;
}

/**
 * @deprecated A {@link PottsProblem} with its weights under their old name,
 * `potts`: accepted by `solvePotts`, `pottsProblemEnergy` and
 * `proposalEnergy` for one release; use `weights`.
 */
export type LegacyPottsProblem = Omit<PottsProblem, 'weights'> & { potts: Float32Array[] };

/**
 * The problem with its weights under `weights`, and the name the caller gave
 * them (for messages): a {@link LegacyPottsProblem}'s `potts` are read as
 * its weights.
 */
export function withWeights(problem: PottsProblem | LegacyPottsProblem): {
  problem: PottsProblem;
  field: 'weights' | 'potts';
} {
  if (problem && typeof problem === 'object' && !('weights' in problem) && 'potts' in problem) {
    const { potts, ...rest } = problem;
    return { problem: { ...rest, weights: potts }, field: 'potts' };
  }
  return { problem: problem as PottsProblem, field: 'weights' };
}

/**
 * Whether a Potts problem may have `n` edge-weight arrays (right, down,
 * down-right, down-left): 2 or 4; for K = 2 (one min cut) also 1, right only.
 */
export function edgeCountOk(n: number, K: number): boolean {
  return n === 2 || n === 4 || (n === 1 && K === 2);
}

/**
 * Checks that `problem` is a {@link PottsProblem} (or a deprecated
 * {@link LegacyPottsProblem}) and returns it with its weights under
 * `weights`: integer sizes, K ≥ 2, a unary of W·H·K finite entries, 2 or 4
 * (K = 2: also 1) edge-weight arrays of W·H finite entries ≥ 0, and seeds (if
 * any) of W·H labels in [-1, K-1].
 */
export function checkPottsProblem(
  fn: string,
  given: PottsProblem | LegacyPottsProblem,
): PottsProblem {
  if (!given || typeof given !== 'object') {
    throw new SegValueError(`${fn}: problem is ${String(given)}, expected a PottsProblem`);
  }
  const { problem, field } = withWeights(given);
  const { width: W, height: H, numLabels: K, weights, seeds } = problem;
  assertInt(fn, 'problem.width', W, 1);
  assertInt(fn, 'problem.height', H, 1);
  assertInt(fn, 'problem.numLabels', K, 2);
  const N = W * H;
  checkUnary(fn, problem);
  if (!Array.isArray(weights) || !edgeCountOk(weights.length, K)) {
    throw new SegShapeError(
      `${fn}: problem.${field} has ${Array.isArray(weights) ? weights.length : 'no'} arrays, expected 2 (4-connected) or 4 (8-connected)`,
    );
  }
  weights.forEach((w, d) => {
    assertLength(fn, `problem.${field}[${d}]`, w, N, 'width*height');
    assertNonNegative(fn, `problem.${field}[${d}]`, w);
  });
  if (seeds !== undefined) {
    assertLength(fn, 'problem.seeds', seeds, N, 'width*height');
    assertIntRange(fn, 'problem.seeds', seeds, -1, K - 1);
  }
  return problem;
}

/**
 * A two-label {@link PottsProblem} as `binaryGraphCut`'s grid problem, the
 * problem's own arrays, `[right]` alone completed by a zero `down`.
 */
/**
 * Checks a problem's unary (a finite Float32Array of width·height·numLabels),
 * for a problem whose size, weights and seeds are known to be valid.
 */
export function checkUnary(fn: string, problem: PottsProblem): PottsProblem {
  const { width: W, height: H, numLabels: K, unary } = problem;
  if (!(unary instanceof Float32Array)) {
    throw new SegValueError(`${fn}: problem.unary is not a Float32Array`);
  }
  assertLength(fn, 'problem.unary', unary, W * H * K, 'width*height*numLabels');
  for (let i = 0; i < unary.length; i++) {
    if (!Number.isFinite(unary[i]!)) {
      throw new SegValueError(
        `${fn}: problem.unary[${i}] is ${unary[i]}, expected a finite number`,
      );
    }
  }
  return problem;
}

function binaryGridProblem(problem: PottsProblem): GridProblem {
  const { width: W, height: H, unary, weights } = problem;
  const w = weights.length === 1 ? [weights[0]!, new Float32Array(W * H)] : weights;
  return { width: W, height: H, numLabels: 2, unary, weights: w };
}

/**
 * The options of the Y-step's two-label cut: its seeds, and `ties: 1`, since
 * the Y-step has always given the pixels that a tie between minimum cuts
 * leaves free label 1 (the object: the max-flow's source side, as a
 * `GridGraph` cut reads it), so every Y-step labeling stays the same, bit
 * for bit.
 */
function binaryCutOptions(problem: PottsProblem): BinaryCutOptions {
  return problem.seeds ? { seeds: problem.seeds, ties: 1 } : { ties: 1 };
}

/**
 * The grid max-flow instance (crf-solvers' `GridInstance`, label 1 on the
 * source side) of a two-label {@link PottsProblem}, for a cut on a
 * `GridGraph` whose problem can be freed before the graph is allocated (the
 * full-size cuts); {@link solveBinary} is the same cut, bit for bit, by
 * `binaryGraphCut`. Seeds are enforced structurally, as binaryGraphCut
 * does, not by a large penalty: a seed pixel's edges
 * are removed and their weights moved onto its free neighbours' cost of
 * the other label (the exact energy once the seed's label is fixed), and
 * the seed keeps only a unit link to its own terminal. No cut can then
 * change a seed, whatever the weights (a finite penalty such as 1e9 is
 * outweighed once λ·w is larger). Read labels back with {@link cutLabels}
 * and the seeds.
 */
export function binaryInstance(problem: PottsProblem): GridInstance {
  const { width: W, height: H, weights, seeds } = problem;
  const N = W * H;
  const { edges, fold } = foldSeedEdges(W, H, weights, seeds);
  const source = new Float64Array(N);
  const sink = new Float64Array(N);
  binaryTerminals(problem.unary, fold, seeds, source, sink);
  return {
    width: W,
    height: H,
    connectivity: weights.length === 4 ? 8 : 4,
    source,
    sink,
    edges,
  };
}

/**
 * The edges of a two-label problem with its seeds' edges taken out (float64
 * copies), and `fold`: the weight each free pixel pays for taking the label
 * other than a seeded neighbour's, `[p*2 + k]` (what {@link binaryInstance}
 * adds to the unary). Depends on the weights and seeds only, so a Y-step
 * graph kept between unaries computes it once.
 */
export function foldSeedEdges(
  W: number,
  H: number,
  weights: readonly Float32Array[],
  seeds: Int32Array | undefined,
): { edges: Float64Array[]; fold: Float64Array } {
  const fold = new Float64Array(2 * W * H);
  const edges = weights.map((w) => Float64Array.from(w));
  if (!seeds) return { edges, fold };
  edges.forEach((w, d) => {
    const { dx, dy } = GRID_STEPS[d]!;
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
        if (sq < 0) fold[2 * q + 1 - sp]! += c;
        else if (sp < 0) fold[2 * p + 1 - sq]! += c;
        // two seeds: a constant, left out
      }
    }
  });
  return { edges, fold };
}

/**
 * The terminal capacities of a two-label problem's cut into `source` and
 * `sink` (label 1 on the source side): a free pixel's costs `c_k = unary + fold`
 * less their minimum (`source` is paid when p takes label 0); a seed keeps a
 * unit link to its own terminal (its edges are folded, it is isolated).
 */
export function binaryTerminals(
  unary: Float32Array,
  fold: Float64Array,
  seeds: Int32Array | undefined,
  source: Float64Array,
  sink: Float64Array,
): void {
  for (let p = 0; p < source.length; p++) {
    const s = seeds ? seeds[p]! : -1;
    if (s >= 0) {
      source[p] = s;
      sink[p] = 1 - s;
      continue;
    }
    const c0 = unary[2 * p]! + fold[2 * p]!;
    const c1 = unary[2 * p + 1]! + fold[2 * p + 1]!;
    const m = c0 < c1 ? c0 : c1;
    source[p] = c0 - m;
    sink[p] = c1 - m;
  }
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
 * Exact minimiser of a two-label {@link PottsProblem} (inputs checked) by
 * crf-solvers' `binaryGraphCut`, one min cut. Seeds are hard for every
 * weight: a seed pixel keeps its label.
 */
export function solveBinary(problem: PottsProblem): Int32Array {
  return binaryGraphCut(binaryGridProblem(problem), binaryCutOptions(problem)).labels;
}

/** {@link solveBinary} on a worker of a crf-solvers pool (the problem is copied to it). */
export async function solveBinaryOn(pool: SolverPool, problem: PottsProblem): Promise<Int32Array> {
  return (await pool.binaryGraphCut(binaryGridProblem(problem), binaryCutOptions(problem))).labels;
}

/** Energy of a labeling of a {@link PottsProblem} (float64; seeds not counted). */
export function pottsProblemEnergy(
  problem: PottsProblem | LegacyPottsProblem,
  labels: Int32Array,
): number {
  return problemEnergy(checkLabeling('pottsProblemEnergy', problem, labels), labels);
}

/**
 * Throws unless `problem` is a valid {@link PottsProblem} and `labels` one of
 * its labelings; returns the problem with its weights under `weights`.
 */
export function checkLabeling(
  fn: string,
  given: PottsProblem | LegacyPottsProblem,
  labels: Int32Array,
): PottsProblem {
  const problem = checkPottsProblem(fn, given);
  assertLength(fn, 'labels', labels, problem.width * problem.height, 'width*height');
  assertIntRange(fn, 'labels', labels, 0, problem.numLabels - 1);
  return problem;
}

/** {@link pottsProblemEnergy} without input checks. */
export function problemEnergy(problem: PottsProblem, labels: Int32Array): number {
  const { width: W, height: H, numLabels: K, unary, weights } = problem;
  let e = 0;
  for (let p = 0; p < W * H; p++) e += unary[p * K + labels[p]!]!;
  weights.forEach((w, d) => {
    const { dx, dy } = GRID_STEPS[d]!;
    for (let y = 0; y + dy < H; y++) {
      for (let x = Math.max(0, -dx); x < W - Math.max(0, dx); x++) {
        const p = y * W + x;
        if (labels[p] !== labels[p + dy * W + dx]) e += w[p]!;
      }
    }
  });
  return e;
}
