/**
 * The permutohedral lattice of Adams, Baek and Davis (Eurographics 2010,
 * "Fast high-dimensional filtering using the permutohedral lattice"), on flat
 * typed arrays: splat → blur → slice, calibrated to the exact Gaussian sum.
 */
import { assertInt, SegShapeError, SegValueError } from '@seg/tensor';
import { checkFinite } from './finite.js';
import { latticeBackend } from './lattice-backend.js';
import { buildLattice, checkLatticeInput, LATTICE_MAX_BYTES } from './lattice-build.js';
import type { LatticeKernels, RawForms } from './lattice-kernels.js';
import { WasmLatticeKernels, type WasmWorkspace } from './wasm/kernels.js';

export { LATTICE_MAX_BYTES };

/** Options of the {@link PermutohedralLattice} constructor. */
export interface LatticeOptions {
  /**
   * Fit the lattice's scale to the exact Gaussian sum at up to 64 evenly
   * spaced points (an O(S·N·d) pass, S = min(N, 64, max(8, 1.5e6/N))). Without
   * it the scale is the dense-limit constant `√(d+1)/2·(π/3)^{d/2}`, exact for
   * points that fill the lattice densely (xy grids) but ~15–20% low on image
   * colours in 5-D, where many lattice vertices on the blur paths are empty.
   * @default true
   */
  calibrate?: boolean;
  /**
   * Where splat / blur / slice run: 'wasm' (WebAssembly SIMD, the default
   * wherever it is available) or 'js' (plain typed-array loops, ~5× slower).
   */
  kernels?: 'wasm' | 'js';
  /**
   * Memory budget of the build in bytes, checked before allocating: before
   * the points are embedded (their part, `4·N·(d + (d+1)·(d+4) + 8)`) and
   * again once the m vertices are counted (`+ 4·m·(4d + 8)`), an upper bound
   * of what the build holds at once. Past it, and for an allocation that
   * fails all the same, a SegRangeError gives N, d, m and the bytes.
   * @default LATTICE_MAX_BYTES (4 GiB, one wasm32 memory)
   */
  maxBytes?: number;
  /** @internal A wasm workspace to hold the lattice (shared with a dense CRF). */
  workspace?: WasmWorkspace;
}

/** Options of {@link PermutohedralLattice.filter}. */
export interface FilterOptions {
  /**
   * Run the blur directions in reverse order. With missing lattice vertices
   * the blurs along different directions do not commute exactly; the reverse
   * filter is then the exact adjoint (transpose) of the forward one, which a
   * backward pass wants.
   * @default false
   */
  reverse?: boolean;
  /**
   * Leave out the self term `j = i`, i.e. compute `Σ_{j≠i} k(f_i,f_j)·v_j`
   * (the messages of mean-field inference).
   * @default false
   */
  excludeSelf?: boolean;
}

/** Options of {@link PermutohedralLattice.quadraticGradient}. */
export interface QuadraticGradientOptions {
  /** `b_k`, one per channel: the factor of `(W + Wᵀ)·v_k`. @default all 1 */
  scale?: ArrayLike<number>;
  /** `a_k`, one per channel: the factor of the degrees `W·1`. @default all 0 */
  degreeScale?: ArrayLike<number>;
  /**
   * Use `2·W·v` for `(W + Wᵀ)·v` (one blur instead of two, as if W were
   * symmetric; the lattice's W is only nearly so where vertices are missing).
   * @default false
   */
  symmetric?: boolean;
}

/**
 * Per-channel quadratic forms of N×c values on a lattice, from
 * {@link PermutohedralLattice.quadraticForms}: `v_kᵀ W v_k` and `(W·1)ᵀ v_k`
 * computed on the lattice's vertices (one splat and one blur, no slice), and
 * per-row sums and the smallest entry for checking the input. It keeps the
 * splat (and a reference to the values) for
 * {@link PermutohedralLattice.quadraticGradient}.
 */
export class LatticeForms {
  /**
   * @internal Use {@link PermutohedralLattice.quadraticForms}.
   */
  constructor(
    /** Channels c. */
    readonly channels: number,
    /** `v_kᵀ W v_k` per channel (float64 sums). */
    readonly quadratic: Float64Array,
    /** `dᵀ v_k` per channel, `d = W·1` the degrees (float64 sums). */
    readonly degree: Float64Array,
    /** `Σ_k v_pk` per row (N). */
    readonly rowSums: Float32Array,
    /** The smallest entry of the values; NaN if any is NaN. */
    readonly min: number,
    /** @internal The values (not copied: unchanged until the gradient). */
    readonly values: Float32Array,
    /** @internal The splat of the values, (vertices+1)×c. */
    readonly splat: Float32Array,
    /** @internal The lattice that made these forms. */
    readonly lattice: PermutohedralLattice,
    /** @internal Whose values and splat the lattice's wasm workspace holds. */
    readonly token: object,
  ) {}
}

