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
    const lat = alpha0 * rawOthers[i]!;
    num += exact * lat;
    den += lat * lat;
  }
  return den > 0 && num > 0 ? num / den : 1;
}
