/**
 * The lattice's two corrections of its raw splat-blur-slice: the constant
 * scale α (dense-limit value, then fitted to the exact Gaussian sum) and the
 * self weight, which the raw operator replaces by an interpolation-dependent
 * value `α·s_p` (put back to the exact 1).
 */

/**
 * The scale of splat-blur-slice (blur kernel [½, 1, ½] along each of the d+1
 * directions) in the limit of points filling the lattice: the exact sum
 * `ρ(2π)^{d/2}` over the lattice's `2^{d+1}ρV`, V = (3/2)^{d/2}/√(d+1) the
 * feature-space volume per lattice vertex.
 */
export function denseLimitScale(d: number): number {
  return (Math.sqrt(d + 1) / 2) * (Math.PI / 3) ** (d / 2);
}

/**
 * Per point, the self weight `s_p` of the raw operator on a full lattice:
 * vertices k, k' of one simplex differ by |k−k'| = s lattice directions,
 * reached by two blur paths of weights 2^−s and 2^−(d+1−s) (and three for
 * s = 0: 1 + 2·2^−(d+1)). `baryOf` is N×(d+1).
 */
export function rawSelfWeights(baryOf: Float32Array, n: number, d1: number): Float32Array {
  const w = new Float64Array(d1);
  w[0] = 1 + 2 ** -(d1 - 1);
  for (let s = 1; s < d1; s++) w[s] = 2 ** -s + 2 ** -(d1 - s);
  const rawSelf = new Float32Array(n);
  if (d1 === 6) {
    // the d = 5 (bilateral) case unrolled: the same float64 operations in the same order
    const w0 = w[0]!;
    const w1 = w[1]!;
    const w2 = w[2]!;
    const w3 = w[3]!;
    const w4 = w[4]!;
    const w5 = w[5]!;
    for (let p = 0, o = 0; p < n; p++, o += 6) {
      const b0 = baryOf[o]!;
      const b1 = baryOf[o + 1]!;
      const b2 = baryOf[o + 2]!;
      const b3 = baryOf[o + 3]!;
      const b4 = baryOf[o + 4]!;
      const b5 = baryOf[o + 5]!;
      let s = 0;
      s += b0 * b0 * w0;
      s += 2 * b0 * b1 * w1;
      s += 2 * b0 * b2 * w2;
      s += 2 * b0 * b3 * w3;
      s += 2 * b0 * b4 * w4;
      s += 2 * b0 * b5 * w5;
      s += b1 * b1 * w0;
      s += 2 * b1 * b2 * w1;
      s += 2 * b1 * b3 * w2;
      s += 2 * b1 * b4 * w3;
      s += 2 * b1 * b5 * w4;
      s += b2 * b2 * w0;
      s += 2 * b2 * b3 * w1;
      s += 2 * b2 * b4 * w2;
      s += 2 * b2 * b5 * w3;
      s += b3 * b3 * w0;
      s += 2 * b3 * b4 * w1;
      s += 2 * b3 * b5 * w2;
      s += b4 * b4 * w0;
      s += 2 * b4 * b5 * w1;
      s += b5 * b5 * w0;
      rawSelf[p] = s;
    }
    return rawSelf;
  }
  if (d1 === 3) {
    // the d = 2 (xy) case unrolled likewise
    const w0 = w[0]!;
    const w1 = w[1]!;
    const w2 = w[2]!;
    for (let p = 0, o = 0; p < n; p++, o += 3) {
      const b0 = baryOf[o]!;
      const b1 = baryOf[o + 1]!;
      const b2 = baryOf[o + 2]!;
      let s = 0;
      s += b0 * b0 * w0;
      s += 2 * b0 * b1 * w1;
      s += 2 * b0 * b2 * w2;
      s += b1 * b1 * w0;
      s += 2 * b1 * b2 * w1;
      s += b2 * b2 * w0;
      rawSelf[p] = s;
    }
    return rawSelf;
  }
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
  return rawSelf;
}

/**
 * Least-squares factor κ matching `α0·rawOthers` (the raw lattice's
 * `Σ_{j≠i} k_ij`: splat-blur-slice of ones, α = 1, less the raw self
 * weights) to the exact `Σ_{j≠i} k_ij` at S = min(N, 64, max(8, 1.5e6/N))
 * evenly spaced points: an O(S·N·d) pass.
 */