/**
 * A permutohedral lattice built once from N points in d dimensions, then used
 * to filter any number of value arrays with the same features.
 *
 * The operator, for features already divided by their σ's:
 * `out_i ≈ Σ_j exp(−½‖f_i − f_j‖²) · v_j`, the sum over all j including i
 * (so a constant input c gives `c·Σ_j k_ij ≥ c`). The lattice's raw
 * splat-blur-slice has a constant scale and replaces the exact self weight
 * 1 by an interpolation-dependent value; both are corrected (see
 * `calibration.ts` and the package README for the resulting error).
 *
 * Layout: features N×d point-major (`f[i*d + k]`), values N×c point-major.
 *
 * @example
 * const lattice = new PermutohedralLattice(bilateralFeatures(img, { sigmaXy: 80, sigmaRgb: 13 }), 5);
 * const out = lattice.filter(q, 21);      // Float32Array N×21
 * lattice.filter(grad, 21, outGrad, { reverse: true });
 */
export class PermutohedralLattice {
  /** Number of points N. */
  readonly numPoints: number;
  /** Feature dimension d. */
  readonly dim: number;
  /** Number of lattice vertices touched by the points. */
  readonly numVertices: number;
  /** The constant scale α of splat-blur-slice. */
  private readonly alpha: number;
  /** Splat / blur / slice on this lattice ('wasm' or 'js', chosen once); null once disposed. */
  private kernels: LatticeKernels | null;

  /**
   * Checks the input, chooses the backend ('wasm' or 'js') once and builds
   * the lattice (lattice-build.ts: embed, hash, neighbours, kernels, calibrate).
   *
   * @param features N×d point-major, finite, already divided by their σ's,
   *   each of magnitude ≤ 2^24 (`MAX_FEATURE`; a little less from d = 13 on).
   * @param dim d ≥ 1.
   */
  constructor(features: Float32Array, dim: number, options: LatticeOptions = {}) {
    const scaleFactor = checkLatticeInput(features, dim);
    const backend = latticeBackend('PermutohedralLattice', options.kernels);
    this.numPoints = features.length / dim;
    this.dim = dim;
    const built = buildLattice(features, dim, scaleFactor, backend, options);
    this.numVertices = built.numVertices;
    this.alpha = built.alpha;
    this.kernels = built.kernels;
  }

  /** The constant α by which the raw splat-blur-slice is multiplied. */
  get scale(): number {
    return this.alpha;
  }

  /**
   * Filters `values` (N×c point-major): `out_i ≈ Σ_j exp(−½‖f_i − f_j‖²)·v_j`.
   *
   * @param values N×c, point-major.
   * @param c channels ≥ 1.
   * @param out optional N×c output (may not alias `values`); allocated if absent.
   * @returns `out`.
   */
  filter(
    values: Float32Array,
    c: number,
    out?: Float32Array,
    options: FilterOptions = {},
  ): Float32Array {
    const fn = 'PermutohedralLattice.filter';
    if (this.disposed) throw new SegValueError(`${fn}: the lattice was disposed`);
    assertInt(fn, 'c', c, 1);
    const n = this.numPoints;
    if (values.length !== n * c) {
      throw new SegShapeError(
        `${fn}: values has length ${values.length}, expected numPoints*c = ${n * c}`,
      );
    }
    const res = out ?? new Float32Array(n * c);
    if (res.length !== n * c) {
      throw new SegShapeError(
        `${fn}: out has length ${res.length}, expected numPoints*c = ${n * c}`,
      );
    }
    if (res === values || (res.buffer === values.buffer && res.byteOffset === values.byteOffset)) {
      throw new SegShapeError(`${fn}: out must not alias values`);
    }
    this.kernels!.filter(
      values,
      c,
      res,
      this.alpha,
      options.reverse === true,
      options.excludeSelf === true,
    );
    return res;
  }

