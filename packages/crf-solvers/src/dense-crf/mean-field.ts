/**
 * Dense CRF mean-field inference (Krähenbühl & Koltun, NIPS 2011) with
 * Gaussian kernels filtered by the permutohedral lattice; the API follows
 * pydensecrf's `DenseCRF2D`, with site-major unaries.
 */
import {
  assertFinite,
  assertInt,
  assertLength,
  assertNumber,
  type RgbImage,
  SegRangeError,
  SegShapeError,
  SegValueError,
} from '@seg/tensor';
import { formatBytes, withMemory } from '../bounds.js';
import { bilateralFeatures, checkFeatureSigma, spatialFeatures } from './features.js';
import { exactGaussianFilter } from './filter.js';
import { checkFinite } from './finite.js';
import { PermutohedralLattice } from './lattice.js';
import {
  giveBackWorkspace,
  takeWorkspace,
  type WasmWorkspace,
  wasmKernelsAvailable,
} from './wasm/kernels.js';

/**
 * Label compatibility μ of a pairwise term. A number w is Potts, as in
 * pydensecrf: μ(l, l') = w·[l ≠ l'] (equivalently a reward w for equal
 * labels). A K×K row-major array is a cost matrix μ(l, l'), symmetrised as
 * pydensecrf does (½(μ + μᵀ)).
 */
export type Compatibility = number | ArrayLike<number>;

/**
 * Kernel normalisation, as pydensecrf's `NORMALIZE_SYMMETRIC` and none:
 * 'symmetric' uses `k(p,q)/√(S_p·S_q)` with `S_p = Σ_q k(p,q)` (q = p
 * included); 'none' the raw kernel.
 */
export type KernelNormalization = 'symmetric' | 'none';

/** Options shared by every pairwise term. */
export interface PairwiseOptions {
  /** Label compatibility; see {@link Compatibility}. */
  compat?: Compatibility;
  /** @default 'symmetric' */
  normalization?: KernelNormalization;
}

/** The smoothness kernel `exp(−‖x_p − x_q‖²/2·sxy²)`. */
export interface PairwiseGaussianOptions extends PairwiseOptions {
  /** Spatial σ in pixels, ≥ max(width, height)/2^24. @default 3 */
  sxy?: number;
  /** @default 3 */
  compat?: Compatibility;
}

/** The appearance kernel `exp(−‖x_p − x_q‖²/2·sxy² − ‖I_p − I_q‖²/2·srgb²)`. */
export interface PairwiseBilateralOptions extends PairwiseOptions {
  /** Spatial σ in pixels, ≥ max(width, height)/2^24. @default 80 */
  sxy?: number;
  /**
   * Colour σ in 0–255 units, ≥ 255/2^24 ≈ 1.52e-5 (smaller σ's overflow the
   * lattice's int32 coordinates; refused on every path, 'exact' included).
   * @default 13
   */
  srgb?: number;
  /** The image, width×height of the CRF. */
  rgbim: RgbImage;
  /** @default 10 */
  compat?: Compatibility;
}

/** Options of {@link DenseCrf}. */
export interface DenseCrfOptions {
  /**
   * 'lattice' (the permutohedral approximation) or 'exact' (the O(N²) sum,
   * for small N and tests).
   * @default 'lattice'
   */
  filter?: 'lattice' | 'exact';
  /**
   * Where the row operations (scaling, message accumulation, softmax) and the
   * lattice run: 'wasm' (SIMD; the default where available) or 'js'.
   */
  kernels?: 'wasm' | 'js';
}

interface Kernel {
  /** out_p = Σ_{q≠p} k(p,q)·v_q. */
  filterOthers(values: Float32Array, c: number, out: Float32Array): void;
  /** The same on arrays in the CRF's wasm workspace (byte offsets), when the kernel lives there. */
  filterOthersAt?(valuesAt: number, outAt: number, c: number): void;
}

class LatticeKernel implements Kernel {
  constructor(
    private readonly lattice: PermutohedralLattice,
    inWorkspace: boolean,
  ) {
    if (inWorkspace) {
      this.filterOthersAt = (valuesAt, outAt, c) =>
        this.lattice.filterInWorkspace(valuesAt, outAt, c, { excludeSelf: true });
    }
  }
  filterOthersAt?: (valuesAt: number, outAt: number, c: number) => void;
  filterOthers(values: Float32Array, c: number, out: Float32Array): void {
    this.lattice.filter(values, c, out, { excludeSelf: true });
  }
}

