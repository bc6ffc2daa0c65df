// The solvers' memory budget (issue 17): the bytes a grid or graph problem
// will allocate are checked against `maxBytes` (default 8 GiB) before
// anything is allocated. The huge problems here are refused from their
// sizes alone: their arrays are stand-ins with only a length.
import { SegRangeError, SegValueError } from '@seg/tensor';
import { expectThrow } from '@seg/tensor/testing';
import { describe, expect, it } from 'vitest';
import {
  alphaBetaSwap,
  alphaExpansion,
  binaryGraphCut,
  type FloatArray,
  GRAPH_CUT_MAX_BYTES,
  Graph,
  GridGraph,
  type GridProblem,
} from '../index.js';

const RAISE = `raise it with options.maxBytes (default ${GRAPH_CUT_MAX_BYTES}, 8 GiB)`;
const OVER_DEFAULT = `over the memory budget of 8.6 GB (${2 ** 33} bytes); ${RAISE}`;

/** `formatBytes` below 1 MB. */
const kB = (bytes: number) => `${Math.round(bytes / 1e3)} kB`;

/** A stand-in for a typed array of `length` entries (never read: the budget refuses first). */
const sized = (length: number) => ({ length }) as unknown as FloatArray;

/** A W×H grid problem whose arrays are stand-ins. */
function hugeGrid(W: number, H: number, K: number, directions: 2 | 4): GridProblem {
  const n = W * H;
  return {
    width: W,
    height: H,
    numLabels: K,
    unary: sized(n * K),
    weights: Array.from({ length: directions }, () => sized(n)),
  };
}

/** A small random-free grid problem (unary ramps, unit weights). */
function smallGrid(W: number, H: number, K: number): GridProblem {
  const n = W * H;
  return {
    width: W,
    height: H,
    numLabels: K,
    unary: Float64Array.from({ length: n * K }, (_, i) => (i * 7) % 5),
    weights: [new Float64Array(n).fill(1), new Float64Array(n).fill(1)],
  };
}

