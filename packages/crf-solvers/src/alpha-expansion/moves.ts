/**
 * Move-making minimisation of multi-label energies (Boykov, Veksler & Zabih,
 * "Fast approximate energy minimization via graph cuts", PAMI 2001): each
 * move is one exact min cut. The solver's memory (residual arcs, trees,
 * queues) is allocated once and reused by every move.
 */
import { assertObject, SegRangeError, SegValueError } from '@seg/tensor/errors';
import { maxBytesOption, withMemory } from '../bounds.js';
import { GridBK } from '../maxflow/grid-bk.js';
import { binaryGridCut } from './binary-grid.js';
import { gridExpansionMove, gridMoves, gridMovesBytes } from './grid-expansion.js';
import {
  type Budget,
  type Compiled,
  compile,
  cycleOptions,
  DEFAULT_MAX_CYCLES,
  energyOf,
  isGrid,
  type LabelingProblem,
  type LabelingResult,
  type MoveOptions,
  problemSize,
  startLabels,
} from './problem.js';

/**
 * The flows of each label's last expansion move, kept to warm-start that
 * label's move in the next cycle (dynamic graph cuts, Kohli & Torr, PAMI
 * 2007). Entry `alpha * M + e` is the flow on edge e (from → to) at the end
 * of α's last move. Any flow in `[0, capacity]` gives an exact
 * reparametrisation of the new move's graph (see {@link expansionMove}); it
 * is kept in float64 all the same, since flows rounded to float32 leave a tiny
 * residual at almost every node for the search to push. The grid moves keep
 * theirs in {@link gridMoves}.
 */
interface WarmStart {
  flows: Float64Array;
  /** 1 once label α's flows are stored. */
  has: Uint8Array;
}

/** Largest number of stored edge flows (K·M) for warm starts: 256 MB of float64. */
const MAX_WARM_FLOWS = 1 << 25;

/**
 * One expansion move on label `alpha`: the nodes that switch to it are the
 * sink side of a min cut. Changes `L` in place when the energy drops by more
 * than a relative 1e-9 and returns the change of energy (0 when the move is
 * not taken).
 *
 * Warm start: with `warm`, α's edge flows from its previous move (on an older
 * labeling) are clamped to the new capacities and applied as a
 * reparametrisation — edge p→q with capacity c and flow f gets residuals
 * `c − f` forward and `f` backward, and f moves from p's terminal residual to
 * q's. Every cut keeps its cost, so the min cut is the same problem; only the
 * flow left to push is smaller when few labels changed since.
 *
 * The energy change of the cut is read off the residual graph: with T the
 * sink side, `E(T) − E(∅) = Σ_{p∈T} tr[p] + Σ rc over arcs from the source
 * side into T` (the last sum is 0 for a min cut; it is added anyway).
 */