export function fitScale(
  features: Float32Array,
  d: number,
  rawOthers: Float32Array,
  alpha0: number,
): number {
  const n = features.length / d;
  const samples = Math.min(n, 64, Math.max(8, Math.floor(1.5e6 / n)));
  const at = new Int32Array(samples);
  for (let s = 0; s < samples; s++) at[s] = Math.floor(((s + 0.5) * n) / samples);
  const exact = exactOthers(features, d, at);
  let num = 0;
  let den = 0;
  for (let s = 0; s < samples; s++) {
    const lat = alpha0 * rawOthers[at[s]!]!;
    num += exact[s]! * lat;
    den += lat * lat;
  }
  return den > 0 && num > 0 ? num / den : 1;
}

/** Pairs with ‖f_i − f_j‖² ≥ this are left out of the exact sums (exp(−15) ≈ 3e-7). */
const CUTOFF = 30;

/** `exp(−i/64)` for i = 0 … 960: {@link expHalf}'s table (built on first use). */
let expTable: Float64Array | undefined;

function makeExpTable(): Float64Array {
  const t = new Float64Array(32 * CUTOFF + 1);
  for (let i = 0; i < t.length; i++) t[i] = Math.exp(-i / 64);
  return t;
}

/**
 * `exp(−r/2)` for 0 ≤ r < 30, within 2 ulp of `Math.exp` and about four
 * times faster: with a = r/2 = i/64 + f (f < 1/64, exact), the table's
 * `exp(−i/64)` times `exp(−f)` to degree 6 (the next term, f⁷/7!, is below
 * 5e-17).
 */
function expHalf(table: Float64Array, r: number): number {
  const a = 0.5 * r;
  const i = (a * 64) | 0;
  const f = a - i * 0.015625;
  return (
    table[i]! *
    (1 + f * (-1 + f * (0.5 + f * (-1 / 6 + f * (1 / 24 + f * (-1 / 120 + f * (1 / 720)))))))
  );
}

/**
 * The exact `Σ_{j≠i} exp(−½‖f_i − f_j‖²)` at the points `at` (float64, the
 * terms added in the order of j; pairs with ‖f_i − f_j‖² ≥ 30, whose
 * exp(−15) ≈ 3e-7 cannot move κ at the precision that matters, left out).
 * One pass over the features for all the points at once, unrolled for
 * d = 2 and 5 (the dense CRF's kernels).
 */
function exactOthers(features: Float32Array, d: number, at: Int32Array): Float64Array {
  const n = features.length / d;
  const samples = at.length;
  const fs = new Float64Array(samples * d);
  for (let s = 0; s < samples; s++) {
    for (let k = 0; k < d; k++) fs[s * d + k] = features[at[s]! * d + k]!;
  }
  const exact = new Float64Array(samples);
  const table = (expTable ??= makeExpTable());
  if (d === 2) {
    for (let j = 0, jo = 0; j < n; j++, jo += 2) {
      const f0 = features[jo]!;
      const f1 = features[jo + 1]!;
      for (let s = 0, so = 0; s < samples; s++, so += 2) {
        const t0 = fs[so]! - f0;
        const t1 = fs[so + 1]! - f1;
        const r = t0 * t0 + t1 * t1;
        if (r < CUTOFF && j !== at[s]) exact[s]! += expHalf(table, r);
      }
    }
  } else if (d === 5) {
    for (let j = 0, jo = 0; j < n; j++, jo += 5) {
      const f0 = features[jo]!;
      const f1 = features[jo + 1]!;
      const f2 = features[jo + 2]!;
      const f3 = features[jo + 3]!;
      const f4 = features[jo + 4]!;
      for (let s = 0, so = 0; s < samples; s++, so += 5) {
        const t0 = fs[so]! - f0;
        const t1 = fs[so + 1]! - f1;
        const t2 = fs[so + 2]! - f2;
        const t3 = fs[so + 3]! - f3;
        const t4 = fs[so + 4]! - f4;
        const r = t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3 + t4 * t4;
        if (r < CUTOFF && j !== at[s]) exact[s]! += expHalf(table, r);
      }
    }
  } else {
    for (let j = 0, jo = 0; j < n; j++, jo += d) {
      for (let s = 0, so = 0; s < samples; s++, so += d) {
        let r = 0;
        for (let k = 0; k < d; k++) {
          const t = fs[so + k]! - features[jo + k]!;
          r += t * t;
        }
        if (r < CUTOFF && j !== at[s]) exact[s]! += expHalf(table, r);
      }
    }
  }
  return exact;
}
