/**
 * What the permutohedral lattice needs from a backend: the embedding of the
 * points (the simplex search) and the splat / blur / slice kernels on the
 * built lattice. Two backends give them, chosen once per lattice
 * (lattice-backend.ts): WebAssembly SIMD (wasm/kernels.ts) and plain
 * typed-array loops (js-kernels.ts, embed.ts), with the same results.
 */

/** Each point's enclosing simplex and its vertex keys, from the js backend's simplex search (embed.ts). */
export interface Embedding {
  /** Barycentric weights, N×(d+1). */
  bary: Float32Array;
  /** Vertex keys, N×(d+1)×d: point p's k-th vertex at `(p·(d+1) + k)·d` (only where `same[p] = 0`). */
  keys: Int32Array;
  /** 1 where point p lies in the same simplex as point p − 1 (its keys are then not written). */
  same: Int32Array;
}

/** The built lattice a backend's kernels run on. */
export interface LatticeArrays {
  /** Points N. */
  n: number;
  /** d + 1. */
  d1: number;
  /** Vertices m. */
  m: number;
  /** Per point, its d+1 vertex indices (N×(d+1)). */
  vertexOf: Int32Array;
  /** Per point, its d+1 barycentric weights (N×(d+1)). */
  baryOf: Float32Array;
  /** Per direction j, per vertex, the two blur neighbours ((d+1)×m×2; m = missing). */
  neighbors: Int32Array;
  /** Per point, the self-term factor of `filter` (`1 − α·s_p`). */
  selfFix: Float32Array;
  /** Per point, the self-term factor of `filter` with `excludeSelf` (`−α·s_p`). */
  negSelf: Float32Array;
}

/** What {@link LatticeKernels.forms} computes (see PermutohedralLattice.quadraticForms). */
export interface RawForms {
  /** Per channel `Σ_v u_vk·(B u)_vk` (raw lattice part of `v_kᵀ W v_k`, before α). */
  splatBlur: Float64Array;
  /** Per channel `Σ_v z_v·u_vk`, z = B·splat(1) (raw lattice part of `(W·1)ᵀ v_k`). */
  splatDegree: Float64Array;
  /** Per channel `Σ_p fix_p·v_pk` then `Σ_p fix_p·v_pk²` (2c). */
  self: Float64Array;
  rowSums: Float32Array;
  min: number;
  /** The splat u, (m+1)×c (row m zero), for a later gradient. */
  splat: Float32Array;
}

/**
 * Splat / blur / slice on a built lattice (`W = α·Sᵀ B S + diag(fix)`, S the
 * splat, B the d+1 blurs), with the arguments checked by the lattice.
 */
export interface LatticeKernels {
  /** Replaces the per-point self factors (`1 − α·s_p` and `−α·s_p`). */
  setSelf(selfFix: Float32Array, negSelf: Float32Array): void;
  /** Frees what the kernels hold (a wasm workspace of their own goes to the next lattice or CRF). */
  release(): void;
  /** `out = W·values` (N×c), or `(W − I)·values` with `excludeSelf`; blurs reversed with `reverse`. */
  filter(
    values: Float32Array,
    c: number,
    out: Float32Array,
    alpha: number,
    reverse: boolean,
    excludeSelf: boolean,
  ): void;
  /** The raw parts of the quadratic forms; remembers `values` and the splat under `token`. */
  forms(values: Float32Array, c: number, token: object): RawForms;
  /**
   * `out = b_k·((W + Wᵀ)·v)_pk + a_k·(W·1)_p` (`symmetric`: `2·W·v` for
   * `(W + Wᵀ)·v`) for the values and splat of the forms of `token`.
   */
  gradient(
    token: object,
    values: Float32Array,
    splat: Float32Array,
    c: number,
    alpha: number,
    scale: Float64Array,
    degreeScale: Float64Array,
    symmetric: boolean,
    out: Float32Array,
  ): void;
}
