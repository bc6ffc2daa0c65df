/**
 * The documented limits of the solvers and their checks, made once at the
 * public boundary (O(input), never in a solver's loops):
 *
 * - sizes: at most {@link MAX_NODES} nodes and {@link MAX_EDGES} edges, since
 *   arcs are indexed with int32 (`p·8 + d` on an 8-connected grid);
 * - magnitudes: capacities, or the absolute unary costs plus the weighted
 *   pairwise costs, summing to at most {@link MAX_TOTAL}, so that no flow,
 *   residual, cut cost or energy summed from them can overflow float64 (a
 *   few values of 1e308 gave NaN and ∞ flows, and a re-solve with reused
 *   trees never finished);
 * - memory: the bytes a max-flow or labeling problem will allocate (its
 *   nodes, arcs, per-direction arrays, the search trees' arrays and the
 *   move solvers' working arrays) are computed from its sizes and checked
 *   against a budget, {@link GRAPH_CUT_MAX_BYTES} (8 GiB) unless the caller
 *   passes `maxBytes`, before anything is allocated; an allocation that still
 *   fails becomes a SegRangeError that says how large the problem was.
 */
import { assertFinite, assertNonNegative, SegRangeError, SegValueError } from '@seg/tensor/errors';

/** Most nodes of a max-flow or labeling problem: 2^28 = 268,435,456 (a 16384² grid). */
export const MAX_NODES = 2 ** 28;

/** Most edges of a general graph: 2^29 (two arcs each, int32 arc indices). */
export const MAX_EDGES = 2 ** 29;

/**
 * Largest sum of capacities (max-flow) or of `|unary| + weight·max V`
 * (labeling): 1e300, leaving float64 room for every flow, residual, cut cost
 * and energy computed from them, and for repeated re-solves with reused trees.
 */
export const MAX_TOTAL = 1e300;

/**
 * The default memory budget of a max-flow or labeling problem: 8 GiB
 * (2^33 bytes), room for a 25-megapixel image's 8-connected binary cut
 * (about 5 GB) but not for a 16384² 8-connected grid (about 38 GB). Raise
 * or lower it per call with `maxBytes` (`Infinity`: no budget).
 */
export const GRAPH_CUT_MAX_BYTES = 2 ** 33;

/** Reads a `maxBytes` option: a positive number of bytes (`Infinity` allowed), {@link GRAPH_CUT_MAX_BYTES} when left out. */
export function maxBytesOption(fn: string, maxBytes: unknown): number {
  if (maxBytes === undefined) return GRAPH_CUT_MAX_BYTES;
  if (typeof maxBytes !== 'number' || !(maxBytes > 0)) {
    throw new SegValueError(
      `${fn}: options.maxBytes is ${describe(maxBytes)}, expected a positive number of bytes (Infinity: no budget)`,
    );
  }
  return maxBytes;
}

/**
 * Throws a SegRangeError, before anything is allocated, when a problem
 * (`what`, e.g. "a 16384×16384 grid, 8-connected") needs more than
 * `maxBytes` bytes.
 */
export function assertBudget(fn: string, what: string, bytes: number, maxBytes: number): void {
  if (bytes > maxBytes) {
    throw new SegRangeError(
      `${fn}: ${what} needs about ${formatBytes(bytes)} (${bytes} bytes), over the memory budget of ${formatBytes(maxBytes)} (${maxBytes} bytes); raise it with options.maxBytes (default ${GRAPH_CUT_MAX_BYTES}, 8 GiB)`,
    );
  }
}

/** Throws a SegValueError unless `value` is array-like (a typed array, usually). */
export function assertArray(fn: string, arg: string, value: unknown, expected: string): void {
  const ok =
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { length?: unknown }).length === 'number';
  if (!ok) throw new SegValueError(`${fn}: ${arg} is ${describe(value)}, expected ${expected}`);
}

/** Throws a SegRangeError when a problem has more than {@link MAX_NODES} nodes. */
export function assertNodes(fn: string, what: string, n: number): void {
  if (n > MAX_NODES) {
    throw new SegRangeError(
      `${fn}: ${what} is ${n}, expected at most ${MAX_NODES} nodes (2^28: arcs are indexed with int32)`,
    );
  }
}

/** Throws a SegRangeError when a graph has more than {@link MAX_EDGES} edges. */
export function assertEdges(fn: string, m: number): void {
  if (m > MAX_EDGES) {
    throw new SegRangeError(
      `${fn}: from has length ${m}, expected at most ${MAX_EDGES} edges (2^29: arcs are indexed with int32)`,
    );
  }
}

/**
 * `Σ|a_i|`, in one pass; throws the per-entry error of `assertFinite` (or of
 * `assertNonNegative` when `nonNegative`) at the first bad entry.
 */
export function absSum(
  fn: string,
  arg: string,
  a: ArrayLike<number>,
  nonNegative: boolean,
): number {
  let s = 0;
  let neg = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    s += v < 0 ? -v : v; // NaN and ±∞ make s NaN or ∞
    neg += v < 0 ? 1 : 0;
  }
  if (!Number.isFinite(s) || (nonNegative && neg > 0)) {
    if (nonNegative) assertNonNegative(fn, arg, a);
    else assertFinite(fn, arg, a);
  }
  return s;
}

/** Throws a SegValueError unless `total ≤ MAX_TOTAL`. */
export function assertTotal(fn: string, what: string, total: number): void {
  if (!(total <= MAX_TOTAL)) {
    throw new SegValueError(
      `${fn}: ${what} sum to ${total}, expected at most ${MAX_TOTAL} (so that flows, cut costs and energies stay finite)`,
    );
  }
}

/** True for the RangeErrors of a failed allocation (typed arrays, wasm memory). */
export function isAllocationError(e: unknown): e is RangeError {
  return (
    e instanceof RangeError &&
    !(e instanceof SegRangeError) &&
    /allocation failed|Invalid typed array length|Invalid array buffer length|Array buffer|Maximum memory size|Unable to grow|could not allocate|out of memory/i.test(
      e.message,
    )
  );
}

/**
 * Runs `body`; a failed allocation inside becomes a SegRangeError naming the
 * problem (`size()`, built only then) and, if known, the bytes it needed.
 */
export function withMemory<T>(fn: string, size: () => string, body: () => T): T {
  try {
    return body();
  } catch (e) {
    if (!isAllocationError(e)) throw e;
    throw new SegRangeError(`${fn}: out of memory for ${size()} (${e.message})`);
  }
}

/** `1.5 GB`, `12 MB`, ... */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.round(bytes / 1e3)} kB`;
}

/** A short rendering of any value for a message. */
export function describe(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
