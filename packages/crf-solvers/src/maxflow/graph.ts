import {
  assertInt,
  assertIntRange,
  assertLength,
  assertObject,
  SegShapeError,
} from '@seg/tensor/errors';
import type { FloatArray } from '../arrays.js';
import {
  absSum,
  assertArray,
  assertBudget,
  assertEdges,
  assertNodes,
  assertTotal,
  formatBytes,
  MAX_TOTAL,
  maxBytesOption,
  withMemory,
} from '../bounds.js';
import { GraphBK, graphBkBytes } from './graph-bk.js';
import type { MaxflowResult } from './grid-graph.js';

/** Options of {@link Graph}: the whole graph in bulk. */
export interface GraphOptions {
  /** Number of nodes, ≥ 1. */
  numNodes: number;
  /** Edge tails, length M, in `[0, numNodes)`. */
  from: Int32Array;
  /** Edge heads, length M, in `[0, numNodes)`, `to[e] !== from[e]`. */
  to: Int32Array;
  /** Capacity of `from[e] → to[e]`, length M, finite, ≥ 0. */
  capForward: FloatArray;
  /** Capacity of `to[e] → from[e]`. @default capForward */
  capBackward?: FloatArray;
  /**
   * Memory budget in bytes, checked before anything is allocated: about 54
   * bytes a node and 52 an edge (`Infinity`: none). @default GRAPH_CUT_MAX_BYTES (8 GiB)
   */
  maxBytes?: number;
}

/**
 * Bytes a {@link Graph} of `n` nodes and `m` edges allocates: its search
 * state and arcs (`37·n + 36·m`), the copies it keeps (edge ends and float64
 * capacities, `16·m`, plus `8·m` with separate backward capacities; float64
 * terminals, `16·n`) and the labels of a solve (`n`).
 */
export function graphBytes(n: number, m: number, separateBackward: boolean): number {
  return graphBkBytes(n, m) + (16 + (separateBackward ? 8 : 0)) * m + 17 * n;
}

/**
 * A max-flow / min-cut problem on a general sparse graph, built in bulk from
 * typed arrays and solved by Boykov–Kolmogorov (maxflow v3's search, flat
 * arrays of arcs: `16 + 8` bytes an arc, `~30` bytes a node).
 *
 * Limits (checked up front): at most 2^28 nodes (`MAX_NODES`) and 2^29
 * edges (`MAX_EDGES`); at most `options.maxBytes` bytes (default 8 GiB),
 * checked before any allocation; all the capacities
 * together (terminal links, forward and backward edges) at most 1e300
 * (`MAX_TOTAL`). An allocation that still fails is a SegRangeError that
 * gives the graph's size.
 *
 * @example
 * const g = new Graph({ numNodes: 3, from: Int32Array.of(0, 1), to: Int32Array.of(1, 2),
 *                       capForward: Float64Array.of(2, 1) });
 * g.setTerminals(Float64Array.of(5, 0, 0), Float64Array.of(0, 0, 5));
 * g.maxflow(); // { flow: 1, labels: Uint8Array [1, 1, 0], cutCost: 1 }
 */
export class Graph {
  readonly numNodes: number;
  readonly numEdges: number;
  private readonly bk: GraphBK;
  private readonly from: Int32Array;
  private readonly to: Int32Array;
  private readonly capF: Float64Array;
  private capB: Float64Array;
  private readonly source: Float64Array;
  private readonly sink: Float64Array;

  /** Σ of the terminal capacities and of the edge capacities (both ways). */
  private terminalSum = 0;
  private edgeSum = 0;

  constructor(options: GraphOptions) {
    const fn = 'Graph';
    assertObject(fn, 'options', options);
    const { numNodes, from, to } = options;
    assertInt(fn, 'numNodes', numNodes, 1);
    assertNodes(fn, 'numNodes', numNodes);
    assertArray(fn, 'from', from, 'an Int32Array of edge tails');
    assertArray(fn, 'to', to, 'an Int32Array of edge heads');
    assertArray(fn, 'capForward', options.capForward, 'a Float32Array or Float64Array');
    const m = from.length;
    assertEdges(fn, m);
    assertLength(fn, 'to', to, m, 'from.length');
    const backward =
      options.capBackward !== undefined && options.capBackward !== options.capForward;
    const bytes = graphBytes(numNodes, m, backward);
    const size = `a graph of ${numNodes} nodes and ${m} edges`;
    assertBudget(fn, size, bytes, maxBytesOption(fn, options.maxBytes));
    assertIntRange(fn, 'from', from, 0, numNodes - 1);
    assertIntRange(fn, 'to', to, 0, numNodes - 1);
    for (let e = 0; e < m; e++) {
      if (from[e] === to[e]) {
        throw new SegShapeError(
          `${fn}: edge ${e} is a loop (from[${e}] = to[${e}] = ${from[e]}), expected two different nodes`,
        );
      }
    }
    this.numNodes = numNodes;
    this.numEdges = m;
    const made = withMemory(
      fn,
      () => `${size} (about ${formatBytes(bytes)})`,
      () => {
        const f = Int32Array.from(from);
        const t = Int32Array.from(to);
        return {
          from: f,
          to: t,
          bk: new GraphBK(numNodes, f, t),
          capF: new Float64Array(m),
          source: new Float64Array(numNodes),
          sink: new Float64Array(numNodes),
        };
      },
    );
    this.from = made.from;
    this.to = made.to;
    this.bk = made.bk;
    this.capF = made.capF;
    this.capB = this.capF;
    this.source = made.source;
    this.sink = made.sink;
    this.setEdges(options.capForward, options.capBackward);
  }

