import {
  assertInt,
  assertIntRange,
  assertLength,
  assertObject,
  SegValueError,
} from '@seg/tensor/errors';
import type { FloatArray } from '../arrays.js';
import {
  absSum,
  assertArray,
  assertBudget,
  assertNodes,
  assertTotal,
  formatBytes,
  MAX_TOTAL,
  maxBytesOption,
  withMemory,
} from '../bounds.js';
import { GRID_DIRECTION_NAMES, GRID_STEPS, type GridDirection } from './directions.js';
import { GridBK, gridBkBytes } from './grid-bk.js';

/** @deprecated Renamed {@link FloatArray} (the same union as the deprecated `Costs`); this alias goes in the next minor release. */
export type Capacities = FloatArray;

/** Options of {@link GridGraph}. */
export interface GridGraphOptions {
  width: number;
  height: number;
  /** 4 (right, down) or 8 (also down-right, down-left). @default 4 */
  connectivity?: 4 | 8;
  /**
   * Memory budget in bytes, checked before anything is allocated: 141
   * bytes a node 8-connected, 93 4-connected (`Infinity`: none).
   * @default GRAPH_CUT_MAX_BYTES (8 GiB)
   */
  maxBytes?: number;
}

/**
 * Bytes a {@link GridGraph} of `n` nodes and connectivity C allocates: its
 * search state (`(27 + 8·C)·n`), the capacities it keeps (float64 source,
 * sink and one array per forward direction: `(16 + 4·C)·n`) and the labels
 * of a solve (`2·n`) — 141 bytes a node 8-connected, 93 4-connected.
 * Backward capacities given apart from the forward ones add `4·C·n`.
 */
export function gridGraphBytes(n: number, connectivity: 4 | 8): number {
  return gridBkBytes(n, connectivity) + (16 + 4 * connectivity + 2) * n;
}

/** What {@link GridGraph.maxflow} returns. */
export interface MaxflowResult {
  /** The maximum flow value (= the minimum cut). */
  flow: number;
  /** One byte a node: 1 = source side, 0 = sink side. */
  labels: Uint8Array;
  /**
   * The cut cost of `labels`, summed from the capacities given (equals `flow`
   * up to rounding); NaN when `options.cutCost` was false.
   */
  cutCost: number;
}

/** Options of {@link GridGraph.maxflow}. */
export interface MaxflowOptions {
  /**
   * After only {@link GridGraph.setTerminals} changed since the last solve,
   * keep the search trees and the flow and repair them (Kohli & Torr's
   * dynamic graph cuts, as maxflow v3's `reuse_trees`). Edge changes always
   * start afresh. @default true
   */
  reuseTrees?: boolean;
  /**
   * Sum the cut cost of the labels (a pass over every edge). False skips it
   * and gives `cutCost: NaN`, for a caller that re-solves many times and
   * wants the labels only.
   * @default true
   */
  cutCost?: boolean;
}

const FN = 'GridGraph';

/** Validates a connectivity value. */
export function checkConnectivity(fn: string, c: unknown): 4 | 8 {
  if (c !== 4 && c !== 8)
    throw new SegValueError(`${fn}: connectivity is ${String(c)}, expected 4 or 8`);
  return c;
}

/**
 * A max-flow / min-cut problem on a W×H pixel grid, 4- or 8-connected,
 * solved by a Boykov–Kolmogorov search specialised for grids (implicit
 * neighbours, flat typed arrays, no object per node or edge).
 *
 * Node `p = y * width + x`. Cutting p's source link (p ends on the sink side)
 * costs `source[p]`; cutting its sink link costs `sink[p]`; the edge from p
 * to its neighbour q in a direction costs `w[p]` when p is on the source side
 * and q on the sink side (and `wBackward[p]` the other way round). Memory:
 * about `(16 + 8·C + 24) · W·H` bytes for connectivity C, plus the
 * capacities given (kept, as float64, for the cut cost and for re-solving).
 *
 * Limits (checked up front): at most 2^28 nodes (`MAX_NODES`); at most
 * `options.maxBytes` bytes (141 a node 8-connected; default 8 GiB, so a
 * 16384² 8-connected grid, about 38 GB, is refused before any allocation);
 * and all the capacities together (terminal links, and each direction's
 * edges counted twice when `wBackward` is left out) at most 1e300
 * (`MAX_TOTAL`), so that flows and cut costs stay finite. An allocation that
 * still fails is a SegRangeError that gives the grid's size.
 *
 * @example
 * const g = new GridGraph({ width: 640, height: 480, connectivity: 8 });
 * g.setTerminals(source, sink);               // Float32Array or Float64Array, W·H each
 * for (const dir of ['right', 'down', 'downRight', 'downLeft'] as const) g.setEdges(dir, weights[dir]);
 * const { flow, labels, cutCost } = g.maxflow(); // labels: Uint8Array, 1 = source side
 */
