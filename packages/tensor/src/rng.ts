import { assertInt, assertNumber } from './errors.js';

/**
 * A small, fast, seeded pseudo-random generator (sfc32, Chris Doty-Humphrey's
 * "small fast counting" generator, state seeded by splitmix32). Every
 * initialisation and sampling in `@seg` takes one of these, so an experiment
 * run twice with the same seed gives the same numbers on every platform.
 *
 * @example
 * const rng = new Rng(42);
 * const w = rng.normalArray(9 * 16, 0, Math.sqrt(2 / 9)); // He init
 * const order = rng.permutation(50);
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(seed: number) {
    assertNumber('Rng', 'seed', seed);
    let s = Math.floor(seed) >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform number in [0, 1) with 32 random bits. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    assertInt('Rng.int', 'n', n, 1, 2 ** 32);
    return Math.floor(this.uniform() * n);
  }

  /** A standard normal sample (Marsaglia's polar method), times `std` (≥ 0), plus `mean`. */
  normal(mean = 0, std = 1): number {
    checkNormal('Rng.normal', mean, std);
    return this.sample(mean, std);
  }

  /** {@link Rng.normal} without the checks. */
  private sample(mean: number, std: number): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return mean + std * v;
    }
    let u = 0;
    let v = 0;
    let s = 0;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    return mean + std * u * f;
  }

  /** `n` normal samples in a Float32Array. */
  normalArray(n: number, mean = 0, std = 1): Float32Array {
    assertInt('Rng.normalArray', 'n', n, 0);
    checkNormal('Rng.normalArray', mean, std);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.sample(mean, std);
    return out;
  }

  /** `n` uniform samples in [lo, hi) in a Float32Array (`lo ≤ hi`). */
  uniformArray(n: number, lo = 0, hi = 1): Float32Array {
    const fn = 'Rng.uniformArray';
    assertInt(fn, 'n', n, 0);
    assertNumber(fn, 'lo', lo);
    assertNumber(fn, 'hi', hi, lo);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  /** A random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    assertInt('Rng.permutation', 'n', n, 0, 2 ** 31 - 1);
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  /** A new generator whose stream is independent of this one's next draws. */
  fork(): Rng {
    return new Rng(this.nextUint32() ^ 0x5bd1e995);
  }
}

/** Checks the parameters of a normal distribution (cheap when they are fine). */
function checkNormal(fn: string, mean: number, std: number): void {
  if (Number.isFinite(mean) && std >= 0 && std < Infinity) return;
  assertNumber(fn, 'mean', mean);
  assertNumber(fn, 'std', std, 0);
}