  /**
   * Per-channel quadratic forms of `values` (N×c point-major) under the
   * filter's operator W (`filter(v)` = W·v): `quadratic[k] = v_kᵀ W v_k` and
   * `degree[k] = dᵀ v_k` with `d = W·1`, plus the row sums and the smallest
   * entry. With `W = α·Sᵀ B S + diag(fix)` (S the splat, B the blurs) both are
   * sums over the lattice's vertices (`α·u_kᵀ B u_k + Σ_p fix_p v_pk²`,
   * u = S·v) and over the points, so they cost one splat and one blur: about
   * half a `filter`. The result keeps the splat and a reference to `values`
   * (which must then not change) for {@link PermutohedralLattice.quadraticGradient}.
   *
   * @example
   * const f = lattice.quadraticForms(probs, 21);
   * const cut = f.degree.reduce((a, d, k) => a + d - f.quadratic[k]!, 0); // Σ_k S_kᵀ W (1 − S_k)
   * const grad = lattice.quadraticGradient(f, { scale: new Float64Array(21).fill(-1), degreeScale: new Float64Array(21).fill(1) });
   */
  quadraticForms(values: Float32Array, c: number): LatticeForms {
    const fn = 'PermutohedralLattice.quadraticForms';
    this.checkValues(fn, values, c);
    const token = {};
    const raw: RawForms = this.kernels!.forms(values, c, token);
    const quadratic = new Float64Array(c);
    const degree = new Float64Array(c);
    for (let k = 0; k < c; k++) {
      quadratic[k] = this.alpha * raw.splatBlur[k]! + raw.self[c + k]!;
      degree[k] = this.alpha * raw.splatDegree[k]! + raw.self[k]!;
    }
    const forms = new LatticeForms(
      c,
      quadratic,
      degree,
      raw.rowSums,
      raw.min,
      values,
      raw.splat,
      this,
      token,
    );
    return forms;
  }

  /**
   * The gradient of forms like those of {@link PermutohedralLattice.quadraticForms}:
   * `out_pk = b_k·((W + Wᵀ)·v)_pk + a_k·(W·1)_p` for the values of `forms`
   * (`b` = `scale`, `a` = `degreeScale`). E.g. the gradient of
   * `Σ_k c_k·v_kᵀ W (1 − v_k)` is `b_k = −c_k`, `a_k = c_k`. Costs one blur in
   * each direction (cheap: they run on the vertices) and one slice, with the
   * self term fused: about half a `filter`.
   *
   * @param forms from this lattice's `quadraticForms` (its values unchanged since).
   * @param out optional N×c output; allocated if absent.
   * @returns `out`.
   */
  quadraticGradient(
    forms: LatticeForms,
    options: QuadraticGradientOptions = {},
    out?: Float32Array,
  ): Float32Array {
    const fn = 'PermutohedralLattice.quadraticGradient';
    if (this.disposed) throw new SegValueError(`${fn}: the lattice was disposed`);
    if (!(forms instanceof LatticeForms) || forms.lattice !== this) {
      throw new SegValueError(`${fn}: forms did not come from this lattice's quadraticForms`);
    }
    const c = forms.channels;
    const n = this.numPoints;
    const coef = (name: string, v: ArrayLike<number> | undefined, dflt: number) => {
      const a = new Float64Array(c).fill(dflt);
      if (v === undefined) return a;
      if (v.length !== c) {
        throw new SegShapeError(`${fn}: ${name} has length ${v.length}, expected c = ${c}`);
      }
      for (let k = 0; k < c; k++) a[k] = v[k]!;
      checkFinite(fn, name, a);
      return a;
    };
    const scale = coef('scale', options.scale, 1);
    const degreeScale = coef('degreeScale', options.degreeScale, 0);
    const res = out ?? new Float32Array(n * c);
    if (res.length !== n * c) {
      throw new SegShapeError(
        `${fn}: out has length ${res.length}, expected numPoints*c = ${n * c}`,
      );
    }
    const symmetric = options.symmetric === true;
    this.kernels!.gradient(
      forms.token,
      forms.values,
      forms.splat,
      c,
      this.alpha,
      scale,
      degreeScale,
      symmetric,
      res,
    );
    return res;
  }

  private checkValues(fn: string, values: Float32Array, c: number): void {
    if (this.disposed) throw new SegValueError(`${fn}: the lattice was disposed`);
    assertInt(fn, 'c', c, 1);
    if (!(values instanceof Float32Array)) {
      throw new SegShapeError(`${fn}: values is not a Float32Array`);
    }
    if (values.length !== this.numPoints * c) {
      throw new SegShapeError(
        `${fn}: values has length ${values.length}, expected numPoints*c = ${this.numPoints * c}`,
      );
    }
  }

  /**
   * @internal The filter on N×c arrays inside the lattice's wasm workspace
   * (byte offsets), with no copies; only for lattices built with `workspace`.
   */
  filterInWorkspace(valuesAt: number, outAt: number, c: number, options: FilterOptions = {}): void {
    if (!(this.kernels instanceof WasmLatticeKernels))
      throw new Error('PermutohedralLattice.filterInWorkspace: no wasm workspace');
    this.kernels.filterAt(
      valuesAt,
      outAt,
      c,
      this.alpha,
      options.reverse === true,
      options.excludeSelf === true,
    );
  }

  /**
   * Frees the lattice's memory (its wasm memory goes to the next lattice or
   * dense CRF, held weakly); `filter` throws afterwards.
   */
  dispose(): void {
    this.kernels?.release();
    this.kernels = null;
  }

  private get disposed(): boolean {
    return this.kernels === null;
  }
}