export class GridGraph {
  readonly width: number;
  readonly height: number;
  readonly connectivity: 4 | 8;
  private readonly bk: GridBK;
  private readonly source: Float64Array;
  private readonly sink: Float64Array;
  private readonly forward: Float64Array[] = [];
  private readonly backward: Float64Array[] = [];
  private constant = 0;
  private edgesDirty = true;
  private changed: Uint8Array | null = null;
  /** Σ of the terminal capacities, and per direction Σ of forward + backward capacities. */
  private terminalSum = 0;
  private readonly edgeSums: number[] = [];

  constructor(options: GridGraphOptions) {
    assertObject(FN, 'options', options);
    const { width, height } = options;
    assertInt(FN, 'width', width, 1);
    assertInt(FN, 'height', height, 1);
    this.width = width;
    this.height = height;
    this.connectivity = checkConnectivity(FN, options.connectivity ?? 4);
    const n = width * height;
    const C = this.connectivity;
    assertNodes(FN, `width*height = ${width}×${height}`, n);
    const bytes = gridGraphBytes(n, C);
    const size = `a ${width}×${height} grid, ${C}-connected`;
    assertBudget(FN, size, bytes, maxBytesOption(FN, options.maxBytes));
    const made = withMemory(
      FN,
      () => `${size} (about ${formatBytes(bytes)})`,
      () => ({
        bk: new GridBK(width, height, C),
        source: new Float64Array(n),
        sink: new Float64Array(n),
        forward: Array.from({ length: C / 2 }, () => new Float64Array(n)),
      }),
    );
    this.bk = made.bk;
    this.source = made.source;
    this.sink = made.sink;
    for (const f of made.forward) {
      this.forward.push(f);
      this.backward.push(f);
      this.edgeSums.push(0);
    }
  }

  /** Number of nodes, `width * height`. */
  get numNodes(): number {
    return this.width * this.height;
  }

  /**
   * Sets every node's terminal capacities (finite, ≥ 0; length `width*height`).
   * After a solve with unchanged edges, the change is applied to the residual
   * graph so the next {@link maxflow} can reuse the search trees.
   */
  setTerminals(source: FloatArray, sink: FloatArray): void {
    const fn = `${FN}.setTerminals`;
    const n = this.numNodes;
    assertArray(fn, 'source', source, 'a Float32Array or Float64Array');
    assertArray(fn, 'sink', sink, 'a Float32Array or Float64Array');
    assertLength(fn, 'source', source, n, 'width*height');
    assertLength(fn, 'sink', sink, n, 'width*height');
    const total = absSum(fn, 'source', source, true) + absSum(fn, 'sink', sink, true);
    assertTotal(fn, 'source and sink', total);
    this.terminalSum = total;
    const bk = this.bk;
    if (bk.solved && !this.edgesDirty) {
      // apply the change to the residual graph (maxflow v3's add_tweights)
      const tr = bk.tr;
      const changed = (this.changed ??= new Uint8Array(n));
      for (let p = 0; p < n; p++) {
        const ds = source[p]! - this.source[p]!;
        const dt = sink[p]! - this.sink[p]!;
        if (ds === 0 && dt === 0) continue;
        const t = tr[p]!;
        const cs = (t > 0 ? t : 0) + ds;
        const ct = (t < 0 ? -t : 0) + dt;
        this.constant += cs < ct ? cs : ct;
        tr[p] = cs - ct;
        changed[p] = 1;
      }
    }
    this.source.set(source);
    this.sink.set(sink);
  }