class ExactKernel implements Kernel {
  constructor(
    private readonly features: Float32Array,
    private readonly d: number,
  ) {}
  filterOthers(values: Float32Array, c: number, out: Float32Array): void {
    const full = exactGaussianFilter(this.features, this.d, values, c);
    for (let i = 0; i < out.length; i++) out[i] = full[i]! - values[i]!;
  }
}

interface Term {
  kernel: Kernel;
  /** 1/√S_p for 'symmetric', 1 for 'none'. */
  norm: Float32Array;
  /** Byte offset of `norm` in the wasm workspace (−1 on the js path). */
  normAt: number;
  /** Potts weight, or NaN when `matrix` is used. */
  potts: number;
  matrix: Float32Array | null;
}

/**
 * A dense CRF on a width×height image with K labels:
 * `E(x) = Σ_p ψ_u(p, x_p) + Σ_m Σ_{p<q} μ_m(x_p, x_q)·k̃_m(p, q)`,
 * solved approximately by parallel mean-field updates
 * `Q_p(l) ∝ exp(−ψ_u(p,l) − Σ_m Σ_{l'} μ_m(l,l') Σ_{q≠p} k̃_m(p,q) Q_q(l'))`.
 * Messages exclude q = p exactly.
 *
 * @example
 * const crf = new DenseCrf(img.width, img.height, 21);
 * crf.setUnaryEnergy(unary);                 // N×K, −log p, site-major
 * crf.addPairwiseGaussian({ sxy: 3, compat: 3 });
 * crf.addPairwiseBilateral({ sxy: 80, srgb: 13, rgbim: img, compat: 10 });
 * const q = crf.inference(5);                // N×K Float32Array
 * const labels = crf.map(5);                 // Int32Array
 */
export class DenseCrf {
  /** Number of sites N = width·height. */
  readonly numSites: number;
  /** The unary on the js path (on the wasm path it lives in the workspace only). */
  private unary: Float32Array | null = null;
  private hasUnary = false;
  private disposed = false;
  private readonly terms: Term[] = [];
  private readonly exact: boolean;
  private readonly ws: WasmWorkspace | null;
  private scratchIn: Float32Array;
  private scratchOut: Float32Array;
  private logits: Float32Array;
  /** Byte offsets in `ws` of unary, logits, q, input, msg and the all −1 row scale. */
  private at = { unary: 0, logits: 0, q: 0, input: 0, msg: 0, minus: 0 };

  constructor(
    readonly width: number,
    readonly height: number,
    readonly numLabels: number,
    options: DenseCrfOptions = {},
  ) {
    const fn = 'DenseCrf';
    assertInt(fn, 'width', width, 1);
    assertInt(fn, 'height', height, 1);
    assertInt(fn, 'numLabels', numLabels, 2);
    const filter = options.filter ?? 'lattice';
    if (filter !== 'lattice' && filter !== 'exact') {
      throw new SegValueError(
        `${fn}: options.filter is ${String(filter)}, expected 'lattice' or 'exact'`,
      );
    }
    this.exact = filter === 'exact';
    const kernels = options.kernels ?? (wasmKernelsAvailable() ? 'wasm' : 'js');
    if (kernels !== 'wasm' && kernels !== 'js') {
      throw new SegValueError(
        `${fn}: options.kernels is ${String(kernels)}, expected 'wasm' or 'js'`,
      );
    }
    this.kernels = kernels;
    this.numSites = width * height;
    const n = this.numSites;
    const nk = n * numLabels;
    // wasm32 memory holds at most 4 GiB: the N×K arrays alone must fit
    const bytes = 4 * (5 * nk + n * 40 + 2 * nk);
    if (kernels === 'wasm' && bytes > 2 ** 32) {
      throw new SegRangeError(
        `${fn}: a ${width}×${height} dense CRF with ${numLabels} labels needs about ${formatBytes(bytes)} of wasm memory, more than the 4 GiB a wasm32 instance holds (split the image, or use fewer labels)`,
      );
    }
    if (kernels === 'wasm') {
      // Room for the N×K arrays and two lattices (typical sizes), taken in one grow.
      const ws = this.mem(fn, () => takeWorkspace(bytes));
      this.ws = ws;
      this.at = {
        unary: ws.alloc(nk),
        logits: ws.alloc(nk),
        q: ws.alloc(nk),
        input: ws.alloc(nk),
        msg: ws.alloc(nk),
        minus: ws.alloc(n),
      };
      ws.view(this.at.minus, n).fill(-1);
      this.scratchIn = this.scratchOut = this.logits = new Float32Array(0);
    } else {
      this.ws = null;
      [this.scratchIn, this.scratchOut, this.logits] = this.mem(fn, () => [
        new Float32Array(nk),
        new Float32Array(nk),
        new Float32Array(nk),
      ]);
    }
  }

