/**
 * Boykov–Kolmogorov max-flow on a general sparse graph stored as flat arrays:
 * the arcs of node i are `first[i] .. first[i+1]-1`, arc a goes to `head[a]`,
 * its reverse is `sister[a]`, its residual capacity is `rc[a]`. Internal: the
 * public faces are {@link Graph} and the α-expansion solvers.
 *
 * Method: Boykov & Kolmogorov, PAMI 2004, as their maxflow v3.
 *
 * A twin of grid-bk.ts, on purpose: the two share ~200 lines of the
 * algorithm line for line (grow, augment, adopt, the active queue, the orphan
 * list, the timestamps and distances) and differ only in how a node's arcs
 * are found: here an arc list (`first`, `head`, `sister`), there a fixed
 * offset per direction (neighbours implicit, no arc arrays). One generic
 * version would pay an indirection per arc in the inner loops. grid-bk.ts
 * also has what only the grid uses: `pushShortPaths` and `markChanged`
 * (re-solving after terminal changes). Keep the two in step: a fix to one is
 * a fix to the other.
 */

/** Parent codes: an arc index (≥ 0) or one of these. */
const P_FREE = -1;
const P_TERMINAL = -2;
const P_ORPHAN = -3;
const INF_D = 0x3fffffff;

/**
 * Bytes a {@link GraphBK} of `n` nodes and `m` edges allocates: the arc
 * arrays (`first`, its fill copy, `head`, `sister`, `edgeArc`, `rc`: 2m arcs)
 * and the per-node search state (`tr`, `parent`, `isSink`, `ts`, `dist`,
 * `next`, the orphan queue). Keep in step with the constructor.
 */
export function graphBkBytes(n: number, m: number): number {
  return 4 * (n + 1) + 4 * n + (4 + 4 + 8) * 2 * m + 4 * m + (8 + 4 + 1 + 4 * 4) * n;
}

/** Residual graph and search state of a sparse graph. */
export class GraphBK {
  readonly numNodes: number;
  readonly numEdges: number;
  readonly first: Int32Array;
  readonly head: Int32Array;
  readonly sister: Int32Array;
  /** Forward arc of edge e (from[e] → to[e]); its reverse is `sister[edgeArc[e]]`. */
  readonly edgeArc: Int32Array;
  readonly tr: Float64Array;
  readonly rc: Float64Array;
  readonly parent: Int32Array;
  readonly isSink: Uint8Array;
  readonly ts: Int32Array;
  readonly dist: Int32Array;
  readonly next: Int32Array;
  private readonly orphans: Int32Array;
  private orphanHead = 0;
  private orphanCount = 0;
  private activeFirst = -1;
  private activeLast = -1;
  private time = 0;
  flow = 0;
  solved = false;

  /** Builds the arc arrays of the graph with edges `from[e] – to[e]` (indices already checked). */
  constructor(numNodes: number, from: Int32Array, to: Int32Array) {
    const n = numNodes;
    const m = from.length;
    this.numNodes = n;
    this.numEdges = m;
    const first = new Int32Array(n + 1);
    for (let e = 0; e < m; e++) {
      first[from[e]! + 1]!++;
      first[to[e]! + 1]!++;
    }
    for (let i = 0; i < n; i++) first[i + 1]! += first[i]!;
    const fill = first.slice(0, n);
    const head = new Int32Array(2 * m);
    const sister = new Int32Array(2 * m);
    const edgeArc = new Int32Array(m);
    for (let e = 0; e < m; e++) {
      const p = from[e]!;
      const q = to[e]!;
      const a = fill[p]!++;
      const b = fill[q]!++;
      head[a] = q;
      head[b] = p;
      sister[a] = b;
      sister[b] = a;
      edgeArc[e] = a;
    }
    this.first = first;
    this.head = head;
    this.sister = sister;
    this.edgeArc = edgeArc;
    this.tr = new Float64Array(n);
    this.rc = new Float64Array(2 * m);
    this.parent = new Int32Array(n);
    this.isSink = new Uint8Array(n);
    this.ts = new Int32Array(n);
    this.dist = new Int32Array(n);
    this.next = new Int32Array(n);
    this.orphans = new Int32Array(Math.max(1, n));
  }

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

