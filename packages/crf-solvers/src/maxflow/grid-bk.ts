/**
 * The Boykov–Kolmogorov max-flow algorithm specialised for grids: nodes are
 * pixels, neighbours are implicit (a fixed offset per direction), and every
 * per-node or per-arc quantity lives in one flat typed array. Internal: the
 * public faces are {@link GridGraph} and the α-expansion solvers, which write
 * `tr` and `rc` directly.
 *
 * Directions (`d`): 4-connected 0 right, 1 down, 2 left, 3 up; 8-connected
 * 0 right, 1 down, 2 down-right, 3 down-left, 4 left, 5 up, 6 up-left,
 * 7 up-right. The reverse of `d` is `d ^ (D / 2)`; the first `D / 2`
 * directions are the "forward" ones of the SEGGRID1 format (see
 * directions.ts, the one table of them).
 *
 * Method: Boykov & Kolmogorov, "An experimental comparison of min-cut/max-flow
 * algorithms for energy minimization in vision", PAMI 2004 (grow / augment /
 * adopt with the timestamp-and-distance heuristic of their maxflow v3).
 *
 * A twin of graph-bk.ts, on purpose: the two share ~200 lines of the
 * algorithm line for line (grow, augment, adopt, the active queue, the orphan
 * list, the timestamps and distances) and differ only in how a node's arcs
 * are found: here a fixed offset per direction (neighbours implicit, no arc
 * arrays), there an arc list. One generic version would pay an indirection
 * per arc in the inner loops. This file also has what only the grid uses:
 * `pushShortPaths` and `markChanged` (re-solving after terminal changes).
 * Keep the two in step: a fix to one is a fix to the other.
 */

import { allDx, allDy } from './directions.js';

/** Parent codes beyond a direction (0..7). */
export const P_FREE = 255;
export const P_TERMINAL = 254;
export const P_ORPHAN = 253;
const INF_D = 0x3fffffff;

/**
 * Bytes a {@link GridBK} of `n` nodes and `D` directions allocates:
 * `tr`, `rc` (D arcs a node), `parent`, `isSink`, `mask`, `ts`, `dist`,
 * `next` and the orphan queue. Keep in step with the constructor.
 */
export function gridBkBytes(n: number, D: number): number {
  return (8 + 8 * D + 1 + 1 + 1 + 4 * 4) * n;
}

/** Residual graph and search state of a W×H grid. */
export class GridBK {
  readonly width: number;
  readonly height: number;
  readonly numNodes: number;
  /** Directions per node: 4 or 8. */
  readonly numDirs: number;
  /** Node offset of each direction. */
  readonly offset: Int32Array;
  /** Bit d set when the neighbour in direction d is inside the grid. */
  readonly mask: Uint8Array;
  /** Terminal residual: > 0 residual from the source, < 0 residual to the sink (magnitude). */
  readonly tr: Float64Array;
  /** Residual capacity of the arc from p in direction d, at `p * numDirs + d`. */
  readonly rc: Float64Array;
  readonly parent: Uint8Array;
  readonly isSink: Uint8Array;
  readonly ts: Int32Array;
  readonly dist: Int32Array;
  /** Active list: next node, -1 when not active, the node itself at the end. */
  readonly next: Int32Array;
  /** Orphans: a ring buffer (deque) of node ids. */
  private readonly orphans: Int32Array;
  private orphanHead = 0;
  private orphanCount = 0;
  private activeFirst = -1;
  private activeLast = -1;
  private time = 0;
  /** Flow pushed by augmentations so far (terminal constants are the caller's). */
  flow = 0;
  /** True once a search has run: the trees describe a maximum flow. */
  solved = false;
  /** Wall time of the last {@link solve} call, in ms (for the benchmark). */
  static lastSolveMs = 0;

  constructor(width: number, height: number, connectivity: 4 | 8) {
    this.width = width;
    this.height = height;
    const n = width * height;
    this.numNodes = n;
    const D = connectivity;
    this.numDirs = D;
    const dx = allDx(connectivity);
    const dy = allDy(connectivity);
    this.offset = new Int32Array(D);
    for (let d = 0; d < D; d++) this.offset[d] = dx[d]! + dy[d]! * width;
    // every neighbour is inside except on the border (steps are at most 1)
    this.mask = new Uint8Array(n).fill((1 << D) - 1);
    const border = (x: number, y: number) => {
      let m = 0;
      for (let d = 0; d < D; d++) {
        const u = x + dx[d]!;
        const v = y + dy[d]!;
        if (u >= 0 && u < width && v >= 0 && v < height) m |= 1 << d;
      }
      this.mask[y * width + x] = m;
    };
    for (let x = 0; x < width; x++) {
      border(x, 0);
      border(x, height - 1);
    }
    for (let y = 1; y < height - 1; y++) {
      border(0, y);
      border(width - 1, y);
    }
    this.tr = new Float64Array(n);
    this.rc = new Float64Array(n * D);
    this.parent = new Uint8Array(n);
    this.isSink = new Uint8Array(n);
    this.ts = new Int32Array(n);
    this.dist = new Int32Array(n);
    this.next = new Int32Array(n);
    this.orphans = new Int32Array(Math.max(1, n));
  }

