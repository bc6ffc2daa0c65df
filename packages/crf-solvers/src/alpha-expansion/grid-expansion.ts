/**
 * The expansion move specialised for grids: the move's graph is written
 * straight into {@link GridBK}'s node-major arrays (node p's arcs at
 * `p * D .. p * D + D − 1`), edge weights come from one node-major array
 * `weights[p * h + k]` (h = D / 2 forward directions), and each label keeps
 * the edge flows of its last move to warm-start the next one (dynamic graph
 * cuts, Kohli & Torr, PAMI 2007). No allocation per move.
 */
import { type GridBK, P_FREE } from '../maxflow/grid-bk.js';
import type { Compiled } from './problem.js';

/** Per-problem memory of the grid expansion moves. */
export interface GridMoves {
  bk: GridBK;
  /** Forward directions per node, D / 2. */
  h: number;
  /** `weights[p * h + k]`: weight of the edge from p in forward direction k (0: none). */
  weights: Float64Array;
  /**
   * `flows[alpha * n * h + p * h + k]`: flow on that edge at the end of α's
   * last move, or null when warm starts are off (too much memory, or one cycle).
   */
  flows: Float64Array | null;
  /** 1 once label α's flows are stored. */
  hasFlows: Uint8Array;
  /** The nodes that switch in the move just solved. */
  moved: Int32Array;
  /** Label-major copy of the unary costs, `[k * n + p]`: a move reads one row in order. */
  unaryT: Float64Array;
  /** `unaryCur[p]` = the unary cost of p's current label. */
  unaryCur: Float64Array;
}

/** Largest `K · W · H · D/2` for which the flows of every label are kept (256 MB of float64). */
export const MAX_WARM_FLOWS = 1 << 25;

/**
 * Bytes {@link gridMoves} allocates for n nodes, h forward directions and K
 * labels: the node-major weights, the label-major unary copy, the current
 * unary, the moved list, and with `warm` (more than one cycle) the flows of
 * every label when they fit {@link MAX_WARM_FLOWS}. Keep in step with it.
 */
export function gridMovesBytes(n: number, h: number, K: number, warm: boolean): number {
  const flows = warm && K * n * h <= MAX_WARM_FLOWS ? 8 * K * n * h : 0;
  return 8 * h * n + 8 * K * n + 8 * n + 4 * n + K + flows;
}

/**
 * Sets up the grid moves of a compiled grid problem (`c.solver` is a
 * {@link GridBK}) starting from labeling `L`.
 */
export function gridMoves(c: Compiled, L: Int32Array, warm: boolean): GridMoves {
  const bk = c.solver as GridBK;
  const D = bk.numDirs;
  const h = D >> 1;
  const { n, K, from, w, arcF } = c;
  const weights = new Float64Array(n * h);
  for (let e = 0; e < from.length; e++) {
    const p = from[e]!;
    weights[p * h + (arcF[e]! - p * D)] = w[e]!;
  }
  const useWarm = warm && K * n * h <= MAX_WARM_FLOWS;
  const unaryT = new Float64Array(K * n);
  const unaryCur = new Float64Array(n);
  const u = c.unary;
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < K; k++) unaryT[k * n + p] = u[p * K + k]!;
    unaryCur[p] = u[p * K + L[p]!]!;
  }
  return {
    bk,
    h,
    weights,
    flows: useWarm ? new Float64Array(K * n * h) : null,
    hasFlows: new Uint8Array(K),
    moved: new Int32Array(n),
    unaryT,
    unaryCur,
  };
}

/**
 * One expansion move on label `alpha` on a grid; same contract as the
 * general move: the nodes that switch are the sink side of a min cut (the
 * smallest one), `L` changes only when the energy drops by more than a
 * relative 1e-9, and the return value is the energy change (0 if not taken).
 *
 * Warm start: edge p→q with capacity c and stored flow f (clamped to c) gets
 * residuals `c − f` forward and `f` backward, and f moves from p's terminal
 * residual to q's: a reparametrisation, every cut keeps its cost. The energy
 * change of the cut is then read off the residual graph: with T the sink
 * side, `E(T) − E(∅) = Σ_{p∈T} tr[p] + Σ rc over arcs from outside T into T`.
 */
