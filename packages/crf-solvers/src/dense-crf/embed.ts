/**
 * The simplex search of Adams, Baek and Davis (2010) in plain JS: each point
 * elevated onto the hyperplane `Σ x = 0` of R^{d+1}, its nearest
 * remainder-0 lattice point, the ranking of the differential, the
 * barycentric weights and the keys of the d+1 enclosing vertices. The same
 * f64 operations as `embed` in wasm/kernels.wat, so both give the same bits.
 */
import type { Embedding } from './lattice-kernels.js';

/**
 * Elevation scale of Adams et al. per feature: with it the lattice's blur is
 * close to a unit-σ Gaussian.
 */
export function elevationScale(d: number): Float64Array {
  const invStd = Math.sqrt(2 / 3) * (d + 1);
  const scaleFactor = new Float64Array(d);
  for (let i = 0; i < d; i++) scaleFactor[i] = invStd / Math.sqrt((i + 1) * (i + 2));
  return scaleFactor;
}

/**
 * The enclosing simplex of every point (N×d features, point-major):
 * barycentric weights, vertex keys (only where `same[p] = 0`) and `same[p] = 1`
 * where point p lies in the same simplex as point p − 1 (neighbouring pixels
 * often do).
 */
export function embedPointsJs(
  features: Float32Array,
  d: number,
  scaleFactor: Float64Array,
): Embedding {
  const d1 = d + 1;
  const n = features.length / d;
  const baryOf = new Float32Array(n * d1);
  const keys = new Int32Array(n * d1 * d);
  const same = new Int32Array(n);
  const elevated = new Float64Array(d1);
  const rem0 = new Float64Array(d1);
  const rank = new Int32Array(d1);
  const bary = new Float64Array(d + 2);
  const prevRem0 = new Float64Array(d1);
  const prevRank = new Int32Array(d1);
  const invD1 = 1 / d1;
  for (let p = 0; p < n; p++) {
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
    const vo = p * d1;
    for (let k = 0; k < d1; k++) baryOf[vo + k] = bary[k]!;
    // The d+1 enclosing vertices: remainder-k points, keyed by their first d coordinates.
    let isSame = p > 0;
    for (let i = 0; isSame && i < d1; i++) {
      if (rem0[i] !== prevRem0[i] || rank[i] !== prevRank[i]) isSame = false;
    }
    if (isSame) {
      same[p] = 1;
      continue;
    }
    for (let k = 0; k < d1; k++) {
      const ko = (vo + k) * d;
      for (let i = 0; i < d; i++) keys[ko + i] = rem0[i]! + (rank[i]! <= d - k ? k : k - d1);
    }
    for (let i = 0; i < d1; i++) {
      prevRem0[i] = rem0[i]!;
      prevRank[i] = rank[i]!;
    }
  }
  return { bary: baryOf, keys, same };
}
