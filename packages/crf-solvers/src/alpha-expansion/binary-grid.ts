/**
 * The exact binary cut of a grid problem, built straight into the grid
 * max-flow solver. {@link binaryGraphCut} takes this path for grid problems:
 * the same graph as its general path (an αβ-swap over every node), arc for
 * arc and in the same order, without the flat edge list the multi-label
 * moves share — so the same labels, bit for bit, in about half the time on
 * an ADM Y-step (see the package README).
 */
import { GRID_STEPS } from '../maxflow/directions.js';
import { GridBK } from '../maxflow/grid-bk.js';
import {
  type Budget,
  checkCosts,
  checkGrid,
  type GridProblem,
  type LabelingResult,
  type MoveOptions,
  startLabels,
} from './problem.js';

/**
 * Minimises the energy of a 2-label grid problem with one min cut. `sink`
 * is the label of the sink side (ties: nodes free between minimum cuts take
 * the other one, `1 − sink`). Checks the problem as `compile` does.
 */
export function binaryGridCut(
  fn: string,
  prob: GridProblem,
  options: MoveOptions,
  sink: 0 | 1,
  budget: Budget,
): LabelingResult {
  const { width: W, height: H, unary, weights } = prob;
  const { n, D, weightSum } = checkGrid(fn, prob, true, budget);
  const V = checkCosts(fn, prob, weightSum, true);
  const solver = new GridBK(W, H, D);
  const { L, fixed } = startLabels(fn, { n, K: 2, unary }, options);
  const alpha = sink;
  const beta = 1 - sink;
  const { tr, rc } = solver;
  for (let p = 0; p < n; p++) {
    tr[p] = fixed[p] === 0 ? unary[2 * p + alpha]! - unary[2 * p + beta]! : 0;
  }
  // V(α, β) = V(β, α) and V(a, a) = 0: checkCosts asked for a metric
  const vab = V ? V[alpha * 2 + beta]! : 1;
  const h = D >> 1;
  for (let k = 0; k < h; k++) {
    const wk = weights[k]!;
    const { dx, dy } = GRID_STEPS[k]!;
    const off = dx + dy * W;
    const back = k ^ h;
    for (let y = 0; y + dy < H; y++) {
      for (let x = dx < 0 ? 1 : 0; x < (dx > 0 ? W - 1 : W); x++) {
        const p = y * W + x;
        const we = wk[p]!;
        if (we <= 0) continue;
        const q = p + off;
        const fp = fixed[p] !== 0;
        const fq = fixed[q] !== 0;
        if (!fp && !fq) {
          rc[p * D + k] = we * vab;
          rc[q * D + back] = we * vab;
        } else if (!fq) {
          // a seed's edge is a unary term of its free neighbour
          const a = L[p]!;
          tr[q]! += V ? we * (V[a * 2 + alpha]! - V[a * 2 + beta]!) : a === alpha ? -we : we;
        } else if (!fp) {
          const b = L[q]!;
          tr[p]! += V ? we * (V[alpha * 2 + b]! - V[beta * 2 + b]!) : b === alpha ? -we : we;
        }
      }
    }
  }
  solver.solve();
  for (let p = 0; p < n; p++) if (fixed[p] === 0) L[p] = solver.sourceSide(p) === 0 ? alpha : beta;
  const energy = gridEnergy(prob, V, L);
  return { labels: L, energy, energies: [energy], cycles: 1 };
}

/** Energy of a 2-label grid labeling, summed in `energyOf`'s order (so the same float). */
function gridEnergy(prob: GridProblem, V: Float64Array | null, L: Int32Array): number {
  const { width: W, height: H, unary, weights } = prob;
  let e = 0;
  for (let p = 0; p < W * H; p++) e += unary[2 * p + L[p]!]!;
  let pair = 0;
  const h = weights.length;
  for (let k = 0; k < h; k++) {
    const wk = weights[k]!;
    const { dx, dy } = GRID_STEPS[k]!;
    const off = dx + dy * W;
    for (let y = 0; y + dy < H; y++) {
      for (let x = dx < 0 ? 1 : 0; x < (dx > 0 ? W - 1 : W); x++) {
        const p = y * W + x;
        const we = wk[p]!;
        if (!(we > 0)) continue;
        const a = L[p]!;
        const b = L[p + off]!;
        if (V) pair += we * V[a * 2 + b]!;
        else if (a !== b) pair += we;
      }
    }
  }
  return e + pair;
}