  /** Forgets trees and flow bookkeeping (not the capacities): the next solve starts afresh. */
  resetSearch(): void {
    this.parent.fill(P_FREE);
    this.next.fill(-1);
    this.activeFirst = this.activeLast = -1;
    this.orphanHead = this.orphanCount = 0;
    this.flow = 0;
    this.time = 0;
    this.solved = false;
  }

  private activate(i: number): void {
    const next = this.next;
    if (next[i]! < 0) {
      if (this.activeLast >= 0) next[this.activeLast] = i;
      else this.activeFirst = i;
      this.activeLast = i;
      next[i] = i;
    }
  }

  private orphanFront(i: number): void {
    const cap = this.orphans.length;
    this.orphanHead = this.orphanHead === 0 ? cap - 1 : this.orphanHead - 1;
    this.orphans[this.orphanHead] = i;
    this.orphanCount++;
  }

  private orphanRear(i: number): void {
    const cap = this.orphans.length;
    let k = this.orphanHead + this.orphanCount;
    if (k >= cap) k -= cap;
    this.orphans[k] = i;
    this.orphanCount++;
  }

  /**
   * Runs the search to a maximum flow and returns the flow pushed by this
   * call. From a fresh state (after {@link resetSearch}) every node with a
   * terminal residual starts a tree; after {@link markChanged} calls on a
   * solved state, the trees are kept and repaired.
   */
  solve(): number {
    const { tr, rc, parent, isSink, ts, dist, next, mask, offset } = this;
    const D = this.numDirs;
    const h = D >> 1;
    const n = this.numNodes;
    const t0 = performance.now();
    const before = this.solved ? this.flow : 0;
    if (!this.solved) {
      this.resetSearch();
      this.pushShortPaths();
      for (let i = 0; i < n; i++) {
        const t = tr[i]!;
        if (t > 0) {
          isSink[i] = 0;
          parent[i] = P_TERMINAL;
          ts[i] = 0;
          dist[i] = 1;
          this.activate(i);
        } else if (t < 0) {
          isSink[i] = 1;
          parent[i] = P_TERMINAL;
          ts[i] = 0;
          dist[i] = 1;
          this.activate(i);
        }
      }
    } else {
      // A new time for the orphans markChanged left: adopt trusts a node
      // stamped with the current time to have a checked distance to its
      // root, and the last solve may have stamped nodes with this very time
      // before markChanged orphaned part of their path. Reusing it let an
      // orphan take one of its own descendants as its parent: a cycle, and
      // augment walking it forever (a fast-check seed of the re-solve test).
      this.time++;
      this.adopt();
    }
    let current = -1;
    for (;;) {
      let i = current;
      if (i >= 0) {
        next[i] = -1;
        if (parent[i] === P_FREE) i = -1;
      }
      if (i < 0) {
        // next active node still in a tree
        for (;;) {
          i = this.activeFirst;
          if (i < 0) break;
          const nx = next[i]!;
          if (nx === i) this.activeFirst = this.activeLast = -1;
          else this.activeFirst = nx;
          next[i] = -1;
          if (parent[i] !== P_FREE) break;
        }
        if (i < 0) break;
      }
      // grow
      let fromNode = -1;
      let fromDir = -1;
      const m = mask[i]!;
      const base = i * D;
      if (isSink[i] === 0) {
        const tsi = ts[i]!;
        const di = dist[i]!;
        for (let d = 0; d < D; d++) {
          if ((m & (1 << d)) === 0 || rc[base + d]! <= 0) continue;
          const j = i + offset[d]!;
          const pj = parent[j]!;
          if (pj === P_FREE) {
            isSink[j] = 0;
            parent[j] = d ^ h;
            ts[j] = tsi;
            dist[j] = di + 1;
            this.activate(j);
          } else if (isSink[j] !== 0) {
            fromNode = i;
            fromDir = d;
            break;
          } else if (ts[j]! <= tsi && dist[j]! > di) {
            parent[j] = d ^ h;
            ts[j] = tsi;
            dist[j] = di + 1;
          }
        }
      } else {
        const tsi = ts[i]!;
        const di = dist[i]!;
        for (let d = 0; d < D; d++) {
          if ((m & (1 << d)) === 0) continue;
          const j = i + offset[d]!;
          if (rc[j * D + (d ^ h)]! <= 0) continue;
          const pj = parent[j]!;
          if (pj === P_FREE) {
            isSink[j] = 1;
            parent[j] = d ^ h;
            ts[j] = tsi;
            dist[j] = di + 1;
            this.activate(j);
          } else if (isSink[j] === 0) {
            fromNode = j;
            fromDir = d ^ h;
            break;
          } else if (ts[j]! <= tsi && dist[j]! > di) {
            parent[j] = d ^ h;
            ts[j] = tsi;
            dist[j] = di + 1;
          }
        }
      }
      this.time++;
      if (fromNode >= 0) {
        next[i] = i; // keep i active: it may find more paths
        current = i;
        this.augment(fromNode, fromDir);
        this.adopt();
      } else {
        current = -1;
      }
    }
    this.solved = true;
    GridBK.lastSolveMs = performance.now() - t0;
    return this.flow - before;
  }

