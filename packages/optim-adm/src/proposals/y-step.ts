/**
 * The Y-step of ADM (Marin et al., CVPR 2019): with the network fixed, the
 * latent segmentation minimising `Σ_p −log S_p[Y_p] + (λ/μ)·Σ_pq w_pq [Y_p ≠ Y_q]`,
 * seeds hard or soft; exact by one min cut for K = 2, α-expansion otherwise.
 */
import {
  assertInt,
  assertIntRange,
  assertLength,
  assertNonNegative,
  assertNumber,
  SegShapeError,
  SegValueError,
} from '@seg/tensor';
import { DEFAULT_KEEP_BYTES, KeptCuts } from './kept-cuts.js';
import {
  checkLabeling,
  checkPottsProblem,
  checkUnary,
  edgeCountOk,
  HARD,
  type LegacyPottsProblem,
  MAX_POTTS_WEIGHT,
  type PottsProblem,
  problemEnergy,
  solveBinary,
  solveBinaryOn,
  withWeights,
} from './potts-problem.js';
import { alphaExpansion, type SolverPool } from './solvers.js';

/** Something that solves a batch of Potts problems: in this thread, or on a worker pool. */
export interface ProposalSolver {
  /** Solves each problem (its seeds held); one labeling (Int32Array, site-major) per problem, in order. */
  solve(problems: PottsProblem[]): Promise<Int32Array[]>;
  /** Number of threads it uses. */
  readonly size: number;
  /** Releases its threads (a worker pool's), when it has any. */
  close?(): Promise<void>;
}

/** The smallest probability −log S is taken of. */
export const MIN_PROB = 1e-6;

/** Cycles of α-expansion in the Y-step (the reference adm-seg uses 5). */
export const EXPANSION_CYCLES = 5;

/**
 * Solves one {@link PottsProblem} in this thread: K = 2 by one exact min cut
 * (crf-solvers' `binaryGraphCut`), K > 2 by α-expansion (≤
 * `EXPANSION_CYCLES` (5) cycles, started at the unary argmin; never above
 * that labeling's energy). Seeds are hard.
 */
export function solvePotts(problem: PottsProblem | LegacyPottsProblem): Int32Array {
  return solveChecked(checkPottsProblem('solvePotts', problem));
}

/** {@link solvePotts} of a problem already checked. */
function solveChecked(pr: PottsProblem): Int32Array {
  if (pr.numLabels === 2) return solveBinary(pr);
  const { width, height, numLabels, unary, weights, seeds } = pr;
  return alphaExpansion(
    { width, height, numLabels, unary, weights },
    { maxCycles: EXPANSION_CYCLES, ...(seeds ? { seeds } : {}) },
  ).labels;
}

/** Options of {@link inlineSolver}. */
export interface InlineSolverOptions {
  /**
   * Bytes of two-label graphs kept between calls (0: none): a problem with
   * the size, weights and seeds of one solved before (an ADM Y-step of the
   * same image) is re-solved on its graph from the last flow, the same
   * labels in a fraction of the time. 193 bytes a pixel 8-connected
   * ({@link keptCutBytes}); a larger problem is solved fresh.
   * @default DEFAULT_KEEP_BYTES (64 MiB)
   */
  keepBytes?: number;
}

/**
 * A {@link ProposalSolver} that solves in the calling thread, one problem
 * after the other, as {@link solvePotts}; two-label problems on graphs it
 * keeps (`options.keepBytes`) until `close()`, which drops them (the solver
 * stays usable).
 */
export function inlineSolver(options: InlineSolverOptions = {}): ProposalSolver {
  const fn = 'inlineSolver';
  if (options === null || typeof options !== 'object') {
    throw new SegValueError(`${fn}: options is ${String(options)}, expected an object`);
  }
  const keepBytes = options.keepBytes ?? DEFAULT_KEEP_BYTES;
  assertNumber(fn, 'options.keepBytes', keepBytes, 0);
  const kept = new KeptCuts(keepBytes);
  const solveOne = (given: PottsProblem | LegacyPottsProblem): Int32Array => {
    const { problem } = withWeights(given);
    // weights and seeds equal to a kept graph's were checked when it was made
    const cut = kept.find(problem);
    if (cut) return cut.solve(checkUnary('solvePotts', problem));
    const pr = checkPottsProblem('solvePotts', given);
    return kept.add(pr)?.solve(pr) ?? solveChecked(pr);
  };
  return {
    size: 1,
    solve: async (problems) => problems.map(solveOne),
    close: async () => kept.clear(),
  };
}