export function gridExpansionMove(
  c: Compiled,
  g: GridMoves,
  L: Int32Array,
  fixed: Uint8Array,
  alpha: number,
  energy: number,
): number {
  const { n, K, V } = c;
  const { bk, h, weights, flows, moved, unaryT, unaryCur } = g;
  const { tr, rc, offset, parent, isSink, mask } = bk;
  const D = bk.numDirs;
  let any = false;
  const uOff = alpha * n;
  for (let p = 0; p < n; p++) {
    if (L[p] === alpha || fixed[p] !== 0) tr[p] = 0;
    else {
      tr[p] = unaryT[uOff + p]! - unaryCur[p]!;
      any = true;
    }
  }
  if (!any) return 0;
  const warm = flows !== null && g.hasFlows[alpha] === 1;
  const fOff = alpha * n * h;
  for (let p = 0; p < n; p++) {
    const a = L[p]!;
    const fp = a === alpha || fixed[p] !== 0;
    const base = p * D;
    const wb = p * h;
    let tp = tr[p]!;
    for (let k = 0; k < h; k++) {
      const we = weights[wb + k]!;
      if (we === 0) continue; // no edge: its arcs stay 0
      const q = p + offset[k]!;
      const back = q * D + (k ^ h);
      const b = L[q]!;
      const fq = b === alpha || fixed[q] !== 0;
      if (fp || fq) {
        rc[base + k] = 0;
        rc[back] = 0;
        // a fixed end turns the pair term into a unary term of the other end
        if (V === null) {
          if (!fq) tr[q]! += (a === alpha ? 0 : we) - (a === b ? 0 : we);
          else if (!fp) tp += (b === alpha ? 0 : we) - (a === b ? 0 : we);
        } else if (!fq) tr[q]! += we * (V[a * K + alpha]! - V[a * K + b]!);
        else if (!fp) tp += we * (V[alpha * K + b]! - V[a * K + b]!);
        continue;
      }
      // A = E(keep, keep), B = E(keep, α), C = E(α, keep); sink side = α
      let A: number;
      let cap: number;
      let C: number;
      if (V === null) {
        A = a === b ? 0 : we;
        C = we;
        cap = 2 * we - A;
      } else {
        A = we * V[a * K + b]!;
        C = we * V[alpha * K + b]!;
        const cb = we * V[a * K + alpha]! + C - A;
        cap = cb > 0 ? cb : 0;
      }
      let f = 0;
      if (warm) {
        f = flows[fOff + wb + k]!;
        if (f > cap) f = cap;
      }
      tp += C - A - f;
      tr[q]! += f - C;
      rc[base + k] = cap - f;
      rc[back] = f;
    }
    tr[p] = tp;
  }
  bk.solved = false;
  bk.solve();
  if (flows !== null) {
    // the backward arc's residual is the edge's flow (its capacity is 0)
    for (let p = 0; p < n; p++) {
      const wb = p * h;
      for (let k = 0; k < h; k++) {
        flows[fOff + wb + k] = weights[wb + k]! === 0 ? 0 : rc[(p + offset[k]!) * D + (k ^ h)]!;
      }
    }
    g.hasFlows[alpha] = 1;
  }
  // T = the sink tree (free nodes stay on the source side)
  let count = 0;
  let delta = 0;
  for (let p = 0; p < n; p++) {
    if (isSink[p] !== 0 && parent[p] !== P_FREE && L[p] !== alpha && fixed[p] === 0) {
      moved[count++] = p;
      delta += tr[p]!;
    }
  }
  if (count === 0) return 0;
  for (let i = 0; i < count; i++) {
    const p = moved[i]!;
    const m = mask[p]!;
    for (let d = 0; d < D; d++) {
      if ((m & (1 << d)) === 0) continue;
      const q = p + offset[d]!;
      if (isSink[q] !== 0 && parent[q] !== P_FREE) continue;
      delta += rc[q * D + (d ^ h)]!;
    }
  }
  if (!(delta < -1e-9 * (1 + Math.abs(energy)))) return 0;
  for (let i = 0; i < count; i++) {
    const p = moved[i]!;
    L[p] = alpha;
    unaryCur[p] = unaryT[uOff + p]!;
  }
  return delta;
}