  /**
   * Saturates the paths source → p → q → sink of length one edge in one pass
   * before the search: cheap, and it leaves the trees less to do.
   */
  private pushShortPaths(): void {
    const { tr, rc, mask, offset } = this;
    const D = this.numDirs;
    const h = D >> 1;
    const n = this.numNodes;
    let flow = 0;
    for (let p = 0; p < n; p++) {
      let tp = tr[p]!;
      if (tp <= 0) continue;
      const m = mask[p]!;
      const base = p * D;
      for (let d = 0; d < D; d++) {
        if ((m & (1 << d)) === 0) continue;
        const c = rc[base + d]!;
        if (c <= 0) continue;
        const q = p + offset[d]!;
        const tq = tr[q]!;
        if (tq >= 0) continue;
        let b = c < tp ? c : tp;
        if (-tq < b) b = -tq;
        tp -= b;
        tr[q] = tq + b;
        rc[base + d] = c - b;
        rc[q * D + (d ^ h)]! += b;
        flow += b;
        if (tp <= 0) break;
      }
      tr[p] = tp;
    }
    this.flow += flow;
  }

  private augment(p: number, dirPQ: number): void {
    const { tr, rc, parent, offset } = this;
    const D = this.numDirs;
    const h = D >> 1;
    const q = p + offset[dirPQ]!;
    let b = rc[p * D + dirPQ]!;
    // a path longer than the grid has nodes means a cycle in the trees: an
    // error, not a walk that never ends
    let steps = this.numNodes;
    // bottleneck on the source side
    let i = p;
    for (;;) {
      const a = parent[i]!;
      if (a === P_TERMINAL) break;
      if (--steps < 0) throw new Error('GridBK: a search tree has a cycle (an internal error)');
      const j = i + offset[a]!;
      const c = rc[j * D + (a ^ h)]!;
      if (c < b) b = c;
      i = j;
    }
    if (tr[i]! < b) b = tr[i]!;
    // on the sink side
    i = q;
    for (;;) {
      const a = parent[i]!;
      if (a === P_TERMINAL) break;
      if (--steps < 0) throw new Error('GridBK: a search tree has a cycle (an internal error)');
      const c = rc[i * D + a]!;
      if (c < b) b = c;
      i += offset[a]!;
    }
    if (-tr[i]! < b) b = -tr[i]!;
    // push
    rc[p * D + dirPQ]! -= b;
    rc[q * D + (dirPQ ^ h)]! += b;
    i = p;
    for (;;) {
      const a = parent[i]!;
      if (a === P_TERMINAL) {
        tr[i]! -= b;
        if (tr[i] === 0) {
          parent[i] = P_ORPHAN;
          this.orphanFront(i);
        }
        break;
      }
      const j = i + offset[a]!;
      rc[i * D + a]! += b;
      const k = j * D + (a ^ h);
      rc[k]! -= b;
      if (rc[k] === 0) {
        parent[i] = P_ORPHAN;
        this.orphanFront(i);
      }
      i = j;
    }
    i = q;
    for (;;) {
      const a = parent[i]!;
      if (a === P_TERMINAL) {
        tr[i]! += b;
        if (tr[i] === 0) {
          parent[i] = P_ORPHAN;
          this.orphanFront(i);
        }
        break;
      }
      const j = i + offset[a]!;
      rc[j * D + (a ^ h)]! += b;
      const k = i * D + a;
      rc[k]! -= b;
      if (rc[k] === 0) {
        parent[i] = P_ORPHAN;
        this.orphanFront(i);
      }
      i = j;
    }
    this.flow += b;
  }

