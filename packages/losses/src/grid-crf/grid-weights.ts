/**
 * Contrast-sensitive grid weights and the discrete Potts energy (Tang et al.
 * 2018; Marin et al. 2019; §1–2 of methods.md), in the layout of the
 * SEGGRID1 / SEGPOTTS instances and of the crf-solvers' grid graphs: one
 * array per direction, `edges[d][y*W + x]` the weight of the edge from pixel
 * (x, y) to (x+dx, y+dy), 0 where that neighbour is outside the image.
 */
import { GRID_STEPS } from '@seg/crf-solvers';
import {
  assertFinite,
  assertInt,
  assertLength,
  assertNumber,
  assertObject,
  SegRangeError,
  SegShapeError,
  SegValueError,
} from '@seg/tensor';

/** A neighbourhood: 4 (right, down) or 8 (also down-right, down-left). */
export type Connectivity = 4 | 8;

/**
 * @deprecated Renamed `GRID_STEPS` (the one table of the grid's directions,
 * from @seg/crf-solvers, re-exported here): the steps `{ name, dx, dy }` in
 * the order of {@link GridWeights.edges}. This alias goes in the next minor release.
 */
export const GRID_DIRECTIONS = GRID_STEPS;

/** Weights of a grid CRF, one array per direction. */
export interface GridWeights {
  readonly width: number;
  readonly height: number;
  readonly connectivity: Connectivity;
  /** The σ² used: the given σ squared, or the image's mean squared neighbour difference. */
  readonly sigma2: number;
  /**
   * `[right, down]` for 4-connectivity, `[right, down, downRight, downLeft]`
   * for 8; each of length `width*height`, indexed by the edge's first pixel.
   */
  readonly edges: readonly Float32Array[];
}

/** Options of {@link gridWeights}. */
export interface GridWeightsOptions {
  /** @default 8 */
  connectivity?: Connectivity;
  /**
   * σ of the colour contrast, in the image's units (0–255). Default: σ² is
   * the mean of `‖I_p − I_q‖²` over the image's neighbour pairs (of the
   * chosen connectivity).
   */
  sigma?: number;
}

/** An image as the weights read it: `data[(y*width + x)*3 + c]`. `RgbImage` fits. */
export interface ImageLike {
  readonly width: number;
  readonly height: number;
  readonly data: ArrayLike<number>;
}

/**
 * The smallest σ of the colour contrast: below it 2σ² underflows to 0 and a
 * pair of equal colours would get the weight exp(−0/0) = NaN.
 */
export const MIN_GRID_SIGMA = 1e-150;

/** Checks the σ option of the grid weights (when given). */
export function checkGridSigma(fn: string, sigma: unknown): void {
  if (sigma !== undefined) assertNumber(fn, 'sigma', sigma as number, MIN_GRID_SIGMA);
}

/** Checks the connectivity option. */
export function checkConnectivity(fn: string, connectivity: unknown): Connectivity {
  if (connectivity === undefined) return 8;
  if (connectivity !== 4 && connectivity !== 8) {
    throw new SegRangeError(`${fn}: connectivity is ${String(connectivity)}, expected 4 or 8`);
  }
  return connectivity;
}

/**
 * Contrast-sensitive Potts weights
 * `w_pq = exp(−‖I_p − I_q‖² / (2σ²)) / dist(p, q)` (dist = √2 on diagonals),
 * computed in float64 and stored as float32. They depend on the image only:
 * compute them once per image.
 *
 * @example
 * const wts = gridWeights(image, { connectivity: 8 });
 * const e = pottsEnergy(labels, wts);       // Σ_edges w·[L_p ≠ L_q]
 */
export function gridWeights(image: ImageLike, options: GridWeightsOptions = {}): GridWeights {
  const fn = 'gridWeights';
  assertObject(fn, 'options', options);
  const connectivity = checkConnectivity(fn, options.connectivity);
  assertObject(fn, 'image', image);
  const { width: W, height: H, data } = image;
  assertInt(fn, 'image.width', W, 1);
  assertInt(fn, 'image.height', H, 1);
  assertObject(fn, 'image.data', data);
  assertLength(fn, 'image.data', data, W * H * 3, 'width*height*3');
  // NaN or ±∞ would make σ² and every weight NaN
  assertFinite(fn, 'image.data', data);
  checkGridSigma(fn, options.sigma);
  const g = computeGridWeights(data, 0, W, H, connectivity, options.sigma);
  if (!Number.isFinite(g.sigma2)) {
    // values of ~1e154 and more: the squared differences overflow
    throw new SegValueError(
      `${fn}: the mean squared neighbour difference of image.data is ${g.sigma2}, expected a finite σ² (values too large; pass sigma)`,
    );
  }
  return g;
}