  /** Replaces every edge capacity (length M, finite, ≥ 0; `capBackward` defaults to `capForward`). */
  setEdges(capForward: FloatArray, capBackward?: FloatArray): void {
    const fn = 'Graph.setEdges';
    const m = this.numEdges;
    assertArray(fn, 'capForward', capForward, 'a Float32Array or Float64Array');
    assertLength(fn, 'capForward', capForward, m, 'number of edges');
    const sf = absSum(fn, 'capForward', capForward, true);
    let sb = sf;
    if (capBackward && capBackward !== capForward) {
      assertLength(fn, 'capBackward', capBackward, m, 'number of edges');
      sb = absSum(fn, 'capBackward', capBackward, true);
    }
    assertTotal(fn, 'capForward and capBackward', sf + sb);
    this.edgeSum = sf + sb;
    this.capF.set(capForward);
    if (capBackward && capBackward !== capForward) {
      if (this.capB === this.capF) this.capB = new Float64Array(m);
      this.capB.set(capBackward);
    } else {
      this.capB = this.capF;
    }
  }

  /** Sets every node's terminal capacities: `source[p]` is paid if p ends on the sink side, `sink[p]` if on the source side. */
  setTerminals(source: FloatArray, sink: FloatArray): void {
    const fn = 'Graph.setTerminals';
    const n = this.numNodes;
    assertArray(fn, 'source', source, 'a Float32Array or Float64Array');
    assertArray(fn, 'sink', sink, 'a Float32Array or Float64Array');
    assertLength(fn, 'source', source, n, 'numNodes');
    assertLength(fn, 'sink', sink, n, 'numNodes');
    const total = absSum(fn, 'source', source, true) + absSum(fn, 'sink', sink, true);
    assertTotal(fn, 'source and sink', total);
    this.terminalSum = total;
    this.source.set(source);
    this.sink.set(sink);
  }

  /** Computes a maximum flow and a minimum cut (labels: 1 = source side). */
  maxflow(): MaxflowResult {
    const total = this.terminalSum + this.edgeSum;
    if (!(total <= MAX_TOTAL)) {
      assertTotal('Graph.maxflow', 'the capacities (terminal links and edges)', total);
    }
    const bk = this.bk;
    const n = this.numNodes;
    const { tr, rc, edgeArc, sister } = bk;
    let constant = 0;
    for (let p = 0; p < n; p++) {
      const s = this.source[p]!;
      const t = this.sink[p]!;
      constant += s < t ? s : t;
      tr[p] = s - t;
    }
    for (let e = 0; e < this.numEdges; e++) {
      const a = edgeArc[e]!;
      rc[a] = this.capF[e]!;
      rc[sister[a]!] = this.capB[e]!;
    }
    bk.solve();
    const labels = new Uint8Array(n);
    for (let p = 0; p < n; p++) labels[p] = bk.sourceSide(p);
    return { flow: constant + bk.flow, labels, cutCost: this.cost(labels) };
  }

  /** Cost of the cut `labels` (1 = source side, 0 = sink side) under the capacities given. */
  cutCost(labels: Uint8Array): number {
    assertLength('Graph.cutCost', 'labels', labels, this.numNodes, 'numNodes');
    assertIntRange('Graph.cutCost', 'labels', labels, 0, 1);
    return this.cost(labels);
  }

  /** {@link cutCost} of labels already checked. */
  private cost(labels: Uint8Array): number {
    let c = 0;
    for (let p = 0; p < this.numNodes; p++) c += labels[p] ? this.sink[p]! : this.source[p]!;
    for (let e = 0; e < this.numEdges; e++) {
      const lp = labels[this.from[e]!]!;
      const lq = labels[this.to[e]!]!;
      if (lp > lq) c += this.capF[e]!;
      else if (lp < lq) c += this.capB[e]!;
    }
    return c;
  }
}