function expansionMove(
  c: Compiled,
  L: Int32Array,
  fixed: Uint8Array,
  alpha: number,
  energy: number,
  moved: Int32Array,
  warm: WarmStart | null,
): number {
  const { n, K, unary, from, to, w, V, solver, arcF, arcB } = c;
  const { tr, rc } = solver;
  let any = false;
  for (let p = 0; p < n; p++) {
    const l = L[p]!;
    if (l === alpha || fixed[p]) tr[p] = 0;
    else {
      tr[p] = unary[p * K + alpha]! - unary[p * K + l]!;
      any = true;
    }
  }
  if (!any) return 0;
  const m = from.length;
  const useWarm = warm !== null && warm.has[alpha] === 1;
  const flows = warm === null ? null : warm.flows;
  const off = alpha * m;
  if (V === null) {
    for (let e = 0; e < m; e++) {
      const p = from[e]!;
      const q = to[e]!;
      const a = L[p]!;
      const b = L[q]!;
      const we = w[e]!;
      const fp = a === alpha || fixed[p] !== 0;
      const fq = b === alpha || fixed[q] !== 0;
      if (fp || fq) {
        rc[arcF[e]!] = 0;
        rc[arcB[e]!] = 0;
        // a fixed end turns the pair term into a unary term of the other end
        if (!fq) tr[q]! += (a === alpha ? 0 : we) - (a === b ? 0 : we);
        else if (!fp) tr[p]! += (b === alpha ? 0 : we) - (a === b ? 0 : we);
        continue;
      }
      // A = E(keep, keep), B = E(keep, α) = w, C = E(α, keep) = w
      const A = a === b ? 0 : we;
      const cap = 2 * we - A;
      if (useWarm) {
        let f = flows![off + e]!;
        if (f > cap) f = cap;
        tr[p]! += we - A - f;
        tr[q]! += f - we;
        rc[arcF[e]!] = cap - f;
        rc[arcB[e]!] = f;
      } else {
        tr[p]! += we - A;
        tr[q]! -= we;
        rc[arcF[e]!] = cap;
        rc[arcB[e]!] = 0;
      }
    }
  } else {
    for (let e = 0; e < m; e++) {
      const p = from[e]!;
      const q = to[e]!;
      const a = L[p]!;
      const b = L[q]!;
      const we = w[e]!;
      const fp = a === alpha || fixed[p] !== 0;
      const fq = b === alpha || fixed[q] !== 0;
      if (fp || fq) {
        rc[arcF[e]!] = 0;
        rc[arcB[e]!] = 0;
        if (!fq) tr[q]! += we * (V[a * K + alpha]! - V[a * K + b]!);
        else if (!fp) tr[p]! += we * (V[alpha * K + b]! - V[a * K + b]!);
        continue;
      }
      const A = we * V[a * K + b]!;
      const B = we * V[a * K + alpha]!;
      const C = we * V[alpha * K + b]!;
      const cb = B + C - A;
      const cap = cb > 0 ? cb : 0;
      let f = useWarm ? flows![off + e]! : 0;
      if (f > cap) f = cap;
      tr[p]! += C - A - f;
      tr[q]! += f - C;
      rc[arcF[e]!] = cap - f;
      rc[arcB[e]!] = f;
    }
  }
  solver.solved = false;
  solver.solve();
  if (flows !== null) {
    // rc[arcB] is the flow on the edge (its backward capacity is 0)
    for (let e = 0; e < m; e++) flows[off + e] = rc[arcB[e]!]!;
    warm!.has[alpha] = 1;
  }
  let count = 0;
  let delta = 0;
  for (let p = 0; p < n; p++) {
    if (L[p] !== alpha && fixed[p] === 0 && solver.sourceSide(p) === 0) {
      moved[count++] = p;
      delta += tr[p]!;
    }
  }
  if (count === 0) return 0;
  for (let e = 0; e < m; e++) {
    const sp = solver.sourceSide(from[e]!);
    const sq = solver.sourceSide(to[e]!);
    if (sp > sq) delta += rc[arcF[e]!]!;
    else if (sp < sq) delta += rc[arcB[e]!]!;
  }
  if (!(delta < -1e-9 * (1 + Math.abs(energy)))) return 0;
  for (let i = 0; i < count; i++) L[moved[i]!] = alpha;
  return delta;
}

/**
 * One αβ-swap move: nodes labelled α or β (and not seeded) choose between
 * them by a min cut, sink side = α. With `force`, the cut's labeling is taken
 * even when it does not lower the energy (exact binary solve).
 */
function swapMove(
  c: Compiled,
  L: Int32Array,
  fixed: Uint8Array,
  alpha: number,
  beta: number,
  energy: number,
  force: boolean,
): boolean {
  const { n, K, unary, from, to, w, V, solver, arcF, arcB } = c;
  const { tr, rc } = solver;
  let any = false;
  for (let p = 0; p < n; p++) {
    const l = L[p]!;
    if ((l === alpha || l === beta) && fixed[p] === 0) {
      tr[p] = unary[p * K + alpha]! - unary[p * K + beta]!;
      any = true;
    } else tr[p] = 0;
  }
  if (!any) return false;
  const vab = V ? V[alpha * K + beta]! : 1;
  const m = from.length;
  let cutNow = 0;
  for (let e = 0; e < m; e++) {
    const p = from[e]!;
    const q = to[e]!;
    const a = L[p]!;
    const b = L[q]!;
    const fp = (a !== alpha && a !== beta) || fixed[p] !== 0;
    const fq = (b !== alpha && b !== beta) || fixed[q] !== 0;
    const we = w[e]!;
    if (!fp && !fq) {
      const cap = we * vab;
      rc[arcF[e]!] = cap;
      rc[arcB[e]!] = cap;
      if (a !== b) cutNow += cap;
      continue;
    }
    rc[arcF[e]!] = 0;
    rc[arcB[e]!] = 0;
    if (fp && fq) continue;
    if (V) {
      if (fp) tr[q]! += we * (V[a * K + alpha]! - V[a * K + beta]!);
      else tr[p]! += we * (V[alpha * K + b]! - V[beta * K + b]!);
    } else if (fp) tr[q]! += (a === alpha ? 0 : we) - (a === beta ? 0 : we);
    else tr[p]! += (b === alpha ? 0 : we) - (b === beta ? 0 : we);
  }
  for (let p = 0; p < n; p++) {
    const t = tr[p]!;
    if (t === 0) continue;
    // α nodes sit on the sink side and pay max(t, 0); β nodes pay max(-t, 0)
    if (L[p] === alpha) cutNow += t > 0 ? t : 0;
    else cutNow += t < 0 ? -t : 0;
  }
  solver.solved = false;
  const flow = solver.solve();
  if (!force && !(flow - cutNow < -1e-9 * (1 + Math.abs(energy)))) return false;
  let changed = false;
  for (let p = 0; p < n; p++) {
    const l = L[p]!;
    if ((l !== alpha && l !== beta) || fixed[p] !== 0) continue;
    const nl = solver.sourceSide(p) === 0 ? alpha : beta;
    if (nl !== l) {
      L[p] = nl;
      changed = true;
    }
  }
  return changed;
}