describe('memory budget', () => {
  it('refuses a 16384² 8-connected grid (under 2^28 nodes) before allocating', () => {
    const before = process.memoryUsage().arrayBuffers;
    // 141 bytes a node: search state 91, float64 capacities 48, labels 2
    expectThrow(
      () => new GridGraph({ width: 16384, height: 16384, connectivity: 8 }),
      SegRangeError,
      `GridGraph: a 16384×16384 grid, 8-connected needs about 37.8 GB (${141 * 2 ** 28} bytes), ${OVER_DEFAULT}`,
    );
    // α-expansion: edge list 96, search state 91, labels 5, moves 60 bytes a node (+ K)
    expectThrow(
      () => alphaExpansion(hugeGrid(16384, 16384, 2, 4)),
      SegRangeError,
      `alphaExpansion: a 16384×16384 grid with 2 labels, 8-connected needs about 67.6 GB (${252 * 2 ** 28 + 2} bytes), ${OVER_DEFAULT}`,
    );
    // swap and the binary cut: no moves' arrays (edge list 48, search state 59, labels 5)
    expectThrow(
      () => alphaBetaSwap(hugeGrid(16384, 16384, 3, 2)),
      SegRangeError,
      `alphaBetaSwap: a 16384×16384 grid with 3 labels, 4-connected needs about 30.1 GB (${112 * 2 ** 28} bytes), ${OVER_DEFAULT}`,
    );
    expectThrow(
      () => binaryGraphCut(hugeGrid(16384, 16384, 2, 2)),
      SegRangeError,
      `binaryGraphCut: a 16384×16384 grid with 2 labels, 4-connected needs about 30.1 GB (${112 * 2 ** 28} bytes), ${OVER_DEFAULT}`,
    );
    // a graph: search state and arcs 37 a node and 36 an edge, its own copies 17 a node
    expectThrow(
      () =>
        new Graph({
          numNodes: 2 ** 28,
          from: new Int32Array(0),
          to: new Int32Array(0),
          capForward: new Float64Array(0),
        }),
      SegRangeError,
      `Graph: a graph of 268435456 nodes and 0 edges needs about 14.5 GB (${54 * 2 ** 28 + 4} bytes), ${OVER_DEFAULT}`,
    );
    // nothing was allocated on the way (a GridGraph of that size would take 37.8 GB)
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1e8);
  });

  it('raises or lowers the budget with maxBytes, at the exact byte count', () => {
    // 10×10, 4-connected: 93 bytes a node
    expectThrow(
      () => new GridGraph({ width: 10, height: 10, maxBytes: 9299 }),
      SegRangeError,
      `GridGraph: a 10×10 grid, 4-connected needs about 9 kB (9300 bytes), over the memory budget of 9 kB (9299 bytes); ${RAISE}`,
    );
    const g = new GridGraph({ width: 10, height: 10, maxBytes: 9300 });
    g.setTerminals(new Float64Array(100).fill(1), new Float64Array(100));
    expect(g.maxflow().flow).toBe(0);
    expect(() => new GridGraph({ width: 10, height: 10, maxBytes: Infinity })).not.toThrow();
    // 3 nodes, 2 edges with separate backward capacities: 54·3 + 60·2 + 4 bytes
    const graph = {
      numNodes: 3,
      from: Int32Array.of(0, 1),
      to: Int32Array.of(1, 2),
      capForward: Float64Array.of(2, 1),
      capBackward: Float64Array.of(1, 1),
    };
    expectThrow(
      () => new Graph({ ...graph, maxBytes: 285 }),
      SegRangeError,
      `Graph: a graph of 3 nodes and 2 edges needs about 0 kB (286 bytes), over the memory budget of 0 kB (285 bytes); ${RAISE}`,
    );
    expect(new Graph({ ...graph, maxBytes: 286 }).numEdges).toBe(2);
    // the move solvers: 6×5 grid, 3 labels, 4-connected, one cycle (no warm-start flows)
    const p = smallGrid(6, 5, 3);
    const n = 30;
    const swapBytes = 24 * 2 * n + 59 * n + 5 * n;
    expectThrow(
      () => alphaBetaSwap(p, { maxBytes: swapBytes - 1 }),
      SegRangeError,
      `alphaBetaSwap: a 6×5 grid with 3 labels, 4-connected needs about ${kB(swapBytes)} (${swapBytes} bytes), over the memory budget of ${kB(swapBytes - 1)} (${swapBytes - 1} bytes); ${RAISE}`,
    );
    const free = alphaBetaSwap(p);
    expect(alphaBetaSwap(p, { maxBytes: swapBytes })).toEqual(free);
    // float32 weights are kept as float32 in the edge list (4 bytes an edge less), same result
    const p32 = { ...p, weights: p.weights.map((w) => Float32Array.from(w)) };
    const swap32 = swapBytes - 4 * 2 * n;
    expectThrow(
      () => alphaBetaSwap(p32, { maxBytes: swap32 - 1 }),
      SegRangeError,
      `alphaBetaSwap: a 6×5 grid with 3 labels, 4-connected needs about ${kB(swap32)} (${swap32} bytes), over the memory budget of ${kB(swap32 - 1)} (${swap32 - 1} bytes); ${RAISE}`,
    );
    expect(alphaBetaSwap(p32, { maxBytes: swap32 })).toEqual(free);
    const expBytes = swapBytes + (8 * 2 * n + 8 * 3 * n + 8 * n + 4 * n + 3);
    expectThrow(
      () => alphaExpansion(p, { maxCycles: 1, maxBytes: expBytes - 1 }),
      SegRangeError,
      `alphaExpansion: a 6×5 grid with 3 labels, 4-connected needs about ${kB(expBytes)} (${expBytes} bytes), over the memory budget of ${kB(expBytes - 1)} (${expBytes - 1} bytes); ${RAISE}`,
    );
    expect(alphaExpansion(p, { maxCycles: 1, maxBytes: expBytes })).toEqual(
      alphaExpansion(p, { maxCycles: 1 }),
    );
  });

  it('refuses a maxBytes that is not a positive number', () => {
    for (const bad of [0, -1, Number.NaN, '1e9']) {
      expectThrow(
        () => new GridGraph({ width: 2, height: 2, maxBytes: bad as number }),
        SegValueError,
        `GridGraph: options.maxBytes is ${typeof bad === 'string' ? JSON.stringify(bad) : bad}, expected a positive number of bytes (Infinity: no budget)`,
      );
    }
    expectThrow(
      () => binaryGraphCut(smallGrid(2, 2, 2), { maxBytes: 0 }),
      SegValueError,
      'binaryGraphCut: options.maxBytes is 0, expected a positive number of bytes (Infinity: no budget)',
    );
  });

  it('counts what a GridGraph allocates (within 2%)', () => {
    const W = 700;
    const H = 600;
    globalThis.gc?.();
    const before = process.memoryUsage().arrayBuffers;
    const g = new GridGraph({ width: W, height: H, connectivity: 8 });
    g.setTerminals(new Float64Array(W * H), new Float64Array(W * H));
    const made = process.memoryUsage().arrayBuffers - before;
    // the estimate also counts the labels and change marks of a solve (2 bytes a node)
    // and the two terminal arrays passed in here are the test's (16 bytes a node)
    const expected = 141 * W * H - 2 * W * H + 16 * W * H;
    expect(Math.abs(made - expected) / expected).toBeLessThan(0.02);
    expect(g.numNodes).toBe(W * H);
  });
});