  private readonly kernels: 'wasm' | 'js';

  /** Runs `body`; a failed allocation (wasm memory that cannot grow, a typed array) becomes a SegRangeError giving the CRF's size. */
  private mem<T>(fn: string, body: () => T): T {
    return withMemory(
      fn,
      () => {
        const wasm = this.ws
          ? `, wasm memory at ${formatBytes(this.ws.ex.memory.buffer.byteLength)}`
          : '';
        return `a ${this.width}×${this.height} dense CRF with ${this.numLabels} labels and ${this.terms.length} kernels (N·K = ${this.numSites * this.numLabels}${wasm})`;
      },
      body,
    );
  }

  /** Sets the unary ψ_u: N×K site-major (`[p*K + l]`), finite (e.g. −log p). The array is copied. */
  setUnaryEnergy(unary: Float32Array): void {
    const fn = 'DenseCrf.setUnaryEnergy';
    this.checkLive(fn);
    assertLength(fn, 'unary', unary, this.numSites * this.numLabels, 'width*height*numLabels');
    checkFinite(fn, 'unary', unary);
    if (this.ws !== null) this.ws.view(this.at.unary, unary.length).set(unary);
    else this.unary = new Float32Array(unary);
    this.hasUnary = true;
  }

  /** Adds the smoothness kernel on pixel positions (pydensecrf defaults sxy 3, compat 3). */
  addPairwiseGaussian(options: PairwiseGaussianOptions = {}): void {
    const fn = 'DenseCrf.addPairwiseGaussian';
    this.checkLive(fn);
    const sxy = options.sxy ?? 3;
    assertNumber(fn, 'sxy', sxy, Number.MIN_VALUE);
    const extent = Math.max(this.width, this.height);
    checkFeatureSigma(fn, 'sxy', sxy, extent, `max(width, height) = ${extent}`);
    const compat = this.checkCompat(fn, options.compat ?? 3);
    const features = spatialFeatures(this.width, this.height, sxy);
    this.addTerm(fn, features, 2, compat, options.normalization);
  }

  /** Adds the appearance kernel on positions and colours (pydensecrf defaults sxy 80, srgb 13, compat 10). */
  addPairwiseBilateral(options: PairwiseBilateralOptions): void {
    const fn = 'DenseCrf.addPairwiseBilateral';
    this.checkLive(fn);
    const img = options?.rgbim;
    if (!img || img.width !== this.width || img.height !== this.height) {
      const got = img ? `${img.width}×${img.height}` : String(img);
      throw new SegShapeError(
        `${fn}: rgbim is ${got}, expected ${this.width}×${this.height} (the CRF's width×height)`,
      );
    }
    const sxy = options.sxy ?? 80;
    const srgb = options.srgb ?? 13;
    assertNumber(fn, 'sxy', sxy, Number.MIN_VALUE);
    assertNumber(fn, 'srgb', srgb, Number.MIN_VALUE);
    // the lattice's int32 coordinates (wasm traps, js wraps) bound the features: ≤ 2^24
    const extent = Math.max(this.width, this.height);
    checkFeatureSigma(fn, 'sxy', sxy, extent, `max(width, height) = ${extent}`);
    checkFeatureSigma(fn, 'srgb', srgb, 255, '255');
    const compat = this.checkCompat(fn, options.compat ?? 10);
    const features = bilateralFeatures(img, { sigmaXy: sxy, sigmaRgb: srgb });
    this.addTerm(fn, features, 5, compat, options.normalization);
  }

  /**
   * Adds a Gaussian kernel `exp(−½‖f_p − f_q‖²)` on any features (N×d
   * point-major, already divided by their σ's), as pydensecrf's `addPairwiseEnergy`.
   */
  addPairwiseEnergy(features: Float32Array, d: number, options: PairwiseOptions = {}): void {
    const fn = 'DenseCrf.addPairwiseEnergy';
    this.checkLive(fn);
    assertInt(fn, 'd', d, 1);
    assertLength(fn, 'features', features, this.numSites * d, 'width*height*d');
    checkFinite(fn, 'features', features);
    const compat = this.checkCompat(fn, options.compat ?? 1);
    this.addTerm(fn, Float32Array.from(features), d, compat, options.normalization);
  }

