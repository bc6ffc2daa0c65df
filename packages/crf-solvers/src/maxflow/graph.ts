import {
  assertInt,
  assertIntRange,
  assertLength,
  assertNonNegative,
  SegShapeError,
} from '@seg/tensor/errors';
import { GraphBK } from './graph-bk.js';
import type { Capacities, MaxflowResult } from './grid-graph.js';

/** Options of {@link Graph}: the whole graph in bulk. */
export interface GraphOptions {
  /** Number of nodes, ≥ 1. */
  numNodes: number;
  /** Edge tails, length M, in `[0, numNodes)`. */
  from: Int32Array;
  /** Edge heads, length M, in `[0, numNodes)`, `to[e] !== from[e]`. */
  to: Int32Array;
  /** Capacity of `from[e] → to[e]`, length M, finite, ≥ 0. */
  capForward: Capacities;
  /** Capacity of `to[e] → from[e]`. @default capForward */
  capBackward?: Capacities;
}

/**
 * A max-flow / min-cut problem on a general sparse graph, built in bulk from
 * typed arrays and solved by Boykov–Kolmogorov (maxflow v3's search, flat
 * arrays of arcs: `16 + 8` bytes an arc, `~30` bytes a node).
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

  constructor(options: GraphOptions) {
    const fn = 'Graph';
    const { numNodes, from, to } = options;
    assertInt(fn, 'numNodes', numNodes, 1);
    const m = from.length;
    assertLength(fn, 'to', to, m, 'from.length');
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
    this.from = Int32Array.from(from);
    this.to = Int32Array.from(to);
    this.bk = new GraphBK(numNodes, this.from, this.to);
    this.capF = new Float64Array(m);
    this.capB = this.capF;
    this.source = new Float64Array(numNodes);
    this.sink = new Float64Array(numNodes);
    this.setEdges(options.capForward, options.capBackward);
  }

  /** Replaces every edge capacity (length M, finite, ≥ 0; `capBackward` defaults to `capForward`). */
  setEdges(capForward: Capacities, capBackward?: Capacities): void {
    const fn = 'Graph.setEdges';
    const m = this.numEdges;
    assertLength(fn, 'capForward', capForward, m, 'number of edges');
    assertNonNegative(fn, 'capForward', capForward);
    this.capF.set(capForward);
    if (capBackward && capBackward !== capForward) {
      assertLength(fn, 'capBackward', capBackward, m, 'number of edges');
      assertNonNegative(fn, 'capBackward', capBackward);
      if (this.capB === this.capF) this.capB = new Float64Array(m);
      this.capB.set(capBackward);
    } else {
      this.capB = this.capF;
    }
  }

  /** Sets every node's terminal capacities: `source[p]` is paid if p ends on the sink side, `sink[p]` if on the source side. */
  setTerminals(source: Capacities, sink: Capacities): void {
    const fn = 'Graph.setTerminals';
    const n = this.numNodes;
    assertLength(fn, 'source', source, n, 'numNodes');
    assertLength(fn, 'sink', sink, n, 'numNodes');
    assertNonNegative(fn, 'source', source);
    assertNonNegative(fn, 'sink', sink);
    this.source.set(source);
    this.sink.set(sink);
  }

  /** Computes a maximum flow and a minimum cut (labels: 1 = source side). */
  maxflow(): MaxflowResult {
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
