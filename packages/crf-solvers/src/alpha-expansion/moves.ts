/**
 * Move-making minimisation of multi-label energies (Boykov, Veksler & Zabih,
 * "Fast approximate energy minimization via graph cuts", PAMI 2001): each
 * move is one exact min cut. The solver's memory (residual arcs, trees,
 * queues) is allocated once and reused by every move.
 */
import { SegRangeError } from '@seg/tensor/errors';
import {
  type Compiled,
  compile,
  cycleOptions,
  energyOf,
  type LabelingProblem,
  type LabelingResult,
  type MoveOptions,
  startLabels,
} from './problem.js';

/**
 * One expansion move on label `alpha`: the nodes that switch to it are the
 * sink side of a min cut. Changes `L` in place when the energy drops by more
 * than a relative 1e-9 and returns whether it did.
 */
function expansionMove(
  c: Compiled,
  L: Int32Array,
  fixed: Uint8Array,
  alpha: number,
  energy: number,
  moved: Int32Array,
): boolean {
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
  if (!any) return false;
  const m = from.length;
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
      tr[p]! += we - A;
      tr[q]! -= we;
      rc[arcF[e]!] = 2 * we - A;
      rc[arcB[e]!] = 0;
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
      tr[p]! += C - A;
      tr[q]! -= C;
      const cap = B + C - A;
      rc[arcF[e]!] = cap > 0 ? cap : 0;
      rc[arcB[e]!] = 0;
    }
  }
  // cost of the current labeling (everyone keeps: all on the source side)
  let keep = 0;
  for (let p = 0; p < n; p++) if (tr[p]! < 0) keep -= tr[p]!;
  solver.solved = false;
  const flow = solver.solve();
  const delta = flow - keep;
  if (!(delta < -1e-9 * (1 + Math.abs(energy)))) return false;
  let count = 0;
  for (let p = 0; p < n; p++) {
    if (L[p] !== alpha && fixed[p] === 0 && solver.sourceSide(p) === 0) moved[count++] = p;
  }
  for (let i = 0; i < count; i++) L[moved[i]!] = alpha;
  return count > 0;
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

/**
 * α-expansion: for each label α in turn, one exact min cut decides which
 * nodes switch to α; cycles over the labels until a cycle changes nothing or
 * `maxCycles` is reached. For a metric pairwise term the result is within a
 * factor `2·max V / min V` of the optimum (2 for Potts), and the energy never
 * increases. A move is kept only when it lowers the energy.
 *
 * Problems: {@link GridEnergy} (4- or 8-connected grid, weights per
 * direction) or {@link GraphEnergy} (edge list). Pairwise: Potts, or a K×K
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
  const fn = 'alphaExpansion';
  const c = compile(fn, problem, true);
  const { maxCycles, order } = cycleOptions(fn, c.K, options);
  const { L, fixed } = startLabels(fn, c, options);
  const moved = new Int32Array(c.n);
  let energy = energyOf(c, L);
  const energies: number[] = [];
  let cycles = 0;
  while (cycles < maxCycles) {
    let changed = false;
    for (let i = 0; i < order.length; i++) {
      if (expansionMove(c, L, fixed, order[i]!, energy, moved)) {
        changed = true;
        energy = energyOf(c, L);
      }
    }
    cycles++;
    energies.push(energy);
    if (!changed) break;
  }
  return { labels: L, energy, energies, cycles };
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
  const fn = 'alphaBetaSwap';
  const c = compile(fn, problem, false);
  const { maxCycles, order } = cycleOptions(fn, c.K, options);
  const { L, fixed } = startLabels(fn, c, options);
  let energy = energyOf(c, L);
  const energies: number[] = [];
  let cycles = 0;
  while (cycles < maxCycles) {
    let changed = false;
    for (let i = 0; i < order.length; i++) {
      for (let j = i + 1; j < order.length; j++) {
        if (swapMove(c, L, fixed, order[i]!, order[j]!, energy, false)) {
          changed = true;
          energy = energyOf(c, L);
        }
      }
    }
    cycles++;
    energies.push(energy);
    if (!changed) break;
  }
  return { labels: L, energy, energies, cycles };
}

/**
 * The exact minimum of a two-label energy (K = 2) by one min cut: unary
 * `[p*2 + k]`, Potts or a 2×2 pairwise matrix `[[0, v], [v, 0]]` times the
 * edge weights, seeds as hard constraints. Same problems and result as
 * {@link alphaExpansion} (`cycles` = 1; the options other than `seeds` and
 * `init` do not apply).
 *
 * @example
 * const { labels, energy } = binaryGraphCut({ width, height, numLabels: 2, unary, weights }, { seeds });
 */
export function binaryGraphCut(
  problem: LabelingProblem,
  options: Pick<MoveOptions, 'seeds' | 'init'> = {},
): LabelingResult {
  const fn = 'binaryGraphCut';
  if (problem.numLabels !== 2) {
    throw new SegRangeError(`${fn}: numLabels is ${String(problem.numLabels)}, expected 2`);
  }
  const c = compile(fn, problem, true);
  const { L, fixed } = startLabels(fn, c, options);
  swapMove(c, L, fixed, 1, 0, energyOf(c, L), true);
  const energy = energyOf(c, L);
  return { labels: L, energy, energies: [energy], cycles: 1 };
}