  /** Q⁰ = softmax(−ψ_u), N×K. */
  startInference(): Float32Array {
    const unary = this.requireUnary('DenseCrf.startInference');
    const q = new Float32Array(unary.length);
    const ws = this.ws;
    if (ws !== null) {
      this.wasmStart();
      q.set(ws.view(this.at.q, q.length));
      return q;
    }
    for (let i = 0; i < unary.length; i++) this.logits[i] = -unary[i]!;
    softmaxRows(this.logits, this.numLabels, q);
    return q;
  }

  /** One parallel mean-field update of `q` (N×K), in place. */
  stepInference(q: Float32Array): void {
    const fn = 'DenseCrf.stepInference';
    const unary = this.requireUnary(fn);
    assertLength(fn, 'q', q, unary.length, 'width*height*numLabels');
    const ws = this.ws;
    if (ws !== null) {
      ws.view(this.at.q, q.length).set(q);
      this.wasmStep();
      q.set(ws.view(this.at.q, q.length));
      return;
    }
    this.pairwiseCost(q, this.logits);
    const logits = this.logits;
    for (let i = 0; i < logits.length; i++) logits[i] = -unary[i]! - logits[i]!;
    softmaxRows(logits, this.numLabels, q);
  }

  /**
   * Runs `iterations` mean-field updates from softmax(−ψ_u).
   * @returns Q, N×K site-major, each row on the simplex.
   */
  inference(iterations: number): Float32Array {
    assertInt('DenseCrf.inference', 'iterations', iterations, 0);
    this.requireUnary('DenseCrf.inference');
    return this.mem('DenseCrf.inference', () => this.infer(iterations));
  }

  private infer(iterations: number): Float32Array {
    const ws = this.ws;
    if (ws === null) {
      const q = this.startInference();
      for (let it = 0; it < iterations; it++) this.stepInference(q);
      return q;
    }
    this.wasmStart();
    for (let it = 0; it < iterations; it++) this.wasmStep();
    return ws.view(this.at.q, this.numSites * this.numLabels).slice();
  }

  /** Q (in the workspace) = softmax(−ψ_u). */
  private wasmStart(): void {
    const ws = this.ws!;
    const { n, k } = { n: this.numSites, k: this.numLabels };
    ws.ex.scaleRows(this.at.unary, this.at.minus, this.at.logits, n, k);
    ws.ex.softmaxRows(this.at.logits, this.at.q, n, k);
  }

  /** One update of the workspace's Q. */
  private wasmStep(): void {
    const ws = this.ws!;
    const n = this.numSites;
    const k = this.numLabels;
    const nk = n * k;
    const at = this.at;
    ws.ex.scaleRows(at.unary, at.minus, at.logits, n, k);
    for (const term of this.terms) {
      ws.ex.scaleRows(at.q, term.normAt, at.input, n, k);
      if (term.kernel.filterOthersAt) term.kernel.filterOthersAt(at.input, at.msg, k);
      else term.kernel.filterOthers(ws.view(at.input, nk), k, ws.view(at.msg, nk));
      if (term.matrix === null) {
        ws.ex.addScaledRows(at.logits, at.msg, term.normAt, term.potts, n, k);
      } else {
        addMatrixMessages(
          ws.view(at.logits, nk),
          ws.view(at.msg, nk),
          term.norm,
          term.matrix,
          n,
          k,
          -1,
        );
      }
    }
    ws.ex.softmaxRows(at.logits, at.q, n, k);
  }

  /**
   * Frees the CRF: every method throws afterwards. Its wasm memory goes to
   * the next DenseCrf (held weakly, so the GC may free it first), which
   * then skips mapping fresh pages (~60 ms at 500×375 with 21 labels).
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.terms.length = 0;
    this.unary = null;
    if (this.ws !== null) giveBackWorkspace(this.ws);
  }

  private checkLive(fn: string): void {
    if (this.disposed) throw new SegValueError(`${fn}: the dense CRF was disposed`);
  }

  /** The labels maximising Q after `iterations` updates (pydensecrf's `map`). */
  map(iterations = 5): Int32Array {
    const q = this.inference(iterations);
    return argmaxRows(q, this.numLabels);
  }