  /** Runs the search from scratch to a maximum flow; returns the flow pushed. */
  solve(): number {
    const { tr, rc, parent, isSink, ts, dist, next, first, head, sister } = this;
    const n = this.numNodes;
    this.resetSearch();
    for (let i = 0; i < n; i++) {
      const t = tr[i]!;
      if (t !== 0) {
        isSink[i] = t < 0 ? 1 : 0;
        parent[i] = P_TERMINAL;
        ts[i] = 0;
        dist[i] = 1;
        this.activate(i);
      }
    }
    let current = -1;
    for (;;) {
      let i = current;
      if (i >= 0) {
        next[i] = -1;
        if (parent[i] === P_FREE) i = -1;
      }
      if (i < 0) {
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
      let found = -1;
      const tsi = ts[i]!;
      const di = dist[i]!;
      const end = first[i + 1]!;
      if (isSink[i] === 0) {
        for (let a = first[i]!; a < end; a++) {
          if (rc[a]! <= 0) continue;
          const j = head[a]!;
          const pj = parent[j]!;
          if (pj === P_FREE) {
            isSink[j] = 0;
            parent[j] = sister[a]!;
            ts[j] = tsi;
            dist[j] = di + 1;
            this.activate(j);
          } else if (isSink[j] !== 0) {
            found = a;
            break;
          } else if (ts[j]! <= tsi && dist[j]! > di) {
            parent[j] = sister[a]!;
            ts[j] = tsi;
            dist[j] = di + 1;
          }
        }
      } else {
        for (let a = first[i]!; a < end; a++) {
          const s = sister[a]!;
          if (rc[s]! <= 0) continue;
          const j = head[a]!;
          const pj = parent[j]!;
          if (pj === P_FREE) {
            isSink[j] = 1;
            parent[j] = s;
            ts[j] = tsi;
            dist[j] = di + 1;
            this.activate(j);
          } else if (isSink[j] === 0) {
            found = s;
            break;
          } else if (ts[j]! <= tsi && dist[j]! > di) {
            parent[j] = s;
            ts[j] = tsi;
            dist[j] = di + 1;
          }
        }
      }
      this.time++;
      if (found >= 0) {
        next[i] = i;
        current = i;
        this.augment(found);
        this.adopt();
      } else {
        current = -1;
      }
    }
    this.solved = true;
    return this.flow;
  }

  /** Augments along source → … → tail(mid) → head(mid) → … → sink. */
  private augment(mid: number): void {
    const { tr, rc, parent, head, sister } = this;
    let b = rc[mid]!;
    const p = head[sister[mid]!]!;
    const q = head[mid]!;
    let i = p;
    for (;;) {
      const a = parent[i]!;
      if (a === P_TERMINAL) break;
      const c = rc[sister[a]!]!;
      if (c < b) b = c;
      i = head[a]!;
    }
    if (tr[i]! < b) b = tr[i]!;
    i = q;
    for (;;) {
      const a = parent[i]!;
      if (a === P_TERMINAL) break;
      const c = rc[a]!;
      if (c < b) b = c;
      i = head[a]!;
    }
    if (-tr[i]! < b) b = -tr[i]!;
    rc[mid]! -= b;
    rc[sister[mid]!]! += b;
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
      const s = sister[a]!;
      rc[a]! += b;
      rc[s]! -= b;
      if (rc[s] === 0) {
        parent[i] = P_ORPHAN;
        this.orphanFront(i);
      }
      i = head[a]!;
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
      rc[sister[a]!]! += b;
      rc[a]! -= b;
      if (rc[a] === 0) {
        parent[i] = P_ORPHAN;
        this.orphanFront(i);
      }
      i = head[a]!;
    }
    this.flow += b;
  }

  private adopt(): void {
    const { rc, parent, isSink, ts, dist, first, head, sister, orphans } = this;
    const cap = orphans.length;
    const time = this.time;
    while (this.orphanCount > 0) {
      const i = orphans[this.orphanHead]!;
      this.orphanHead = this.orphanHead + 1 === cap ? 0 : this.orphanHead + 1;
      this.orphanCount--;
      if (parent[i] !== P_ORPHAN) continue;
      const sink = isSink[i]!;
      let dMin = INF_D;
      let aMin = -1;
      const end = first[i + 1]!;
      for (let a0 = first[i]!; a0 < end; a0++) {
        const j = head[a0]!;
        if (isSink[j] !== sink || parent[j] === P_FREE) continue;
        if ((sink === 0 ? rc[sister[a0]!]! : rc[a0]!) <= 0) continue;
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
          k = head[a]!;
        }
        if (dd < INF_D) {
          if (dd < dMin) {
            aMin = a0;
            dMin = dd;
          }
          for (k = j; ts[k] !== time; k = head[parent[k]!]!) {
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
      parent[i] = P_FREE;
      for (let a0 = first[i]!; a0 < end; a0++) {
        const j = head[a0]!;
        const pj = parent[j]!;
        if (isSink[j] !== sink || pj === P_FREE) continue;
        if ((sink === 0 ? rc[sister[a0]!]! : rc[a0]!) > 0) this.activate(j);
        if (pj === sister[a0]) {
          parent[j] = P_ORPHAN;
          this.orphanRear(j);
        }
      }
    }
  }

  /** Side of node i after {@link solve}: 1 = source side (free nodes count as source). */
  sourceSide(i: number): number {
    return this.parent[i] !== P_FREE && this.isSink[i] !== 0 ? 0 : 1;
  }
}
