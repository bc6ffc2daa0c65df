/**
 * The fully connected Gaussian affinity `W_pq = exp(−½‖f_p − f_q‖²)` of the
 * dense-CRF and normalized-cut losses, applied to value arrays, with its
 * transpose for back-propagation: the permutohedral lattice of
 * `@seg/crf-solvers` (O(N)), or the exact O(N²) sum for small images.
 */
import { PermutohedralLattice } from '@seg/crf-solvers';
import { SegRangeError } from '@seg/tensor';

/** How `W·v` is computed. */
export type AffinityMethod = 'lattice' | 'exact';

/** The most pixels (per image, after `scale`) that `method: 'exact'` accepts. */
export const EXACT_MAX_PIXELS = 4096;

/** `W` on N points, applied to N×c point-major arrays. */
export interface Affinity {
  /** `W·v`. */
  apply(values: Float32Array, c: number): Float32Array;
  /** `Wᵀ·v` (the same as `apply` when `symmetric`). */
  applyTranspose(values: Float32Array, c: number): Float32Array;
  /** True when `apply` is exactly symmetric, so `applyTranspose` needs no second pass. */
  readonly symmetric: boolean;
  /** Frees what the affinity holds (the lattice's memory); `apply` must not be called afterwards. */
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

/**
 * The exact affinity: `(W·v)_i = Σ_j exp(−½‖f_i − f_j‖²) v_j` over all j
 * (including i), float64 accumulation, O(N²·(d + c)).
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
  return { apply, applyTranspose: apply, symmetric: true, dispose: () => {} };
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
 * The permutohedral lattice, built once: `apply` is its forward filter and
 * `applyTranspose` the same filter with the blur directions reversed, which
 * is the exact transpose of the forward operator (the blurs along different
 * lattice directions do not commute exactly where vertices are missing).
 */
function latticeAffinity(features: Float32Array, d: number): Affinity {
  const lattice = new PermutohedralLattice(features, d);
  return {
    apply: (values, c) => lattice.filter(values, c),
    applyTranspose: (values, c) => lattice.filter(values, c, undefined, { reverse: true }),
    symmetric: false,
    dispose: () => lattice.dispose(),
  };
}
