/**
 * One-shot Gaussian filtering in feature space: the permutohedral
 * approximation and the exact O(N²) sum it approximates.
 */
import { assertInt, SegShapeError } from '@seg/tensor';
import { checkFinite } from './finite.js';
import { PermutohedralLattice } from './lattice.js';

/** Checks the (features, d, values, c) quadruple shared by the filters; returns N. */
function checkFilterArgs(
  fn: string,
  features: Float32Array,
  d: number,
  values: Float32Array,
  c: number,
): number {
  assertInt(fn, 'd', d, 1);
  assertInt(fn, 'c', c, 1);
  if (features.length === 0 || features.length % d !== 0) {
    throw new SegShapeError(
      `${fn}: features has length ${features.length}, expected a positive multiple of d = ${d}`,
    );
  }
  const n = features.length / d;
  if (values.length !== n * c) {
    throw new SegShapeError(`${fn}: values has length ${values.length}, expected N*c = ${n * c}`);
  }
  checkFinite(fn, 'values', values);
  return n;
}

/**
 * Gaussian filtering through a permutohedral lattice, built for this one call:
 * `out_i ≈ Σ_j exp(−½‖f_i − f_j‖²)·v_j` (all j, including i). Build a
 * {@link PermutohedralLattice} instead to filter several arrays with the same
 * features.
 *
 * @param features N×d point-major, already divided by their σ's.
 * @param d feature dimension ≥ 1.
 * @param values N×c point-major.
 * @param c channels ≥ 1.
 * @returns N×c.
 * @example
 * const out = bilateralFilter(bilateralFeatures(img, { sigmaXy: 100, sigmaRgb: 15 }), 5, probs, 2);
 */
export function bilateralFilter(
  features: Float32Array,
  d: number,
  values: Float32Array,
  c: number,
): Float32Array {
  checkFilterArgs('bilateralFilter', features, d, values, c);
  return new PermutohedralLattice(features, d).filter(values, c);
}

/**
 * The exact sum `out_i = Σ_j exp(−½‖f_i − f_j‖²)·v_j` (all j, including i),
 * accumulated in float64: O(N²·(d + c)), for tests and small N.
 *
 * @param features N×d point-major. @param d ≥ 1. @param values N×c. @param c ≥ 1.
 * @returns N×c (Float64Array).
 */
export function exactGaussianFilter(
  features: ArrayLike<number>,
  d: number,
  values: ArrayLike<number>,
  c: number,
): Float64Array {
  const fn = 'exactGaussianFilter';
  const n = checkFilterArgs(fn, features as Float32Array, d, values as Float32Array, c);
  checkFinite(fn, 'features', features);
  const out = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    const io = i * d;
    const oo = i * c;
    for (let j = 0; j < n; j++) {
      const jo = j * d;
      let r = 0;
      for (let k = 0; k < d; k++) {
        const t = features[io + k]! - features[jo + k]!;
        r += t * t;
      }
      const w = Math.exp(-0.5 * r);
      const vo = j * c;
      for (let ch = 0; ch < c; ch++) out[oo + ch]! += w * values[vo + ch]!;
    }
  }
  return out;
}
