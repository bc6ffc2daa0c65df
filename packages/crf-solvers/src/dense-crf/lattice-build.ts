/**
 * Building a permutohedral lattice, step by step: check the input, check the
 * memory budget, embed the points (their enclosing simplices), hash the
 * simplex vertices, find their blur neighbours, hand the arrays to the
 * backend's kernels, calibrate the scale and the self weights.
 */
import { assertInt, assertNumber, SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import { formatBytes, withMemory } from '../bounds.js';
import { denseLimitScale, fitScale, rawSelfWeights } from './calibration.js';
import { elevationScale } from './embed.js';
import { MAX_FEATURE } from './features.js';
import { checkFinite } from './finite.js';
import type { LatticeBackend } from './lattice-backend.js';
import type { LatticeKernels } from './lattice-kernels.js';
import type { WasmWorkspace } from './wasm/kernels.js';

const FN = 'PermutohedralLattice';

/**
 * Default memory budget of a lattice build (`LatticeOptions.maxBytes`):
 * 4 GiB, what one wasm32 memory holds. The build's bytes are bounded by
 * `4·N·(d + (d+1)·(d+4) + 8)` for N points in d dimensions plus
 * `4·m·(4d + 8)` for its m vertices.
 */
export const LATTICE_MAX_BYTES = 2 ** 32;

/**
 * Bytes a lattice build takes at most for N points in d dimensions with m
 * vertices (m unknown before hashing: pass 0 for the points' part alone).
 * Per point: the features and the embedding (barycentric weights, d+1 vertex
 * keys of d int32s), the vertex indices and their copies in the kernels,
 * the self weights: `4·(d + (d+1)·(d + 4) + 8)` bytes. Per vertex: its key
 * in the hash table (grown by doubling) and its slots, its 2(d+1)
 * neighbours, two float rows of the calibration's filter:
 * `4·(2d + 4 + 2(d+1) + 2)` bytes.
 */
export function latticeBytes(n: number, d: number, m: number): number {
  const d1 = d + 1;
  return 4 * n * (d + d1 * (d + 4) + 8) + 4 * m * (2 * d + 4 + 2 * d1 + 2);
}

/** The options of a build (see LatticeOptions). */
export interface BuildOptions {
  calibrate?: boolean;
  maxBytes?: number;
  workspace?: WasmWorkspace;
}

/** A built lattice: its vertex count, its scale α and the kernels holding its arrays. */
export interface BuiltLattice {
  numVertices: number;
  alpha: number;
  kernels: LatticeKernels;
}

/**
 * Checks the constructor's features (a Float32Array of N×d finite values
 * within the lattice's int32 range) and dim; returns the elevation scale.
 */
export function checkLatticeInput(features: Float32Array, dim: number): Float64Array {
  assertInt(FN, 'dim', dim, 1);
  if (!(features instanceof Float32Array)) {
    throw new SegShapeError(`${FN}: features is not a Float32Array`);
  }
  if (features.length === 0 || features.length % dim !== 0) {
    throw new SegShapeError(
      `${FN}: features has length ${features.length}, expected a positive multiple of dim = ${dim}`,
    );
  }
  checkFinite(FN, 'features', features);
  const scaleFactor = elevationScale(dim);
  checkFeatureRange(features, dim, scaleFactor);
  return scaleFactor;
}

/**
 * Throws a SegValueError at the first feature whose magnitude passes
 * {@link MAX_FEATURE} (2^24) or, for large d, the bound under which the
 * elevated coordinates (`|e_j| ≤ F·(Σ_i s_i + d·s_0)`, rounded to multiples
 * of d+1) fit in int32: past it the wasm kernels trap ("float unrepresentable
 * in integer range") and the js ones wrap keys into the wrong vertices.
 */
function checkFeatureRange(features: Float32Array, d: number, scaleFactor: Float64Array): void {
  let factor = d * scaleFactor[0]!;
  for (let i = 0; i < d; i++) factor += scaleFactor[i]!;
  const limit = Math.min(MAX_FEATURE, Math.floor((2 ** 31 - 1 - 4 * (d + 1)) / factor));
  let max = 0;
  for (let i = 0; i < features.length; i++) {
    const v = features[i]!;
    const a = v < 0 ? -v : v;
    if (a > max) max = a;
  }
  if (max <= limit) return;
  const i = features.findIndex((v) => Math.abs(v) > limit);
  throw new SegValueError(
    `${FN}: features[${i}] is ${features[i]}, expected |f| ≤ ${limit} for dim ${d} (the lattice's coordinates are int32: divide by a larger σ)`,
  );
}

/** The budget of `options.maxBytes` (default {@link LATTICE_MAX_BYTES}), checked. */
export function checkMaxBytes(maxBytes: number | undefined): number {
  if (maxBytes === undefined) return LATTICE_MAX_BYTES;
  assertNumber(FN, 'options.maxBytes', maxBytes, 0);
  return maxBytes;
}

/** `N points in d dimensions` (`, m lattice vertices` once known): the size in a message. */
function describeLattice(n: number, d: number, m: number): string {
  const vertices = m > 0 ? ` with ${m} lattice vertices` : '';
  return `a lattice of ${n} points in ${d} dimensions${vertices}`;
}

/** Throws a SegRangeError when the build would pass its budget. */
function checkBudget(n: number, d: number, m: number, maxBytes: number): void {
  const bytes = latticeBytes(n, d, m);
  if (bytes <= maxBytes) return;
  throw new SegRangeError(
    `${FN}: ${describeLattice(n, d, m)} needs up to ${formatBytes(bytes)} (${bytes} bytes), more than options.maxBytes = ${maxBytes} (filter fewer points, or raise maxBytes)`,
  );
}

/**
 * Builds the lattice of `features` (checked by {@link checkLatticeInput})
 * with `backend`. The memory budget is checked before the points are
 * embedded and again once the vertices are counted; an allocation that
 * fails all the same (a typed array, a wasm memory that cannot grow)
 * becomes a SegRangeError giving the lattice's size.
 */
export function buildLattice(
  features: Float32Array,
  d: number,
  scaleFactor: Float64Array,
  backend: LatticeBackend,
  options: BuildOptions,
): BuiltLattice {
  const n = features.length / d;
  const maxBytes = checkMaxBytes(options.maxBytes);
  checkBudget(n, d, 0, maxBytes);
  let m = 0;
  const size = () =>
    `${describeLattice(n, d, m)} (up to ${formatBytes(latticeBytes(n, d, m))} with the vertices counted so far)`;
  return withMemory(FN, size, () => {
    const vertices = backend.vertices(features, d, scaleFactor);
    const { bary, vertexOf } = vertices;
    m = vertices.m;
    checkBudget(n, d, m, maxBytes);
    const neighbors = vertices.neighbors();
    const rawSelf = rawSelfWeights(bary, n, d + 1);
    // The raw operator first (α = 1, raw self weights) for the calibration, fixed after.
    const kernels = backend.kernels(
      {
        n,
        d1: d + 1,
        m,
        vertexOf,
        baryOf: bary,
        neighbors,
        selfFix: new Float32Array(n),
        negSelf: negated(rawSelf),
      },
      options.workspace,
    );
    const alpha0 = denseLimitScale(d);
    let alpha = alpha0;
    if (options.calibrate !== false) {
      const rawOthers = new Float32Array(n);
      kernels.filter(new Float32Array(n).fill(1), 1, rawOthers, 1, false, true);
      alpha *= fitScale(features, d, rawOthers, alpha0);
    }
    kernels.setSelf(...selfFactors(rawSelf, alpha));
    return { numVertices: m, alpha, kernels };
  });
}

/** `−a`, a new array. */
function negated(a: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = -a[i]!;
  return out;
}

/**
 * The per-point self factors of the calibrated operator: `1 − α·s_p` (the
 * exact self weight 1 in place of the lattice's `α·s_p`) and `−α·s_p`
 * (`excludeSelf`), from the raw self weights `s_p`.
 */
function selfFactors(rawSelf: Float32Array, alpha: number): [Float32Array, Float32Array] {
  const n = rawSelf.length;
  const selfFix = new Float32Array(n);
  const negSelf = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const s = alpha * rawSelf[p]!;
    selfFix[p] = 1 - s;
    negSelf[p] = -s;
  }
  return [selfFix, negSelf];
}
