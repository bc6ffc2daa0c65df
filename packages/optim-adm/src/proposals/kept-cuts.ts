/**
 * The graphs of two-label Y-steps, kept between calls. ADM solves the same
 * image's Y-step again and again with the same Potts weights and seeds and
 * a unary that moves a little (the network's −log S). A graph kept from the
 * last solve is re-solved from its flow and search trees (Kohli & Torr's
 * dynamic graph cuts, crf-solvers' `GridGraph` with `reuseTrees`): the 11
 * cuts of one `segmentImage` call on teddy at full size (284×398,
 * 8-connected) take 248 ms so against 505 ms fresh (`bench:kept-cuts`,
 * package README, "Speed of one image").
 *
 * A problem is matched to a kept graph by content (its size, weights and
 * seeds, compared value for value), never by identity, so a caller that
 * reuses or changes its arrays always gets the cut of the problem it gives.
 */
import { binaryTerminals, cutLabels, foldSeedEdges, type PottsProblem } from './potts-problem.js';
import { GRID_DIRECTION_NAMES, GridGraph, gridGraphBytes } from './solvers.js';

/** One image's graph: the problem's weights and seeds as given, and the seed folds. */
export class KeptCut {
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  private readonly weights: Float32Array[];
  private readonly seeds: Int32Array | undefined;
  private readonly fold: Float64Array;
  private readonly source: Float64Array;
  private readonly sink: Float64Array;
  private readonly graph: GridGraph;

  constructor(problem: PottsProblem) {
    const { width: W, height: H, weights, seeds } = problem;
    const n = W * H;
    this.width = W;
    this.height = H;
    this.bytes = keptCutBytes(n, weights.length);
    this.weights = weights.map((w) => w.slice());
    this.seeds = seeds?.slice();
    const { edges, fold } = foldSeedEdges(W, H, weights, seeds);
    this.fold = fold;
    this.source = new Float64Array(n);
    this.sink = new Float64Array(n);
    // one direction alone (K = 2 allows `[right]`) is a 4-connected grid without down edges
    const connectivity = weights.length === 4 ? 8 : 4;
    this.graph = new GridGraph({ width: W, height: H, connectivity });
    edges.forEach((e, d) => {
      this.graph.setEdges(GRID_DIRECTION_NAMES[d]!, e);
    });
  }

  /**
   * Whether `problem` (checked or not) has two labels and this graph's size,
   * weights and seeds: then its weights and seeds are valid, as the ones the
   * graph was made from were checked.
   */
  matches(problem: PottsProblem): boolean {
    const { width, height, numLabels, weights, seeds } = problem;
    if (width !== this.width || height !== this.height || numLabels !== 2) return false;
    if (!Array.isArray(weights) || weights.length !== this.weights.length) return false;
    if (seeds === undefined ? this.seeds !== undefined : !(seeds instanceof Int32Array))
      return false;
    for (let d = 0; d < weights.length; d++) {
      const w = weights[d];
      if (!(w instanceof Float32Array) || !sameValues(w, this.weights[d]!)) return false;
    }
    return seeds === undefined || sameValues(seeds, this.seeds!);
  }

  /** The labels of `problem` (which {@link matches}, its unary checked), from the last flow. */
  solve(problem: PottsProblem): Int32Array {
    binaryTerminals(problem.unary, this.fold, this.seeds, this.source, this.sink);
    this.graph.setTerminals(this.source, this.sink);
    return cutLabels(this.graph.maxflow({ reuseTrees: true, cutCost: false }).labels, this.seeds);
  }
}

/**
 * Bytes a kept graph of `n` pixels and `directions` weight arrays holds: the
 * `GridGraph` (141 bytes a pixel 8-connected), the copies it is matched by
 * (4 a pixel a direction, 4 for the seeds) and its folds and terminals
 * (32): 193 bytes a pixel 8-connected.
 */
export function keptCutBytes(n: number, directions: number): number {
  const connectivity = directions === 4 ? 8 : 4;
  return gridGraphBytes(n, connectivity) + (4 * directions + 4 + 32) * n;
}

/** Default of `inlineSolver`'s `keepBytes`: 64 MiB (a 0.35 MP image's graph, 8-connected). */
export const DEFAULT_KEEP_BYTES = 64 * 2 ** 20;

/**
 * The kept graphs of one solver, the most recently used first, at most
 * `keepBytes` bytes together.
 */
export class KeptCuts {
  private kept: KeptCut[] = [];

  constructor(private readonly keepBytes: number) {}

  /**
   * The kept graph with `problem`'s two labels, size, weights and seeds (any
   * object, checked or not; compared value for value), now the most
   * recently used; `undefined` when none has them.
   */
  find(problem: PottsProblem): KeptCut | undefined {
    if (problem === null || typeof problem !== 'object') return undefined;
    const at = this.kept.findIndex((k) => k.matches(problem));
    if (at < 0) return undefined;
    const cut = this.kept[at]!;
    this.kept.splice(at, 1);
    this.kept.unshift(cut);
    return cut;
  }

  /**
   * A new kept graph for a checked problem, in place of the least recently
   * used ones; `undefined` when it has more than two labels or its graph
   * alone is over the budget (the caller then solves it fresh).
   */
  add(problem: PottsProblem): KeptCut | undefined {
    const { width: W, height: H, numLabels, weights } = problem;
    if (numLabels !== 2) return undefined;
    const bytes = keptCutBytes(W * H, weights.length);
    if (bytes > this.keepBytes) return undefined;
    // room for it: the least recently used go
    let total = bytes;
    let keep = 0;
    while (keep < this.kept.length && total + this.kept[keep]!.bytes <= this.keepBytes) {
      total += this.kept[keep++]!.bytes;
    }
    this.kept.length = keep;
    const cut = new KeptCut(problem);
    this.kept.unshift(cut);
    return cut;
  }

  /** Number of graphs kept. */
  get size(): number {
    return this.kept.length;
  }

  /** Drops every kept graph. */
  clear(): void {
    this.kept = [];
  }
}

function sameValues(a: Float32Array | Int32Array, b: Float32Array | Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
