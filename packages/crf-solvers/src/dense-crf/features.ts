/**
 * Feature vectors of the dense-CRF kernels, already divided by their σ's, in
 * the N×d point-major layout of {@link PermutohedralLattice}.
 */
import { assertInt, assertNumber, type RgbImage, SegShapeError, SegValueError } from '@seg/tensor';

/**
 * The largest feature magnitude the lattice takes: 2^24. It rounds elevated
 * coordinates (about 26× the features for d = 5) to int32, and beyond 2^24
 * float32 features have no fractional part left. It bounds the σ's from
 * below: `σ_rgb ≥ 255 / 2^24 ≈ 1.52e-5`, `σ_xy ≥ max(W, H)·scale / 2^24`
 * (the same bound as @seg/losses' dense-CRF kernels).
 */
export const MAX_FEATURE = 2 ** 24;

/**
 * Throws a SegValueError unless `sigma ≥ extent / MAX_FEATURE`, i.e. the
 * features `value / sigma` of values up to `extent` stay within
 * {@link MAX_FEATURE}; `what` says what `extent` is.
 */
export function checkFeatureSigma(
  fn: string,
  arg: string,
  sigma: number,
  extent: number,
  what: string,
): void {
  const min = extent / MAX_FEATURE;
  if (sigma < min) {
    throw new SegValueError(
      `${fn}: ${arg} is ${sigma}, expected ≥ ${what} / 2^24 = ${min} (features past 2^24 overflow the lattice's int32 coordinates)`,
    );
  }
}

/** Options of {@link bilateralFeatures}. */
export interface BilateralFeatureOptions {
  /** Spatial σ in pixels (pydensecrf's `sxy`, θ_α). */
  sigmaXy: number;
  /** Colour σ in 0–255 units (pydensecrf's `srgb`, θ_β). */
  sigmaRgb: number;
  /**
   * Pixel size in the units of `sigmaXy`: positions are `x·scale/σ_xy`. Use it
   * when the image was downscaled by `scale` but σ is meant at full size.
   * @default 1
   */
  scale?: number;
}

/**
 * The appearance-kernel features of an image: for pixel p = y·width + x,
 * `[x·s/σ_xy, y·s/σ_xy, r/σ_rgb, g/σ_rgb, b/σ_rgb]` (N×5, point-major).
 * Every feature must stay within {@link MAX_FEATURE}: `σ_rgb ≥ 255/2^24`,
 * `σ_xy ≥ max(width, height)·scale/2^24`.
 *
 * @example
 * const f = bilateralFeatures(img, { sigmaXy: 80, sigmaRgb: 13 });
 * const out = bilateralFilter(f, 5, probs, numLabels);
 */
export function bilateralFeatures(image: RgbImage, options: BilateralFeatureOptions): Float32Array {
  const fn = 'bilateralFeatures';
  const { width, height, data } = image;
  assertInt(fn, 'image.width', width, 1);
  assertInt(fn, 'image.height', height, 1);
  const n = width * height;
  if (data.length !== n * 3) {
    throw new SegShapeError(
      `${fn}: image.data has length ${data.length}, expected width*height*3 = ${n * 3}`,
    );
  }
  assertNumber(fn, 'sigmaXy', options.sigmaXy, Number.MIN_VALUE);
  assertNumber(fn, 'sigmaRgb', options.sigmaRgb, Number.MIN_VALUE);
  const scale = options.scale ?? 1;
  assertNumber(fn, 'scale', scale, Number.MIN_VALUE);
  checkFeatureSigma(fn, 'sigmaRgb', options.sigmaRgb, 255, '255');
  checkFeatureSigma(
    fn,
    'sigmaXy',
    options.sigmaXy,
    Math.max(width, height) * scale,
    `max(width, height)·scale = ${Math.max(width, height) * scale}`,
  );
  const sxy = scale / options.sigmaXy;
  const srgb = 1 / options.sigmaRgb;
  const f = new Float32Array(n * 5);
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p++) {
      const o = p * 5;
      f[o] = x * sxy;
      f[o + 1] = y * sxy;
      f[o + 2] = data[p * 3]! * srgb;
      f[o + 3] = data[p * 3 + 1]! * srgb;
      f[o + 4] = data[p * 3 + 2]! * srgb;
    }
  }
  return f;
}

/**
 * The smoothness-kernel features of a width×height grid: for pixel
 * p = y·width + x, `[x/σ_xy, y/σ_xy]` (N×2, point-major);
 * `σ_xy ≥ max(width, height)/2^24` ({@link MAX_FEATURE}).
 */
export function spatialFeatures(width: number, height: number, sigmaXy: number): Float32Array {
  const fn = 'spatialFeatures';
  assertInt(fn, 'width', width, 1);
  assertInt(fn, 'height', height, 1);
  assertNumber(fn, 'sigmaXy', sigmaXy, Number.MIN_VALUE);
  const extent = Math.max(width, height);
  checkFeatureSigma(fn, 'sigmaXy', sigmaXy, extent, `max(width, height) = ${extent}`);
  const s = 1 / sigmaXy;
  const f = new Float32Array(width * height * 2);
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p++) {
      f[2 * p] = x * s;
      f[2 * p + 1] = y * s;
    }
  }
  return f;
}