/**
 * A {@link ProposalSolver} on a @seg/crf-solvers worker pool
 * (`createSolverPool({ size })`): one image per task, K = 2 by one
 * `binaryGraphCut`, K > 2 by α-expansion (the same labelings as
 * {@link inlineSolver}). The pool stays the caller's to close.
 *
 * @example
 * const pool = await createSolverPool({ size: 2 });
 * await trainAdm(net, examples, { solver: poolSolver(pool) });
 * await pool.close();
 */
export function poolSolver(pool: SolverPool): ProposalSolver {
  if (
    !pool ||
    typeof pool.gridMaxflow !== 'function' ||
    typeof pool.alphaExpansion !== 'function'
  ) {
    throw new SegValueError(
      `poolSolver: pool is ${pool === null ? 'null' : typeof pool}, expected a SolverPool (createSolverPool)`,
    );
  }
  return {
    size: pool.size,
    solve: (problems) =>
      Promise.all(
        problems.map(async (pr) => {
          if (pr.numLabels === 2) return solveBinaryOn(pool, pr);
          const { width, height, numLabels, unary, weights, seeds } = pr;
          const r = await pool.alphaExpansion(
            { width, height, numLabels, unary, weights },
            { maxCycles: EXPANSION_CYCLES, ...(seeds ? { seeds } : {}) },
          );
          return r.labels;
        }),
      ),
  };
}

/**
 * The per-pixel Potts weight at a finer resolution that keeps the balance λ
 * has on the training grid: a boundary is s = fullWidth / trainWidth times
 * longer in pixels while the unary sum grows by s², so the weight scales by s.
 */
export function fullSizeWeight(lambda: number, fullWidth: number, trainWidth: number): number {
  const fn = 'fullSizeWeight';
  assertNumber(fn, 'lambda', lambda, 0);
  assertInt(fn, 'fullWidth', fullWidth, 1);
  assertInt(fn, 'trainWidth', trainWidth, 1);
  return (lambda * fullWidth) / trainWidth;
}

/** Options of {@link proposalProblem}. */
export interface ProposalProblemOptions {
  /** Potts weight `λ/μ` applied to the contrast weights, at most {@link MAX_POTTS_WEIGHT}. */
  pottsWeight: number;
  /** Seeds: hard constraints, or a penalty `seedPenalty` on other labels. @default 'hard' */
  seeds?: 'hard' | 'soft';
  /** @default 100 */
  seedPenalty?: number;
}

/** The data of one image's Y-step problem ({@link proposalProblem}'s arguments, in one object). */
export interface ProposalInputs {
  /** The network's probabilities, N·K site-major. */
  probs: Float32Array;
  width: number;
  height: number;
  numLabels: number;
  /** Contrast weights `w_pq`, one array of N per forward direction (`[right, down(, downRight, downLeft)]`). */
  weights: readonly Float32Array[];
  /** N labels in [-1, K-1] (-1: no seed). */
  seeds: Int32Array;
}

/**
 * The Y-step problem of one image: unary `−log max(S, MIN_PROB)` (N·K site
 * major), Potts `pottsWeight · w_pq` per direction, seeds hard (as
 * constraints) or soft (`seedPenalty` added to every other label).
 */
export function proposalProblem(
  probs: Float32Array,
  width: number,
  height: number,
  numLabels: number,
  weights: readonly Float32Array[],
  seeds: Int32Array,
  options: ProposalProblemOptions,
): PottsProblem {
  const inputs = { probs, width, height, numLabels, weights, seeds };
  checkProposalInputs(inputs, options);
  return buildProposalProblem(inputs, options);
}

