/**
 * Exact graph edit distance between small labelled graphs, with unit costs:
 * node insertion, deletion and relabelling 1; edge insertion, deletion and
 * relabelling (bond type) 1.
 *
 * With unit costs a relabelling never costs more than a deletion plus an
 * insertion, so an optimal edit path matches as many nodes as it can: pad
 * both graphs to `N = max(n1, n2)` nodes with an "absent" label and no
 * edges, and GED = min over bijections π of
 * `Σ_i [a_i ≠ b_π(i)] + Σ_{i<j} [A_ij ≠ B_π(i)π(j)]`.
 * The minimum is found by depth-first branch and bound with a label-count
 * lower bound (nodes left, edges from each matched node to the nodes left,
 * edges among the nodes left). Checked against a brute force over every
 * partial node map (the definition) in the tests.
 */
import type { MolGraph } from './mol-graph.js';

const ABSENT = 255;

interface Padded {
  n: number;
  labels: Uint8Array;
  edges: Uint8Array; // n*n
}

function pad(g: MolGraph, n: number): Padded {
  const labels = new Uint8Array(n).fill(ABSENT);
  labels.set(g.atoms);
  const edges = new Uint8Array(n * n);
  for (let i = 0; i < g.n; i++)
    for (let j = 0; j < g.n; j++) edges[i * n + j] = g.bonds[i * g.n + j]!;
  return { n, labels, edges };
}

/** Σ_l min(c1_l, c2_l) over small non-negative label codes (labels < 256). */
function common(c1: Int32Array, c2: Int32Array): number {
  let s = 0;
  for (let l = 0; l < c1.length; l++) s += Math.min(c1[l]!, c2[l]!);
  return s;
}

/**
 * The exact graph edit distance between two molecular graphs (unit costs;
 * atom relabelling 1, bond-type change 1).
 *
 * @example
 * graphEditDistance(benzene, pyridine); // 1 (one atom relabelled)
 */
export function graphEditDistance(g1: MolGraph, g2: MolGraph): number {
  const n = Math.max(g1.n, g2.n);
  if (n === 0) return 0;
  const a = pad(g1, n);
  const b = pad(g2, n);
  // Order the nodes of g1: most bonds to those already placed, then degree.
  const deg = (p: Padded, i: number) => {
    let d = 0;
    for (let j = 0; j < n; j++) if (p.edges[i * n + j]) d++;
    return d;
  };
  const order: number[] = [];
  const placed = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    let best = -1;
    let bestKey = -1;
    for (let i = 0; i < n; i++) {
      if (placed[i]) continue;
      let link = 0;
      for (const o of order) if (a.edges[i * n + o]) link++;
      const key = link * 100 + deg(a, i) * 2 + (a.labels[i] === ABSENT ? 0 : 1);
      if (key > bestKey) {
        bestKey = key;
        best = i;
      }
    }
    order.push(best);
    placed[best] = 1;
  }
  const map = new Int32Array(n).fill(-1); // g1 node (by order position) → g2 node
  const used = new Uint8Array(n);
  const c1 = new Int32Array(256);
  const c2 = new Int32Array(256);
  const e1 = new Int32Array(4);
  const e2 = new Int32Array(4);
  const label = (l: number) => (l === ABSENT ? 255 : l);

  /** Lower bound on the cost still to pay with the first k of `order` placed. */
  const bound = (k: number): number => {
    let lb = 0;
    // Node labels left.
    c1.fill(0);
    c2.fill(0);
    for (let t = k; t < n; t++) c1[label(a.labels[order[t]!]!)]!++;
    for (let j = 0; j < n; j++) if (!used[j]) c2[label(b.labels[j]!)]!++;
    lb += n - k - common(c1, c2);
    // Edges from each placed node to the nodes left.
    for (let t = 0; t < k; t++) {
      const i = order[t]!;
      const pi = map[t]!;
      e1.fill(0);
      e2.fill(0);
      for (let u = k; u < n; u++) e1[a.edges[i * n + order[u]!]!]!++;
      for (let j = 0; j < n; j++) if (!used[j]) e2[b.edges[pi * n + j]!]!++;
      lb += n - k - common(e1, e2);
    }
    // Edges among the nodes left.
    e1.fill(0);
    e2.fill(0);
    for (let u = k; u < n; u++)
      for (let v = u + 1; v < n; v++) e1[a.edges[order[u]! * n + order[v]!]!]!++;
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      for (let j = i + 1; j < n; j++) if (!used[j]) e2[b.edges[i * n + j]!]!++;
    }
    lb += ((n - k) * (n - k - 1)) / 2 - common(e1, e2);
    return lb;
  };

  let best = Infinity;
  const dfs = (k: number, cost: number): void => {
    if (k === n) {
      if (cost < best) best = cost;
      return;
    }
    const i = order[k]!;
    // Children sorted by cost of placing i at j plus the bound after it.
    const kids: { j: number; c: number; lb: number }[] = [];
    for (let j = 0; j < n; j++) {
      if (used[j]) continue;
      let c = a.labels[i] === b.labels[j] ? 0 : 1;
      for (let t = 0; t < k; t++) if (a.edges[i * n + order[t]!] !== b.edges[j * n + map[t]!]) c++;
      map[k] = j;
      used[j] = 1;
      const lb = bound(k + 1);
      used[j] = 0;
      map[k] = -1;
      if (cost + c + lb < best) kids.push({ j, c, lb });
    }
    kids.sort((p, q) => p.c + p.lb - (q.c + q.lb));
    for (const { j, c, lb } of kids) {
      if (cost + c + lb >= best) continue;
      map[k] = j;
      used[j] = 1;
      dfs(k + 1, cost + c);
      used[j] = 0;
      map[k] = -1;
      if (best === cost + c + lb) return; // cannot do better below this node
    }
  };
  dfs(0, 0);
  return best;
}
