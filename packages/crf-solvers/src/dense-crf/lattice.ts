/**
 * The permutohedral lattice of Adams, Baek and Davis (Eurographics 2010,
 * "Fast high-dimensional filtering using the permutohedral lattice"), on flat
 * typed arrays: splat → blur → slice, calibrated to the exact Gaussian sum.
 */
import { assertInt, SegShapeError, SegValueError } from '@seg/tensor';
import { denseLimitScale, fitScale, rawSelfWeights } from './calibration.js';
import { elevationScale } from './embed.js';
import { MAX_FEATURE } from './features.js';
import { checkFinite } from './finite.js';
import { latticeBackend } from './lattice-backend.js';
import type { LatticeKernels, RawForms } from './lattice-kernels.js';
import { findNeighbors, hashVertices } from './lattice-vertices.js';
import { WasmLatticeKernels, type WasmWorkspace } from './wasm/kernels.js';

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

const FN = 'PermutohedralLattice';

/**
 * Checks the constructor's features (a Float32Array of N×d finite values
 * within the lattice's int32 range) and dim; returns the elevation scale.
 */
function checkLatticeInput(features: Float32Array, dim: number): Float64Array {
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
   * Builds the lattice in named steps: check the input, choose the backend,
   * embed the points (their enclosing simplices), hash the simplex vertices,
   * find their blur neighbours, hand the arrays to the kernels, calibrate.
   *
   * @param features N×d point-major, finite, already divided by their σ's,
   *   each of magnitude ≤ 2^24 (`MAX_FEATURE`; a little less from d = 13 on).
   * @param dim d ≥ 1.
   */
  constructor(features: Float32Array, dim: number, options: LatticeOptions = {}) {
    const d = dim;
    const scaleFactor = checkLatticeInput(features, d);
    const backend = latticeBackend(FN, options.kernels);
    const n = features.length / d;
    const d1 = d + 1;
    this.numPoints = n;
    this.dim = d;

    const embedding = backend.embed(features, d, scaleFactor);
    const { vertexOf, table } = hashVertices(embedding, n, d);
    const neighbors = findNeighbors(table);
    const m = table.size;
    this.numVertices = m;
    const rawSelf = rawSelfWeights(embedding.bary, n, d1);
    // The raw operator first (α = 1, raw self weights) for the calibration, fixed after.
    const kernels = backend.kernels(
      {
        n,
        d1,
        m,
        vertexOf,
        baryOf: embedding.bary,
        neighbors,
        selfFix: new Float32Array(n),
        negSelf: rawSelf.map((s) => -s),
      },
      options.workspace,
    );
    this.kernels = kernels;

    const alpha0 = denseLimitScale(d);
    let alpha = alpha0;
    if (options.calibrate !== false) {
      const rawOthers = new Float32Array(n);
      kernels.filter(new Float32Array(n).fill(1), 1, rawOthers, 1, false, true);
      alpha *= fitScale(features, d, rawOthers, alpha0);
    }
    this.alpha = alpha;
    kernels.setSelf(...selfFactors(rawSelf, alpha));
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

  /** Frees the lattice's memory; `filter` throws afterwards. */
  dispose(): void {
    this.kernels = null;
  }

  private get disposed(): boolean {
    return this.kernels === null;
  }
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