/** The arguments of {@link proposalProblem}, checked. */
function checkProposalInputs(inputs: ProposalInputs, options: ProposalProblemOptions): void {
  const fn = 'proposalProblem';
  const { probs, width, height, numLabels, weights, seeds } = inputs;
  assertInt(fn, 'width', width, 1);
  assertInt(fn, 'height', height, 1);
  assertInt(fn, 'numLabels', numLabels, 2);
  const size = width * height;
  if (!(probs instanceof Float32Array)) {
    throw new SegValueError(`${fn}: probs is not a Float32Array`);
  }
  assertLength(fn, 'probs', probs, size * numLabels, 'width*height*numLabels');
  assertNonNegative(fn, 'probs', probs);
  if (!Array.isArray(weights) || !edgeCountOk(weights.length, numLabels)) {
    throw new SegShapeError(
      `${fn}: weights has ${Array.isArray(weights) ? weights.length : 'no'} arrays, expected 2 (4-connected) or 4 (8-connected)`,
    );
  }
  weights.forEach((e, d) => {
    assertLength(fn, `weights[${d}]`, e, size, 'width*height');
    assertNonNegative(fn, `weights[${d}]`, e);
  });
  if (!(seeds instanceof Int32Array)) {
    throw new SegValueError(`${fn}: seeds is not an Int32Array`);
  }
  assertLength(fn, 'seeds', seeds, size, 'width*height');
  assertIntRange(fn, 'seeds', seeds, -1, numLabels - 1);
  if (!options || typeof options !== 'object') {
    throw new SegValueError(`${fn}: options is ${String(options)}, expected { pottsWeight }`);
  }
  assertNumber(fn, 'options.pottsWeight', options.pottsWeight, 0, MAX_POTTS_WEIGHT);
  const mode = options.seeds ?? 'hard';
  if (mode !== 'hard' && mode !== 'soft') {
    throw new SegValueError(
      `${fn}: options.seeds is ${JSON.stringify(mode)}, expected 'hard' or 'soft'`,
    );
  }
  if (options.seedPenalty !== undefined)
    assertNumber(fn, 'options.seedPenalty', options.seedPenalty, 0);
}

/**
 * {@link proposalProblem} without the checks: for callers whose inputs are
 * valid by construction (the trainers, every Y-step).
 */
export function buildProposalProblem(
  inputs: ProposalInputs,
  options: ProposalProblemOptions,
): PottsProblem {
  const { probs, width, height, numLabels: K, seeds } = inputs;
  const N = width * height;
  const unary = new Float32Array(N * K);
  for (let i = 0; i < N * K; i++) unary[i] = -Math.log(Math.max(probs[i]!, MIN_PROB));
  const soft = options.seeds === 'soft';
  if (soft) {
    const pen = options.seedPenalty ?? 100;
    for (let p = 0; p < N; p++) {
      const s = seeds[p]!;
      if (s < 0) continue;
      for (let k = 0; k < K; k++) if (k !== s) unary[p * K + k]! += pen;
    }
  }
  const w = options.pottsWeight;
  const weights = inputs.weights.map((e) => {
    const out = new Float32Array(N);
    for (let i = 0; i < N; i++) out[i] = w * e[i]!;
    return out;
  });
  return { width, height, numLabels: K, unary, weights, ...(soft ? {} : { seeds }) };
}

/** Energy of proposals under their problem, hard seeds counted as constraints ({@link HARD} per violation). */
export function proposalEnergy(
  problem: PottsProblem | LegacyPottsProblem,
  labels: Int32Array,
): number {
  return energyWithSeeds(checkLabeling('proposalEnergy', problem, labels), labels);
}

/** {@link proposalEnergy} without the checks (a trainer's own problems and solutions). */
export function energyWithSeeds(problem: PottsProblem, labels: Int32Array): number {
  let e = problemEnergy(problem, labels);
  const s = problem.seeds;
  if (s) for (let p = 0; p < labels.length; p++) if (s[p]! >= 0 && s[p] !== labels[p]) e += HARD;
  return e;
}