/** The budget's extra bytes of a solver that allocates nothing beyond the compiled problem and the labels. */
const noExtra: Budget['extra'] = () => 0;

/** A move solver's state once its problem and options are checked. */
interface MoveRun {
  c: Compiled;
  /** The labeling, changed in place by the moves. */
  L: Int32Array;
  /** 1 at seeded nodes. */
  fixed: Uint8Array;
  maxCycles: number;
  /** The labels in the order a cycle visits them. */
  order: Int32Array;
}

/** One cycle of moves from a labeling of energy `energy`: whether a move changed it, and its energy after. */
type Cycle = (energy: number) => { changed: boolean; energy: number };

/**
 * The frame of the cycling move solvers: checks the problem (a `metric`
 * pairwise term for α-expansion) and the options, starts from the unary
 * argmin with the seeds applied, then runs the cycle that `setup` returns
 * until one changes nothing or `maxCycles` is reached, recording the energy
 * after each. Before anything is allocated, the bytes of the compiled
 * problem, its labels and the solver's `extra` arrays are checked against
 * `options.maxBytes`; a failed allocation becomes a SegRangeError naming the
 * problem.
 */
function runMoves(
  fn: string,
  problem: LabelingProblem,
  options: MoveOptions,
  metric: boolean,
  extra: Budget['extra'],
  setup: (run: MoveRun) => Cycle,
): LabelingResult {
  const budget = { maxBytes: maxBytesOption(fn, options.maxBytes), extra };
  return withMemory(
    fn,
    () => problemSize(problem),
    () => {
      const c = compile(fn, problem, metric, true, budget);
      const { maxCycles, order } = cycleOptions(fn, c.K, options);
      const { L, fixed } = startLabels(fn, c, options);
      const cycle = setup({ c, L, fixed, maxCycles, order });
      let energy = energyOf(c, L);
      const energies: number[] = [];
      let cycles = 0;
      while (cycles < maxCycles) {
        const after = cycle(energy);
        energy = after.energy;
        cycles++;
        energies.push(energy);
        if (!after.changed) break;
      }
      return { labels: L, energy, energies, cycles };
    },
  );
}

/**
 * α-expansion: for each label α in turn, one exact min cut decides which
 * nodes switch to α; cycles over the labels until a cycle changes nothing or
 * `maxCycles` is reached. For a metric pairwise term the result is within a
 * factor `2·max V / min V` of the optimum (2 for Potts), and the energy never
 * increases. A move is kept only when it lowers the energy.
 *
 * Problems: {@link GridProblem} (4- or 8-connected grid, weights per
 * direction) or {@link GraphProblem} (edge list). Pairwise: Potts, or a K×K
 * metric matrix (refused otherwise: symmetric, zero diagonal, triangle
 * inequality). Seeds are hard constraints.
 *
 * @example
 * const r = alphaExpansion({ width, height, numLabels: 21, unary, weights: [right, down, downRight, downLeft] },
 *                          { maxCycles: 5 });
 * // r = { labels: Int32Array, energy, energies: [after cycle 1, ...], cycles }
 */