  /**
   * The mean-field free energy `Σ Q ψ_u + ½ Σ_p Σ_l Q_p(l)·pair_p(l) + Σ Q log Q`,
   * i.e. KL(Q‖P) − log Z (the constant log Z left out, as in pydensecrf).
   */
  klDivergence(q: Float32Array): number {
    const fn = 'DenseCrf.klDivergence';
    this.requireUnary(fn);
    assertLength(fn, 'q', q, this.numSites * this.numLabels, 'width*height*numLabels');
    const pair = new Float32Array(q.length);
    this.pairwiseCost(q, pair);
    const unary = this.requireUnary(fn); // after the filterings (they may grow the wasm memory)
    let kl = 0;
    for (let i = 0; i < q.length; i++) {
      const v = q[i]!;
      kl += v * (unary[i]! + 0.5 * pair[i]!) + (v > 0 ? v * Math.log(v) : 0);
    }
    return kl;
  }

  /** out_p(l) = Σ_m Σ_{l'} μ_m(l,l')·msg_m,p(l') (Potts as −w·msg_m,p(l), the same up to a per-site constant). */
  private pairwiseCost(q: Float32Array, out: Float32Array): void {
    const n = this.numSites;
    const k = this.numLabels;
    out.fill(0);
    if (this.scratchIn.length !== n * k) {
      this.scratchIn = new Float32Array(n * k);
      this.scratchOut = new Float32Array(n * k);
    }
    const input = this.scratchIn;
    const msg = this.scratchOut;
    for (const term of this.terms) {
      const norm = term.norm;
      for (let p = 0, i = 0; p < n; p++) {
        const s = norm[p]!;
        for (let l = 0; l < k; l++, i++) input[i] = s * q[i]!;
      }
      term.kernel.filterOthers(input, k, msg);
      if (term.matrix === null) {
        const w = term.potts;
        for (let p = 0, i = 0; p < n; p++) {
          const s = w * norm[p]!;
          for (let l = 0; l < k; l++, i++) out[i]! -= s * msg[i]!;
        }
      } else {
        addMatrixMessages(out, msg, norm, term.matrix, n, k, 1);
      }
    }
  }

  /** The unary (on the wasm path a view of the workspace: valid until its next allocation). */
  private requireUnary(fn: string): Float32Array {
    this.checkLive(fn);
    if (!this.hasUnary) throw new SegValueError(`${fn}: no unary set, call setUnaryEnergy first`);
    return this.ws !== null
      ? this.ws.view(this.at.unary, this.numSites * this.numLabels)
      : this.unary!;
  }

  private checkCompat(fn: string, compat: Compatibility): number | Float32Array {
    if (typeof compat === 'number') {
      assertNumber(fn, 'compat', compat);
      return compat;
    }
    const k = this.numLabels;
    assertLength(fn, 'compat', compat, k * k, 'numLabels*numLabels');
    assertFinite(fn, 'compat', compat);
    const m = new Float32Array(k * k);
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) m[a * k + b] = 0.5 * (compat[a * k + b]! + compat[b * k + a]!);
    }
    return m;
  }

  private addTerm(
    fn: string,
    features: Float32Array,
    d: number,
    compat: number | Float32Array,
    normalization: KernelNormalization = 'symmetric',
  ): void {
    if (normalization !== 'symmetric' && normalization !== 'none') {
      throw new SegValueError(
        `${fn}: normalization is ${String(normalization)}, expected 'symmetric' or 'none'`,
      );
    }
    this.mem(fn, () => this.buildTerm(features, d, compat, normalization));
  }

  private buildTerm(
    features: Float32Array,
    d: number,
    compat: number | Float32Array,
    normalization: KernelNormalization,
  ): void {
    const n = this.numSites;
    const kernel: Kernel = this.exact
      ? new ExactKernel(features, d)
      : new LatticeKernel(
          new PermutohedralLattice(features, d, {
            kernels: this.kernels,
            ...(this.ws ? { workspace: this.ws } : {}),
          }),
          this.ws !== null,
        );
    const norm = new Float32Array(n).fill(1);
    if (normalization === 'symmetric') {
      const others = new Float32Array(n);
      kernel.filterOthers(norm, 1, others);
      // S_p = 1 + Σ_{q≠p} k(p,q) ≥ 1; the max guards the lattice's small errors.
      for (let p = 0; p < n; p++) norm[p] = 1 / Math.sqrt(Math.max(1, 1 + others[p]!));
    }
    let normAt = -1;
    if (this.ws !== null) {
      normAt = this.ws.alloc(n);
      this.ws.view(normAt, n).set(norm);
    }
    this.terms.push({
      kernel,
      norm,
      normAt,
      potts: typeof compat === 'number' ? compat : Number.NaN,
      matrix: typeof compat === 'number' ? null : compat,
    });
  }
}

