/**
 * The lattice's splat / blur / slice in plain typed-array loops: the
 * fallback where WebAssembly SIMD is missing (about 5× slower than
 * wasm/kernels.ts), with the same interface and the same float32 steps.
 */
import type { LatticeArrays, LatticeKernels, RawForms } from './lattice-kernels.js';

/** A lattice's arrays in JS memory and the filter on them. */
export class JsLatticeKernels implements LatticeKernels {
  private readonly n: number;
  private readonly d1: number;
  private readonly m: number;
  private readonly vertexOf: Int32Array;
  private readonly baryOf: Float32Array;
  private readonly neighbors: Int32Array;
  private readonly selfFix: Float32Array;
  private readonly negSelf: Float32Array;
  private bufA: Float32Array = new Float32Array(0);
  private bufB: Float32Array = new Float32Array(0);
  /** z = B·splat(1) (vertices+1, last 0), made at the first quadratic form. */
  private z: Float32Array | null = null;

  constructor(lattice: LatticeArrays) {
    this.n = lattice.n;
    this.d1 = lattice.d1;
    this.m = lattice.m;
    this.vertexOf = lattice.vertexOf;
    this.baryOf = lattice.baryOf;
    this.neighbors = lattice.neighbors;
    this.selfFix = Float32Array.from(lattice.selfFix);
    this.negSelf = Float32Array.from(lattice.negSelf);
  }

  release(): void {}

  setSelf(selfFix: Float32Array, negSelf: Float32Array): void {
    this.selfFix.set(selfFix);
    this.negSelf.set(negSelf);
  }

  filter(
    values: Float32Array,
    c: number,
    out: Float32Array,
    alpha: number,
    reverse: boolean,
    excludeSelf: boolean,
  ): void {
    const { n, d1, m } = this;
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
    const src = this.blurAll(a, b, c, reverse);
    const fix = excludeSelf ? this.negSelf : this.selfFix;
    slice(src, values, c, n, d1, this.vertexOf, this.baryOf, alpha, fix, out);
  }

  forms(values: Float32Array, c: number, _token: object): RawForms {
    const { n, d1, m } = this;
    const u = new Float32Array((m + 1) * c);
    splat(values, c, n, d1, this.vertexOf, this.baryOf, u);
    const bu = this.blurCopy(u, c, false);
    const z = this.degreeVertices();
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

  gradient(
    _token: object,
    values: Float32Array,
    splat: Float32Array,
    c: number,
    alpha: number,
    scale: Float64Array,
    degreeScale: Float64Array,
    symmetric: boolean,
    out: Float32Array,
  ): void {
    const { n, d1, m } = this;
    const v1 = this.blurCopy(splat, c, false);
    const v2 = symmetric ? v1 : this.blurCopy(splat, c, true);
    const z = this.degreeVertices();
    for (let v = 0; v < m; v++) {
      for (let k = 0; k < c; k++) {
        const o = v * c + k;
        v1[o] = scale[k]! * (v1[o]! + v2[o]!) + degreeScale[k]! * z[v]!;
      }
    }
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
          alpha * out[vo + k]! +
          f *
            Math.fround(
              Math.fround(2 * scale[k]!) * values[vo + k]! + Math.fround(degreeScale[k]!),
            );
      }
    }
  }

  /** Blurs `src` ((m+1)×c) along every direction (reversed if asked) into a new array. */
  private blurCopy(src: Float32Array, c: number, reverse: boolean): Float32Array {
    return this.blurAll(src.slice(), new Float32Array(src.length), c, reverse);
  }

  /**
   * Blurs `a` ((m+1)×c, last row zero) along every direction (reversed if
   * asked), ping-ponging with `b` (its last row zero too); returns whichever
   * of the two holds the result.
   */
  private blurAll(a: Float32Array, b: Float32Array, c: number, reverse: boolean): Float32Array {
    const { d1, m } = this;
    for (let t = 0; t < d1; t++) {
      const j = reverse ? d1 - 1 - t : t;
      blur(a, b, c, m, this.neighbors, j * m * 2);
      const tmp = a;
      a = b;
      b = tmp;
    }
    return a;
  }

  /** z = B·splat(1), made once. */
  private degreeVertices(): Float32Array {
    if (this.z === null) {
      const z0 = new Float32Array(this.m + 1);
      const n = this.n;
      splat(new Float32Array(n).fill(1), 1, n, this.d1, this.vertexOf, this.baryOf, z0);
      this.z = this.blurCopy(z0, 1, false);
    }
    return this.z;
  }
}

/** buf[vertexOf[p,k]] += baryOf[p,k]·values[p], rows of c. */
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

/** dst[v] = src[v] + ½(src[nb[2v]] + src[nb[2v+1]]) for v < m, neighbours from `nb[base..]`. */
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

/** out[p] = α·Σ_k baryOf[p,k]·buf[vertexOf[p,k]] + fix[p]·values[p], rows of c. */
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
    const f = fix[p]!;
    for (let ch = 0; ch < c; ch++) out[vo + ch] = alpha * out[vo + ch]! + f * values[vo + ch]!;
  }
}