export function alphaExpansion(
  problem: LabelingProblem,
  options: MoveOptions = {},
): LabelingResult {
  // more than one cycle keeps each label's flows to warm-start its next move
  const warmStarts = (options.maxCycles ?? DEFAULT_MAX_CYCLES) > 1;
  const extra: Budget['extra'] = (n, m, K, D) =>
    D > 0
      ? gridMovesBytes(n, D >> 1, K, warmStarts)
      : 4 * n + (warmStarts && m * K <= MAX_WARM_FLOWS ? 8 * m * K + K : 0);
  return runMoves(
    'alphaExpansion',
    problem,
    options,
    true,
    extra,
    ({ c, L, fixed, maxCycles, order }) => {
      const grid = c.solver instanceof GridBK ? gridMoves(c, L, maxCycles > 1) : null;
      const moved = grid === null ? new Int32Array(c.n) : grid.moved;
      const m = c.from.length;
      const warm: WarmStart | null =
        grid === null && maxCycles > 1 && m * c.K <= MAX_WARM_FLOWS
          ? { flows: new Float64Array(m * c.K), has: new Uint8Array(c.K) }
          : null;
      return (energy) => {
        let changed = false;
        for (let i = 0; i < order.length; i++) {
          const alpha = order[i]!;
          const delta =
            grid === null
              ? expansionMove(c, L, fixed, alpha, energy, moved, warm)
              : gridExpansionMove(c, grid, L, fixed, alpha, energy);
          if (delta < 0) {
            changed = true;
            energy += delta;
          }
        }
        // the trace and the result use the energy summed afresh, not the running sum
        return { changed, energy: changed ? energyOf(c, L) : energy };
      };
    },
  );
}

/**
 * αβ-swap: for each pair of labels, one exact min cut lets the nodes labelled
 * α or β exchange them; cycles over all pairs until nothing changes or
 * `maxCycles`. Needs a semi-metric pairwise term (symmetric, zero diagonal,
 * ≥ 0); the energy never increases. Same problems and options as
 * {@link alphaExpansion}.
 *
 * @example
 * const r = alphaBetaSwap({ numNodes, numLabels: 3, unary, from, to, weights }, { maxCycles: 10 });
 */
export function alphaBetaSwap(problem: LabelingProblem, options: MoveOptions = {}): LabelingResult {
  return runMoves('alphaBetaSwap', problem, options, false, noExtra, ({ c, L, fixed, order }) => {
    return (energy) => {
      let changed = false;
      for (let i = 0; i < order.length; i++) {
        for (let j = i + 1; j < order.length; j++) {
          if (swapMove(c, L, fixed, order[i]!, order[j]!, energy, false)) {
            changed = true;
            energy = energyOf(c, L);
          }
        }
      }
      return { changed, energy };
    };
  });
}

/** Options of {@link binaryGraphCut}: those of {@link MoveOptions} that apply, and the tie-break. */
export interface BinaryCutOptions extends Pick<MoveOptions, 'seeds' | 'init' | 'maxBytes'> {
  /**
   * The label of the nodes that a tie between minimum cuts leaves free
   * (those on neither the least source side nor the least sink side: either
   * label gives the same minimum energy). @default 0
   */
  ties?: 0 | 1;
}

/**
 * The exact minimum of a two-label energy (K = 2) by one min cut: unary
 * `[p*2 + k]`, Potts or a 2×2 pairwise matrix `[[0, v], [v, 0]]` times the
 * edge weights, seeds as hard constraints. Same problems and result as
 * {@link alphaExpansion} (`cycles` = 1; the options other than `seeds`,
 * `init` and `maxBytes` do not apply); `ties` picks the label of nodes that
 * are free between minimum cuts.
 *
 * @example
 * const { labels, energy } = binaryGraphCut({ width, height, numLabels: 2, unary, weights }, { seeds });
 */
export function binaryGraphCut(
  problem: LabelingProblem,
  options: BinaryCutOptions = {},
): LabelingResult {
  const fn = 'binaryGraphCut';
  const ties = options.ties ?? 0;
  if (ties !== 0 && ties !== 1) {
    throw new SegValueError(`${fn}: options.ties is ${String(ties)}, expected 0 or 1`);
  }
  const budget = { maxBytes: maxBytesOption(fn, options.maxBytes), extra: noExtra };
  return withMemory(
    fn,
    () => problemSize(problem),
    () => {
      assertObject(fn, 'problem', problem);
      if (problem.numLabels !== 2) {
        throw new SegRangeError(`${fn}: numLabels is ${String(problem.numLabels)}, expected 2`);
      }
      // the sink side takes the move's first label, the source side and the
      // nodes free between minimum cuts its second
      const sink = ties === 1 ? 0 : 1;
      if (isGrid(problem)) return binaryGridCut(fn, problem, options, sink, budget);
      const c = compile(fn, problem, true, true, budget);
      const { L, fixed } = startLabels(fn, c, options);
      swapMove(c, L, fixed, sink, 1 - sink, energyOf(c, L), true);
      const energy = energyOf(c, L);
      return { labels: L, energy, energies: [energy], cycles: 1 };
    },
  );
}
