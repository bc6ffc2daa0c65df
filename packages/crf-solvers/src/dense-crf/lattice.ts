/**
 * The permutohedral lattice of Adams, Baek and Davis (Eurographics 2010,
 * "Fast high-dimensional filtering using the permutohedral lattice"), on flat
 * typed arrays: splat → blur → slice, calibrated to the exact Gaussian sum.
 */
import { assertInt, SegShapeError, SegValueError } from '@seg/tensor';
import { MAX_FEATURE } from './features.js';
import { checkFinite } from './finite.js';
import {
  embedPoints,
  type RawForms,
  WasmLatticeKernels,
  type WasmWorkspace,
  wasmKernelsAvailable,
} from './wasm/kernels.js';

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
  /** Per point, the d+1 vertex indices it splats to (N×(d+1)). */
  private vertexOf: Int32Array;
  /** Per point, the d+1 barycentric weights (N×(d+1)). */
  private baryOf: Float32Array;
  /** Per direction j (d+1 of them), per vertex: the two neighbours (numVertices = missing). */
  private neighbors: Int32Array;
  /** Per point, `1 − α·s_i`: replaces the lattice's self weight by the exact 1. */
  private readonly selfFix: Float32Array;
  /** Per point, `α·s_i`: the lattice's own estimate of the self term. */
  private readonly selfLattice: Float32Array;
  /** The constant scale α of splat-blur-slice. */
  private readonly alpha: number;
  private wasm: WasmLatticeKernels | null = null;
  private disposed = false;
  private bufA: Float32Array = new Float32Array(0);
  private bufB: Float32Array = new Float32Array(0);
  /** JS path: z = B·splat(1) (vertices+1, last 0), made at the first quadratic form. */
  private zJs: Float32Array | null = null;

  /**
   * @param features N×d point-major, finite, already divided by their σ's,
   *   each of magnitude ≤ 2^24 (`MAX_FEATURE`; a little less from d = 13 on).
   * @param dim d ≥ 1.
   */
  constructor(features: Float32Array, dim: number, options: LatticeOptions = {}) {
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
    const d = dim;
    const d1 = d + 1;
    const n = features.length / d;
    this.numPoints = n;
    this.dim = d;

    // Elevation scale of Adams et al.: the blur is then close to a unit-σ Gaussian.
    const invStd = Math.sqrt(2 / 3) * d1;
    const scaleFactor = new Float64Array(d);
    for (let i = 0; i < d; i++) scaleFactor[i] = invStd / Math.sqrt((i + 1) * (i + 2));
    checkFeatureRange(features, d, scaleFactor);

    const kernels = options.kernels ?? (wasmKernelsAvailable() ? 'wasm' : 'js');
    if (kernels !== 'wasm' && kernels !== 'js') {
      throw new SegValueError(
        `${FN}: options.kernels is ${String(kernels)}, expected 'wasm' or 'js'`,
      );
    }
    const vertexOf = new Int32Array(n * d1);
    let baryOf: Float32Array = new Float32Array(n * d1);
    const table = new KeyTable(d, Math.min(n * d1, 1 << 16));

    const elevated = new Float64Array(d1);
    const rem0 = new Float64Array(d1);
    const rank = new Int32Array(d1);
    const bary = new Float64Array(d + 2);
    const key = new Int32Array(d);
    const prevRem0 = new Float64Array(d1);
    const prevRank = new Int32Array(d1);
    const invD1 = 1 / d1;

    if (kernels === 'wasm') {
      // The same search in wasm (bit-identical: the same f64 operations), then the hashing here.
      const emb = embedPoints(features, d, scaleFactor);
      baryOf = emb.bary;
      const { keys: pk, same } = emb;
      for (let p = 0; p < n; p++) {
        const vo = p * d1;
        if (same[p] === 1) {
          for (let k = 0; k < d1; k++) vertexOf[vo + k] = vertexOf[vo - d1 + k]!;
        } else {
          for (let k = 0; k < d1; k++) vertexOf[vo + k] = table.insertFrom(pk, (vo + k) * d);
        }
      }
    }
    for (let p = 0; kernels === 'js' && p < n; p++) {
      const fo = p * d;
      // Elevate to the hyperplane Σ x = 0 of R^{d+1}.
      let sm = 0;
      for (let j = d; j > 0; j--) {
        const cf = features[fo + j - 1]! * scaleFactor[j - 1]!;
        elevated[j] = sm - j * cf;
        sm += cf;
      }
      elevated[0] = sm;
      // Nearest remainder-0 point and the ranking of the differential.
      let sum = 0;
      for (let i = 0; i < d1; i++) {
        const e = elevated[i]!;
        const v = e * invD1;
        const up = Math.ceil(v) * d1;
        const down = Math.floor(v) * d1;
        const r = up - e < e - down ? up : down;
        rem0[i] = r;
        sum += r / d1;
        rank[i] = 0;
      }
      for (let i = 0; i < d; i++) {
        const di = elevated[i]! - rem0[i]!;
        for (let j = i + 1; j < d1; j++) {
          if (di < elevated[j]! - rem0[j]!) rank[i]!++;
          else rank[j]!++;
        }
      }
      sum = Math.round(sum);
      if (sum > 0) {
        for (let i = 0; i < d1; i++) {
          if (rank[i]! >= d1 - sum) {
            rank[i]! -= d1 - sum;
            rem0[i]! -= d1;
          } else rank[i]! += sum;
        }
      } else if (sum < 0) {
        for (let i = 0; i < d1; i++) {
          if (rank[i]! < -sum) {
            rank[i]! += d1 + sum;
            rem0[i]! += d1;
          } else rank[i]! += sum;
        }
      }
      // Barycentric coordinates.
      for (let k = 0; k <= d1; k++) bary[k] = 0;
      for (let i = 0; i < d1; i++) {
        const t = (elevated[i]! - rem0[i]!) * invD1;
        bary[d - rank[i]!]! += t;
        bary[d1 - rank[i]!]! -= t;
      }
      bary[0]! += 1 + bary[d1]!;
      // The d+1 enclosing vertices: remainder-k points, keyed by their first d coordinates.
      // Neighbouring pixels often share a simplex: then reuse the previous point's vertices.
      const vo = p * d1;
      let same = p > 0;
      for (let i = 0; same && i < d1; i++) {
        if (rem0[i] !== prevRem0[i] || rank[i] !== prevRank[i]) same = false;
      }
      if (same) {
        for (let k = 0; k < d1; k++) {
          vertexOf[vo + k] = vertexOf[vo - d1 + k]!;
          baryOf[vo + k] = bary[k]!;
        }
        continue;
      }
      for (let k = 0; k < d1; k++) {
        for (let i = 0; i < d; i++) {
          key[i] = rem0[i]! + (rank[i]! <= d - k ? k : k - d1);
        }
        vertexOf[vo + k] = table.insert(key);
        baryOf[vo + k] = bary[k]!;
      }
      for (let i = 0; i < d1; i++) {
        prevRem0[i] = rem0[i]!;
        prevRank[i] = rank[i]!;
      }
    }

    const m = table.size;
    this.numVertices = m;
    // Blur neighbours along each lattice direction j: key ± (1,…,1) ∓ (d+1)e_j.
    const neighbors = new Int32Array(d1 * m * 2);
    const keys = table.keys;
    const nk = new Int32Array(d);
    for (let j = 0; j < d1; j++) {
      const base = j * m * 2;
      for (let v = 0; v < m; v++) {
        const ko = v * d;
        for (let i = 0; i < d; i++) nk[i] = keys[ko + i]! - 1;
        if (j < d) nk[j] = keys[ko + j]! + d;
        const a = table.find(nk);
        for (let i = 0; i < d; i++) nk[i] = keys[ko + i]! + 1;
        if (j < d) nk[j] = keys[ko + j]! - d;
        const b = table.find(nk);
        neighbors[base + 2 * v] = a < 0 ? m : a;
        neighbors[base + 2 * v + 1] = b < 0 ? m : b;
      }
    }
    this.vertexOf = vertexOf;
    this.baryOf = baryOf;
    this.neighbors = neighbors;

    // Self weight of the raw operator on a full lattice: vertices k, k' of one simplex
    // differ by |k−k'| = s lattice directions, reached by two blur paths of weights
    // 2^−s and 2^−(d+1−s) (and three for s = 0: 1 + 2·2^−(d+1)).
    const alpha0 = denseLimitScale(d);
    const w = new Float64Array(d1);
    w[0] = 1 + 2 ** -d;
    for (let s = 1; s < d1; s++) w[s] = 2 ** -s + 2 ** -(d1 - s);
    const rawSelf = new Float32Array(n);
    for (let p = 0; p < n; p++) {
      const o = p * d1;
      let s = 0;
      for (let k = 0; k < d1; k++) {
        const bk = baryOf[o + k]!;
        s += bk * bk * w[0]!;
        for (let k2 = k + 1; k2 < d1; k2++) s += 2 * bk * baryOf[o + k2]! * w[k2 - k]!;
      }
      rawSelf[p] = s;
    }
    this.selfFix = new Float32Array(n);
    this.selfLattice = rawSelf;
    this.alpha = 1;
    const negSelf = new Float32Array(n);
    if (kernels === 'wasm') {
      for (let p = 0; p < n; p++) negSelf[p] = -rawSelf[p]!;
      this.wasm = new WasmLatticeKernels(
        n,
        d1,
        m,
        vertexOf,
        baryOf,
        neighbors,
        this.selfFix,
        negSelf,
        options.workspace,
      );
      // The wasm memory holds them now.
      this.vertexOf = new Int32Array(0);
      this.baryOf = new Float32Array(0);
      this.neighbors = new Int32Array(0);
    }
    // Fit the scale with the raw operator (α = 1, raw self weights), then fix both.
    let alpha = alpha0;
    if (options.calibrate !== false) alpha *= this.fitScale(features, alpha0);
    this.alpha = alpha;
    for (let p = 0; p < n; p++) {
      const s = alpha * rawSelf[p]!;
      this.selfLattice[p] = s;
      this.selfFix[p] = 1 - s;
      negSelf[p] = -s;
    }
    this.wasm?.setSelf(this.selfFix, negSelf);
  }

  /** The constant α by which the raw splat-blur-slice is multiplied. */
  get scale(): number {
    return this.alpha;
  }

  /**
   * Least-squares factor κ matching `α0·(raw lattice − raw self)` to the exact
   * `Σ_{j≠i} k_ij` at evenly spaced sample points (while `alpha` is still 1
   * and `selfLattice` holds the raw self weights).
   */
  private fitScale(features: Float32Array, alpha0: number): number {
    const n = this.numPoints;
    const d = this.dim;
    const samples = Math.min(n, 64, Math.max(8, Math.floor(1.5e6 / n)));
    const ones = new Float32Array(n).fill(1);
    const raw = this.filter(ones, 1, undefined, { excludeSelf: true });
    let num = 0;
    let den = 0;
    for (let s = 0; s < samples; s++) {
      const i = Math.floor(((s + 0.5) * n) / samples);
      const fo = i * d;
      let exact = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const jo = j * d;
        let r = 0;
        for (let k = 0; k < d; k++) {
          const t = features[fo + k]! - features[jo + k]!;
          r += t * t;
        }
        // exp(−15) ≈ 3e-7: farther pairs cannot move κ at the precision that matters.
        if (r < 30) exact += Math.exp(-0.5 * r);
      }
      const lat = alpha0 * raw[i]!;
      num += exact * lat;
      den += lat * lat;
    }
    return den > 0 && num > 0 ? num / den : 1;
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
    if (this.wasm !== null) {
      this.wasm.filter(
        values,
        c,
        res,
        this.alpha,
        options.reverse === true,
        options.excludeSelf === true,
      );
      return res;
    }
    const d1 = this.dim + 1;
    const m = this.numVertices;
    const size = (m + 1) * c;
    if (this.bufA.length < size) {
      this.bufA = new Float32Array(size);
      this.bufB = new Float32Array(size);
    }
    const a = this.bufA;
    const b = this.bufB;
    a.fill(0, 0, size);
    b.fill(0, m * c, size); // the zero row stands for missing neighbours

    splat(values, c, n, d1, this.vertexOf, this.baryOf, a);
    const src = this.blurAll(a, b, c, options.reverse === true);
    const fix = options.excludeSelf ? this.selfLattice : this.selfFix;
    slice(
      src,
      values,
      c,
      n,
      d1,
      this.vertexOf,
      this.baryOf,
      this.alpha,
      fix,
      options.excludeSelf === true,
      res,
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
    let raw: RawForms;
    const token = {};
    if (this.wasm !== null) raw = this.wasm.forms(values, c, token);
    else raw = this.formsJs(values, c);
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
    if (this.wasm !== null) {
      this.wasm.gradient(
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
    this.gradientJs(forms, scale, degreeScale, symmetric, res);
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

  /** JS path: blurs `src` ((m+1)×c) along every direction (reversed if asked) into a new array. */
  private blurAllJs(src: Float32Array, c: number, reverse: boolean): Float32Array {
    return this.blurAll(src.slice(), new Float32Array(src.length), c, reverse);
  }

  /**
   * JS path: blurs `a` ((m+1)×c, last row zero) along every direction
   * (reversed if asked), ping-ponging with `b` (its last row zero too);
   * returns whichever of the two holds the result.
   */
  private blurAll(a: Float32Array, b: Float32Array, c: number, reverse: boolean): Float32Array {
    const d1 = this.dim + 1;
    const m = this.numVertices;
    for (let t = 0; t < d1; t++) {
      const j = reverse ? d1 - 1 - t : t;
      blur(a, b, c, m, this.neighbors, j * m * 2);
      const tmp = a;
      a = b;
      b = tmp;
    }
    return a;
  }

  private formsJs(values: Float32Array, c: number): RawForms {
    const n = this.numPoints;
    const d1 = this.dim + 1;
    const m = this.numVertices;
    const u = new Float32Array((m + 1) * c);
    splat(values, c, n, d1, this.vertexOf, this.baryOf, u);
    const bu = this.blurAllJs(u, c, false);
    const z = this.degreeVerticesJs();
    const splatBlur = new Float64Array(c);
    const splatDegree = new Float64Array(c);
    for (let v = 0; v < m; v++) {
      for (let k = 0; k < c; k++) {
        splatBlur[k]! += u[v * c + k]! * bu[v * c + k]!;
        splatDegree[k]! += z[v]! * u[v * c + k]!;
      }
    }
    const self = new Float64Array(2 * c);
    const rowSums = new Float32Array(n);
    let min = Infinity;
    for (let p = 0; p < n; p++) {
      const f = this.selfFix[p]!;
      let s = 0;
      for (let k = 0; k < c; k++) {
        const x = values[p * c + k]!;
        if (!(x >= min) && !Number.isNaN(min)) min = x; // NaN sticks
        s += x;
        self[k]! += f * x;
        self[c + k]! += f * x * x;
      }
      rowSums[p] = s;
    }
    return { splatBlur, splatDegree, self, rowSums, min, splat: u };
  }

  /** JS path: z = B·splat(1), made once. */
  private degreeVerticesJs(): Float32Array {
    if (this.zJs === null) {
      const z0 = new Float32Array(this.numVertices + 1);
      const n = this.numPoints;
      splat(new Float32Array(n).fill(1), 1, n, this.dim + 1, this.vertexOf, this.baryOf, z0);
      this.zJs = this.blurAllJs(z0, 1, false);
    }
    return this.zJs;
  }

  private gradientJs(
    forms: LatticeForms,
    scale: Float64Array,
    degreeScale: Float64Array,
    symmetric: boolean,
    out: Float32Array,
  ): void {
    const c = forms.channels;
    const n = this.numPoints;
    const m = this.numVertices;
    const d1 = this.dim + 1;
    const v1 = this.blurAllJs(forms.splat, c, false);
    const v2 = symmetric ? v1 : this.blurAllJs(forms.splat, c, true);
    const z = this.degreeVerticesJs();
    for (let v = 0; v < m; v++) {
      for (let k = 0; k < c; k++) {
        const o = v * c + k;
        v1[o] = scale[k]! * (v1[o]! + v2[o]!) + degreeScale[k]! * z[v]!;
      }
    }
    const values = forms.values;
    for (let p = 0; p < n; p++) {
      const vo = p * c;
      const o = p * d1;
      for (let k = 0; k < c; k++) out[vo + k] = 0;
      for (let j = 0; j < d1; j++) {
        const w = this.baryOf[o + j]!;
        const bo = this.vertexOf[o + j]! * c;
        for (let k = 0; k < c; k++) out[vo + k]! += w * v1[bo + k]!;
      }
      const f = this.selfFix[p]!;
      for (let k = 0; k < c; k++) {
        // float32 steps as in the wasm slice
        out[vo + k] =
          this.alpha * out[vo + k]! +
          f *
            Math.fround(
              Math.fround(2 * scale[k]!) * values[vo + k]! + Math.fround(degreeScale[k]!),
            );
      }
    }
  }

  /**
   * @internal The filter on N×c arrays inside the lattice's wasm workspace
   * (byte offsets), with no copies; only for lattices built with `workspace`.
   */
  filterInWorkspace(valuesAt: number, outAt: number, c: number, options: FilterOptions = {}): void {
    if (this.wasm === null)
      throw new Error('PermutohedralLattice.filterInWorkspace: no wasm workspace');
    this.wasm.filterAt(
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
    this.bufA = new Float32Array(0);
    this.bufB = new Float32Array(0);
    this.vertexOf = new Int32Array(0);
    this.baryOf = new Float32Array(0);
    this.neighbors = new Int32Array(0);
    this.wasm = null;
    this.disposed = true;
  }
}

/**
 * The scale of splat-blur-slice (blur kernel [½, 1, ½] along each of the d+1
 * directions) in the limit of points filling the lattice: the exact sum
 * `ρ(2π)^{d/2}` over the lattice's `2^{d+1}ρV`, V = (3/2)^{d/2}/√(d+1) the
 * feature-space volume per lattice vertex.
 */
function denseLimitScale(d: number): number {
  return (Math.sqrt(d + 1) / 2) * (Math.PI / 3) ** (d / 2);
}

function splat(
  values: Float32Array,
  c: number,
  n: number,
  d1: number,
  vertexOf: Int32Array,
  baryOf: Float32Array,
  buf: Float32Array,
): void {
  for (let p = 0; p < n; p++) {
    const vo = p * c;
    const o = p * d1;
    for (let k = 0; k < d1; k++) {
      const w = baryOf[o + k]!;
      const bo = vertexOf[o + k]! * c;
      for (let ch = 0; ch < c; ch++) buf[bo + ch]! += w * values[vo + ch]!;
    }
  }
}

function blur(
  src: Float32Array,
  dst: Float32Array,
  c: number,
  m: number,
  nb: Int32Array,
  base: number,
): void {
  for (let v = 0; v < m; v++) {
    const o = v * c;
    const a = nb[base + 2 * v]! * c;
    const b = nb[base + 2 * v + 1]! * c;
    for (let ch = 0; ch < c; ch++) dst[o + ch] = src[o + ch]! + 0.5 * (src[a + ch]! + src[b + ch]!);
  }
}

function slice(
  buf: Float32Array,
  values: Float32Array,
  c: number,
  n: number,
  d1: number,
  vertexOf: Int32Array,
  baryOf: Float32Array,
  alpha: number,
  fix: Float32Array,
  subtract: boolean,
  out: Float32Array,
): void {
  for (let p = 0; p < n; p++) {
    const vo = p * c;
    const o = p * d1;
    for (let ch = 0; ch < c; ch++) out[vo + ch] = 0;
    for (let k = 0; k < d1; k++) {
      const w = baryOf[o + k]!;
      const bo = vertexOf[o + k]! * c;
      for (let ch = 0; ch < c; ch++) out[vo + ch]! += w * buf[bo + ch]!;
    }
    const f = subtract ? -fix[p]! : fix[p]!;
    for (let ch = 0; ch < c; ch++) out[vo + ch] = alpha * out[vo + ch]! + f * values[vo + ch]!;
  }
}

/** Open-addressing hash table from d-int keys to dense vertex indices. */
class KeyTable {
  keys: Int32Array;
  size = 0;
  private slots: Int32Array;
  private mask: number;
  private capacity: number;
  constructor(
    private readonly d: number,
    capacity: number,
  ) {
    this.capacity = Math.max(16, capacity);
    this.keys = new Int32Array(this.capacity * d);
    let t = 32;
    while (t < this.capacity * 2) t *= 2;
    this.slots = new Int32Array(t).fill(-1);
    this.mask = t - 1;
  }

  private hash(src: Int32Array, off: number): number {
    let h = 0;
    const d = this.d;
    for (let i = 0; i < d; i++) h = Math.imul(h + src[off + i]!, 2531011);
    return (h ^ (h >>> 15)) & this.mask;
  }

  find(key: Int32Array): number {
    const d = this.d;
    const keys = this.keys;
    const slots = this.slots;
    let h = this.hash(key, 0);
    for (;;) {
      const s = slots[h]!;
      if (s < 0) return -1;
      const o = s * d;
      let eq = true;
      for (let i = 0; i < d; i++) {
        if (keys[o + i] !== key[i]) {
          eq = false;
          break;
        }
      }
      if (eq) return s;
      h = (h + 1) & this.mask;
    }
  }

  insert(key: Int32Array): number {
    return this.insertFrom(key, 0);
  }

  /** Inserts the key `src[off .. off+d)` if absent; returns its index. */
  insertFrom(src: Int32Array, off: number): number {
    const d = this.d;
    let keys = this.keys;
    const slots = this.slots;
    let h = this.hash(src, off);
    for (;;) {
      const s = slots[h]!;
      if (s < 0) break;
      const o = s * d;
      let eq = true;
      for (let i = 0; i < d; i++) {
        if (keys[o + i] !== src[off + i]) {
          eq = false;
          break;
        }
      }
      if (eq) return s;
      h = (h + 1) & this.mask;
    }
    const idx = this.size++;
    if (idx < this.capacity) {
      for (let i = 0; i < d; i++) keys[idx * d + i] = src[off + i]!;
      slots[h] = idx;
      return idx;
    }
    this.grow();
    keys = this.keys;
    for (let i = 0; i < d; i++) keys[idx * d + i] = src[off + i]!;
    h = this.hash(src, off);
    while (this.slots[h]! >= 0) h = (h + 1) & this.mask;
    this.slots[h] = idx;
    return idx;
  }

  private grow(): void {
    const d = this.d;
    this.capacity *= 2;
    const keys = new Int32Array(this.capacity * d);
    keys.set(this.keys);
    this.keys = keys;
    const t = this.slots.length * 2;
    this.slots = new Int32Array(t).fill(-1);
    this.mask = t - 1;
    for (let s = 0; s < this.size - 1; s++) {
      let h = this.hash(keys, s * d);
      while (this.slots[h]! >= 0) h = (h + 1) & this.mask;
      this.slots[h] = s;
    }
  }
}