/** {@link gridWeights} on the image that starts at `data[offset]` (no checks). */
export function computeGridWeights(
  data: ArrayLike<number>,
  offset: number,
  W: number,
  H: number,
  connectivity: Connectivity,
  sigma: number | undefined,
): GridWeights {
  const dirs = GRID_STEPS.slice(0, connectivity === 8 ? 4 : 2);
  const d2 = dirs.map(() => new Float64Array(W * H));
  let sum = 0;
  let count = 0;
  dirs.forEach(({ dx, dy }, d) => {
    const out = d2[d]!;
    for (let y = 0; y + dy < H; y++) {
      for (let x = Math.max(0, -dx); x < W - Math.max(0, dx); x++) {
        const p = offset + (y * W + x) * 3;
        const q = offset + ((y + dy) * W + x + dx) * 3;
        const r = data[p]! - data[q]!;
        const g = data[p + 1]! - data[q + 1]!;
        const b = data[p + 2]! - data[q + 2]!;
        const v = r * r + g * g + b * b;
        out[y * W + x] = v;
        sum += v;
        count++;
      }
    }
  });
  const sigma2 = sigma !== undefined ? sigma * sigma : Math.max(count > 0 ? sum / count : 0, 1e-9);
  const edges = dirs.map(({ dx, dy }, d) => {
    const src = d2[d]!;
    const out = new Float32Array(W * H);
    const inv = 1 / Math.hypot(dx, dy);
    for (let y = 0; y + dy < H; y++) {
      for (let x = Math.max(0, -dx); x < W - Math.max(0, dx); x++) {
        out[y * W + x] = Math.exp(-src[y * W + x]! / (2 * sigma2)) * inv;
      }
    }
    return out;
  });
  return { width: W, height: H, connectivity, sigma2, edges };
}

/**
 * The discrete Potts energy `Σ_{(p,q)∈N} w_pq·[L_p ≠ L_q]` of a labeling
 * (each edge counted once), in float64.
 *
 * @param labels `{ width, height, data: Int32Array }` with every label ≥ 0 (a `LabelMap`).
 * @param weights from {@link gridWeights} (or any arrays in its layout).
 */
export function pottsEnergy(
  labels: { width: number; height: number; data: ArrayLike<number> },
  weights: GridWeights,
): number {
  const fn = 'pottsEnergy';
  assertObject(fn, 'labels', labels);
  assertObject(fn, 'weights', weights);
  const { width: W, height: H } = weights;
  const { edges } = weights;
  if (!Array.isArray(edges) || (edges.length !== 2 && edges.length !== 4)) {
    throw new SegShapeError(
      `${fn}: weights.edges has ${Array.isArray(edges) ? `length ${edges.length}` : `type ${typeof edges}`}, expected an array of 2 (4-connectivity) or 4 (8-connectivity) directions`,
    );
  }
  if (labels.width !== W || labels.height !== H) {
    throw new SegShapeError(
      `${fn}: labels are ${labels.width}×${labels.height}, expected the weights' ${W}×${H}`,
    );
  }
  const L = labels.data;
  assertObject(fn, 'labels.data', L);
  assertLength(fn, 'labels.data', L, W * H, 'width*height');
  for (let i = 0; i < L.length; i++) {
    const v = L[i]!;
    if (!(Number.isInteger(v) && v >= 0)) {
      throw new SegRangeError(`${fn}: labels.data[${i}] is ${v}, expected an integer label ≥ 0`);
    }
  }
  let e = 0;
  edges.forEach((wd, d) => {
    const { dx, dy } = GRID_STEPS[d]!;
    assertObject(fn, `weights.edges[${d}]`, wd);
    assertLength(fn, `weights.edges[${d}]`, wd, W * H, 'width*height');
    for (let y = 0; y + dy < H; y++) {
      for (let x = Math.max(0, -dx); x < W - Math.max(0, dx); x++) {
        const p = y * W + x;
        const wpq = wd[p]!;
        // false for NaN, negatives and +∞ (one comparison per edge, in the loop that reads it)
        if (!(wpq >= 0 && wpq < Infinity)) {
          throw new SegValueError(
            `${fn}: weights.edges[${d}][${p}] is ${wpq}, expected a finite weight ≥ 0`,
          );
        }
        if (L[p] !== L[p + dy * W + dx]) e += wpq;
      }
    }
  });
  return e;
}