/** acc[p,l] += sign·norm[p]·Σ_{l'} μ(l,l')·msg[p,l']. */
function addMatrixMessages(
  acc: Float32Array,
  msg: Float32Array,
  norm: Float32Array,
  mu: Float32Array,
  n: number,
  k: number,
  sign: number,
): void {
  for (let p = 0; p < n; p++) {
    const s = sign * norm[p]!;
    const o = p * k;
    for (let l = 0; l < k; l++) {
      let a = 0;
      for (let l2 = 0; l2 < k; l2++) a += mu[l * k + l2]! * msg[o + l2]!;
      acc[o + l]! += s * a;
    }
  }
}

/** Row-wise softmax of an N×K array into `out` (may alias). */
function softmaxRows(logits: Float32Array, k: number, out: Float32Array): void {
  const n = logits.length / k;
  for (let p = 0; p < n; p++) {
    const o = p * k;
    let mx = logits[o]!;
    for (let l = 1; l < k; l++) if (logits[o + l]! > mx) mx = logits[o + l]!;
    let sum = 0;
    for (let l = 0; l < k; l++) {
      const e = Math.exp(logits[o + l]! - mx);
      out[o + l] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let l = 0; l < k; l++) out[o + l]! *= inv;
  }
}

/** Per-row argmax of an N×K array (ties: the lowest label). */
export function argmaxRows(q: Float32Array, k: number): Int32Array {
  const fn = 'argmaxRows';
  assertInt(fn, 'k', k, 1);
  if (q.length % k !== 0) {
    throw new SegShapeError(`${fn}: q has length ${q.length}, expected a multiple of k = ${k}`);
  }
  const n = q.length / k;
  const labels = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    const o = p * k;
    let best = 0;
    let bv = q[o]!;
    for (let l = 1; l < k; l++) {
      if (q[o + l]! > bv) {
        bv = q[o + l]!;
        best = l;
      }
    }
    labels[p] = best;
  }
  return labels;
}

/** Input of {@link denseCrfMeanField}. */
export interface DenseCrfInput {
  /** The image (width×height, RGB). */
  image: RgbImage;
  /** N×K site-major unary (e.g. −log p). */
  unary: Float32Array;
  /** K ≥ 2. */
  numLabels: number;
}

/** Options of {@link denseCrfMeanField}; `false` drops a kernel. */
export interface DenseCrfMeanFieldOptions extends DenseCrfOptions {
  /** @default { sxy: 3, compat: 3 } */
  gaussian?: PairwiseGaussianOptions | false;
  /** @default { sxy: 80, srgb: 13, compat: 10 } */
  bilateral?: Omit<PairwiseBilateralOptions, 'rgbim'> | false;
  /** @default 5 */
  iterations?: number;
}

/**
 * Dense-CRF mean field in one call, with pydensecrf's default kernels.
 *
 * @returns `q` (N×K) and `labels` (its per-site argmax).
 * @example
 * const { labels } = denseCrfMeanField({ image, unary, numLabels: 21 }, { iterations: 5 });
 */
export function denseCrfMeanField(
  input: DenseCrfInput,
  options: DenseCrfMeanFieldOptions = {},
): { q: Float32Array; labels: Int32Array } {
  const { image, unary, numLabels } = input;
  const crf = new DenseCrf(image.width, image.height, numLabels, options);
  try {
    crf.setUnaryEnergy(unary);
    if (options.gaussian !== false) crf.addPairwiseGaussian(options.gaussian ?? {});
    if (options.bilateral !== false)
      crf.addPairwiseBilateral({ ...(options.bilateral ?? {}), rgbim: image });
    const q = crf.inference(options.iterations ?? 5);
    return { q, labels: argmaxRows(q, numLabels) };
  } finally {
    crf.dispose();
  }
}

/** @deprecated Renamed {@link DenseCrfMeanFieldOptions}; this alias goes in the next minor release. */
export type DenseCrfRunOptions = DenseCrfMeanFieldOptions;

/**
 * @deprecated Renamed {@link denseCrfMeanField} (`denseCrf` differed from the
 * class {@link DenseCrf} only by case); this alias goes in the next minor release.
 */
export function denseCrf(
  input: DenseCrfInput,
  options: DenseCrfMeanFieldOptions = {},
): { q: Float32Array; labels: Int32Array } {
  return denseCrfMeanField(input, options);
}