  /**
   * Sets the capacities of the edges from each node to its neighbour in
   * direction `dir` (`w[p]`, p → neighbour) and back (`wBackward[p]`,
   * neighbour → p; default: the same as `w`). Entries whose neighbour lies
   * outside the grid are ignored. Finite, ≥ 0, length `width*height`.
   */
  setEdges(dir: GridDirection, w: FloatArray, wBackward?: FloatArray): void {
    const fn = `${FN}.setEdges`;
    const k = GRID_DIRECTION_NAMES.indexOf(dir);
    if (k < 0) {
      throw new SegValueError(
        `${fn}: direction is ${JSON.stringify(dir)}, expected one of right, down, downRight, downLeft`,
      );
    }
    if (k >= this.connectivity / 2) {
      throw new SegValueError(`${fn}: direction ${dir} needs connectivity 8, this graph has 4`);
    }
    const n = this.numNodes;
    assertArray(fn, 'w', w, 'a Float32Array or Float64Array');
    assertLength(fn, 'w', w, n, 'width*height');
    const sw = absSum(fn, 'w', w, true);
    let sb = sw;
    if (wBackward && wBackward !== w) {
      assertLength(fn, 'wBackward', wBackward, n, 'width*height');
      sb = absSum(fn, 'wBackward', wBackward, true);
    }
    assertTotal(fn, `the capacities of direction ${dir} (both ways)`, sw + sb);
    this.edgeSums[k] = sw + sb;
    this.forward[k]!.set(w);
    if (wBackward && wBackward !== w) {
      if (this.backward[k] === this.forward[k]) this.backward[k] = new Float64Array(n);
      this.backward[k]!.set(wBackward);
    } else if (this.backward[k] !== this.forward[k]) {
      this.backward[k] = this.forward[k]!;
    }
    this.edgesDirty = true;
  }

  /** Computes a maximum flow and a minimum cut. */
  maxflow(options: MaxflowOptions = {}): MaxflowResult {
    const bk = this.bk;
    const n = this.numNodes;
    // O(1): the sums were taken when the capacities were set
    let total = this.terminalSum;
    for (const s of this.edgeSums) total += s;
    if (!(total <= MAX_TOTAL)) {
      assertTotal(`${FN}.maxflow`, 'the capacities (terminal links and edges)', total);
    }
    const reuse = (options.reuseTrees ?? true) && bk.solved && !this.edgesDirty;
    if (reuse) {
      const changed = this.changed;
      if (changed) {
        for (let p = 0; p < n; p++) if (changed[p]) bk.markChanged(p);
        changed.fill(0);
      }
    } else {
      this.load();
    }
    bk.solve();
    const labels = new Uint8Array(n);
    for (let p = 0; p < n; p++) labels[p] = bk.sourceSide(p);
    const cutCost = (options.cutCost ?? true) ? this.cost(labels) : Number.NaN;
    return { flow: this.constant + bk.flow, labels, cutCost };
  }

  /** Cost of the cut `labels` (1 = source side, 0 = sink side) under the capacities given. */
  cutCost(labels: Uint8Array): number {
    const fn = `${FN}.cutCost`;
    assertLength(fn, 'labels', labels, this.numNodes, 'width*height');
    assertIntRange(fn, 'labels', labels, 0, 1);
    return this.cost(labels);
  }

  /** {@link cutCost} of labels already checked. */
  private cost(labels: Uint8Array): number {
    const { width: W, height: H } = this;
    let c = 0;
    const src = this.source;
    const snk = this.sink;
    for (let p = 0; p < W * H; p++) c += labels[p] ? snk[p]! : src[p]!;
    for (let k = 0; k < this.connectivity / 2; k++) {
      const { dx, dy } = GRID_STEPS[k]!;
      const f = this.forward[k]!;
      const b = this.backward[k]!;
      const x0 = dx < 0 ? 1 : 0;
      const x1 = dx > 0 ? W - 1 : W;
      const off = dx + dy * W;
      for (let y = 0; y + dy < H; y++) {
        for (let x = x0; x < x1; x++) {
          const p = y * W + x;
          const lp = labels[p]!;
          const lq = labels[p + off]!;
          if (lp > lq) c += f[p]!;
          else if (lp < lq) c += b[p]!;
        }
      }
    }
    return c;
  }

  /** Loads the capacities into the residual graph and forgets the trees. */
  private load(): void {
    const bk = this.bk;
    const { tr, rc } = bk;
    const n = this.numNodes;
    const D = this.connectivity;
    const h = D >> 1;
    let constant = 0;
    for (let p = 0; p < n; p++) {
      const s = this.source[p]!;
      const t = this.sink[p]!;
      constant += s < t ? s : t;
      tr[p] = s - t;
    }
    rc.fill(0);
    const { width: W, height: H } = this;
    for (let k = 0; k < h; k++) {
      const { dx, dy } = GRID_STEPS[k]!;
      const f = this.forward[k]!;
      const b = this.backward[k]!;
      const x0 = dx < 0 ? 1 : 0;
      const x1 = dx > 0 ? W - 1 : W;
      const off = dx + dy * W;
      const rk = k ^ h;
      for (let y = 0; y + dy < H; y++) {
        for (let x = x0; x < x1; x++) {
          const p = y * W + x;
          rc[p * D + k] = f[p]!;
          rc[(p + off) * D + rk] = b[p]!;
        }
      }
    }
    this.constant = constant;
    this.edgesDirty = false;
    this.changed?.fill(0);
    bk.resetSearch();
  }
}
