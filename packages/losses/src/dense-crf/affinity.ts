/**
 * The fully connected Gaussian affinity `W_pq = exp(−½‖f_p − f_q‖²)` of the
 * dense-CRF and normalized-cut losses: the per-channel forms `v_kᵀ W v_k`,
 * `(W·1)ᵀ v_k` and their gradients, by the permutohedral lattice of
 * `@seg/crf-solvers` (O(N)), or the exact O(N²) sum for small images.
 */
import { type LatticeForms, PermutohedralLattice } from '@seg/crf-solvers';
import { SegRangeError } from '@seg/tensor';

/** How `W·v` is computed. */
export type AffinityMethod = 'lattice' | 'exact';

/** The most pixels (per image, after `scale`) that `method: 'exact'` accepts. */
export const EXACT_MAX_PIXELS = 4096;

/**
 * Per-channel forms of N×c values v under W, from {@link Affinity.forms}:
 * what the dense losses need of the forward pass (and the check of the input).
 */
export interface AffinityForms {
  /** `v_kᵀ W v_k` per channel. */
  readonly quadratic: Float64Array;
  /** `dᵀ v_k` per channel, `d = W·1`. */
  readonly degree: Float64Array;
  /** `Σ_k v_pk` per point. */
  readonly rowSums: Float32Array;
  /** The smallest entry of v (NaN if any entry is NaN). */
  readonly min: number;
}

/** `W` on N points, for N×c point-major arrays. */
export interface Affinity {
  /** The forms of `values` (kept by reference for {@link Affinity.gradient}: not to be changed). */
  forms(values: Float32Array, c: number): AffinityForms;
  /**
   * Writes `b_k·((W + Wᵀ)·v)_pk + a_k·(W·1)_p` into `out` (N×c), v the values
   * of `forms` (from this affinity); with `symmetric`, `2·W·v` stands for
   * `(W + Wᵀ)·v`.
   */
  gradient(
    forms: AffinityForms,
    scale: Float64Array,
    degreeScale: Float64Array,
    symmetric: boolean,
    out: Float32Array,
  ): void;
  /** True when W is exactly symmetric (then `symmetric` changes nothing). */
  readonly symmetric: boolean;
  /** Frees what the affinity holds (the lattice's memory); not to be used afterwards. */
  dispose(): void;
}

/**
 * Bilateral features of an h×w image, point-major N×5:
 * `[x/σ_xy, y/σ_xy, r/σ_rgb, g/σ_rgb, b/σ_rgb]`.
 */
export function bilateralFeatureArray(
  image: ArrayLike<number>,
  offset: number,
  h: number,
  w: number,
  sigmaXy: number,
  sigmaRgb: number,
): Float32Array {
  const f = new Float32Array(h * w * 5);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const o = p * 5;
      const i = offset + p * 3;
      f[o] = x / sigmaXy;
      f[o + 1] = y / sigmaXy;
      f[o + 2] = image[i]! / sigmaRgb;
      f[o + 3] = image[i + 1]! / sigmaRgb;
      f[o + 4] = image[i + 2]! / sigmaRgb;
    }
  }
  return f;
}

/** Row sums and smallest entry of N×c values (NaN sticks). */
function rowStats(values: Float32Array, c: number): { rowSums: Float32Array; min: number } {
  const n = values.length / c;
  const rowSums = new Float32Array(n);
  let min = Infinity;
  for (let p = 0; p < n; p++) {
    let s = 0;
    for (let k = 0; k < c; k++) {
      const x = values[p * c + k]!;
      if (!(x >= min) && !Number.isNaN(min)) min = x; // NaN sticks
      s += x;
    }
    rowSums[p] = s;
  }
  return { rowSums, min };
}

interface ExactForms extends AffinityForms {
  values: Float32Array;
  /** W·v */
  wv: Float32Array;
}

/**
 * The exact affinity: `(W·v)_i = Σ_j exp(−½‖f_i − f_j‖²) v_j` over all j
 * (including i), float64 accumulation, O(N²·(d + c)). W is symmetric.
 */
export function exactAffinity(features: Float32Array, d: number): Affinity {
  const n = features.length / d;
  const apply = (values: Float32Array, c: number): Float32Array => {
    const acc = new Float64Array(n * c);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < c; k++) acc[i * c + k]! += values[i * c + k]!;
      for (let j = i + 1; j < n; j++) {
        let s = 0;
        for (let t = 0; t < d; t++) {
          const u = features[i * d + t]! - features[j * d + t]!;
          s += u * u;
        }
        const wij = Math.exp(-0.5 * s);
        if (wij === 0) continue;
        for (let k = 0; k < c; k++) {
          acc[i * c + k]! += wij * values[j * c + k]!;
          acc[j * c + k]! += wij * values[i * c + k]!;
        }
      }
    }
    return Float32Array.from(acc);
  };
  let deg: Float32Array | null = null;
  const degrees = () => {
    deg ??= apply(new Float32Array(n).fill(1), 1);
    return deg;
  };
  return {
    forms(values, c): ExactForms {
      const wv = apply(values, c);
      const dv = degrees();
      const quadratic = new Float64Array(c);
      const degree = new Float64Array(c);
      for (let p = 0; p < n; p++) {
        for (let k = 0; k < c; k++) {
          const x = values[p * c + k]!;
          quadratic[k]! += x * wv[p * c + k]!;
          degree[k]! += x * dv[p]!;
        }
      }
      return { quadratic, degree, ...rowStats(values, c), values, wv };
    },
    gradient(forms, scale, degreeScale, _symmetric, out) {
      const { wv } = forms as ExactForms;
      const c = scale.length;
      const dv = degrees();
      for (let p = 0; p < n; p++) {
        for (let k = 0; k < c; k++) {
          out[p * c + k] = 2 * scale[k]! * wv[p * c + k]! + degreeScale[k]! * dv[p]!;
        }
      }
    },
    symmetric: true,
    dispose: () => {},
  };
}

/** Builds the affinity of one image by `method`, checking the size limit of `'exact'`. */
export function buildAffinity(
  fn: string,
  method: AffinityMethod,
  features: Float32Array,
  d: number,
  h: number,
  w: number,
): Affinity {
  if (method === 'exact') {
    if (h * w > EXACT_MAX_PIXELS) {
      throw new SegRangeError(
        `${fn}: method 'exact' takes at most ${EXACT_MAX_PIXELS} pixels per image (after scale), got ${h * w} (${h}×${w}); use method 'lattice' or a smaller scale`,
      );
    }
    return exactAffinity(features, d);
  }
  return latticeAffinity(features, d);
}

/**
 * The permutohedral lattice, built once. Its W is not exactly symmetric (the
 * blurs along different lattice directions do not commute where vertices are
 * missing); the exact gradient uses its exact transpose (the blurs in reverse
 * order), and both the forms and the gradient cost about half a filtering
 * each (`PermutohedralLattice.quadraticForms` / `quadraticGradient`).
 */
function latticeAffinity(features: Float32Array, d: number): Affinity {
  const lattice = new PermutohedralLattice(features, d);
  return {
    forms: (values, c) => lattice.quadraticForms(values, c),
    gradient(forms, scale, degreeScale, symmetric, out) {
      lattice.quadraticGradient(forms as LatticeForms, { scale, degreeScale, symmetric }, out);
    },
    symmetric: false,
    dispose: () => lattice.dispose(),
  };
}