  /** Finds a new parent for every orphan, or frees it. */
  private adopt(): void {
    const { rc, parent, isSink, ts, dist, mask, offset, orphans } = this;
    const D = this.numDirs;
    const h = D >> 1;
    const cap = orphans.length;
    const time = this.time;
    while (this.orphanCount > 0) {
      const i = orphans[this.orphanHead]!;
      this.orphanHead = this.orphanHead + 1 === cap ? 0 : this.orphanHead + 1;
      this.orphanCount--;
      if (parent[i] !== P_ORPHAN) continue; // re-rooted since it was queued
      const sink = isSink[i]!;
      const m = mask[i]!;
      let dMin = INF_D;
      let aMin = -1;
      for (let d = 0; d < D; d++) {
        if ((m & (1 << d)) === 0) continue;
        const j = i + offset[d]!;
        if (isSink[j] !== sink || parent[j] === P_FREE) continue;
        // residual into i (source tree) or out of i (sink tree)
        if ((sink === 0 ? rc[j * D + (d ^ h)]! : rc[i * D + d]!) <= 0) continue;
        // trace j to its root
        let k = j;
        let dd = 0;
        for (;;) {
          if (ts[k] === time) {
            dd += dist[k]!;
            break;
          }
          const a = parent[k]!;
          dd++;
          if (a === P_TERMINAL) {
            ts[k] = time;
            dist[k] = 1;
            break;
          }
          if (a === P_ORPHAN) {
            dd = INF_D;
            break;
          }
          k += offset[a]!;
        }
        if (dd < INF_D) {
          if (dd < dMin) {
            aMin = d;
            dMin = dd;
          }
          for (k = j; ts[k] !== time; k += offset[parent[k]!]!) {
            ts[k] = time;
            dist[k] = dd--;
          }
        }
      }
      if (aMin >= 0) {
        parent[i] = aMin;
        ts[i] = time;
        dist[i] = dMin + 1;
        continue;
      }
      // no parent: i becomes free; its children become orphans, neighbours with residual towards it active
      parent[i] = P_FREE;
      for (let d = 0; d < D; d++) {
        if ((m & (1 << d)) === 0) continue;
        const j = i + offset[d]!;
        const pj = parent[j]!;
        if (isSink[j] !== sink || pj === P_FREE) continue;
        if ((sink === 0 ? rc[j * D + (d ^ h)]! : rc[i * D + d]!) > 0) this.activate(j);
        if (pj === (d ^ h)) {
          parent[j] = P_ORPHAN;
          this.orphanRear(j);
        }
      }
    }
  }

  /**
   * Tells a solved state that node `i`'s terminal residual `tr[i]` was changed
   * by the caller: the node is re-rooted or orphaned so the next
   * {@link solve} repairs the trees instead of starting over.
   */
  markChanged(i: number): void {
    const { tr, parent, isSink, mask, offset, ts, dist } = this;
    const D = this.numDirs;
    const h = D >> 1;
    const t = tr[i]!;
    const p = parent[i]!;
    if (t === 0) {
      if (p === P_TERMINAL) {
        parent[i] = P_ORPHAN;
        this.orphanRear(i);
      }
      return;
    }
    const sink = t < 0 ? 1 : 0;
    if (p !== P_FREE && isSink[i] === sink) {
      // still in its tree, its arcs unchanged: it now hangs from its own
      // terminal, and nothing it reaches is new (maxflow v3 re-roots it too;
      // not activating it, nor its neighbours, is what keeps a re-solve after
      // small changes everywhere, an ADM Y-step's, from visiting every node)
      if (p === P_ORPHAN) this.activate(i);
      parent[i] = P_TERMINAL;
      ts[i] = this.time;
      dist[i] = 1;
      return;
    }
    if (p !== P_FREE) {
      // i moves to the other tree: its children lose their parent
      const m = mask[i]!;
      for (let d = 0; d < D; d++) {
        if ((m & (1 << d)) === 0) continue;
        const j = i + offset[d]!;
        if (parent[j] === (d ^ h) && isSink[j] === isSink[i]) {
          parent[j] = P_ORPHAN;
          this.orphanRear(j);
        }
      }
    }
    isSink[i] = sink;
    parent[i] = P_TERMINAL;
    ts[i] = this.time;
    dist[i] = 1;
    this.activate(i);
    // the neighbours of a re-rooted node may now reach the other tree through it
    const m = mask[i]!;
    for (let d = 0; d < D; d++) {
      if ((m & (1 << d)) === 0) continue;
      const j = i + offset[d]!;
      if (parent[j] !== P_FREE) this.activate(j);
    }
  }

  /** Side of node i after {@link solve}: 1 = source side (free nodes count as source). */
  sourceSide(i: number): number {
    return this.parent[i] !== P_FREE && this.isSink[i] !== 0 ? 0 : 1;
  }
}
