/**
 * The dense affinity of a batch of images, built once and reused: in
 * training the images are fixed while the network changes, so the lattice
 * over their xy+rgb features need not be rebuilt
 * at every step.
 */
import {
  assertNumber,
  formatShape,
  optionsObject,
  SegShapeError,
  SegValueError,
} from '@seg/tensor';
import type * as tf from '@tensorflow/tfjs-core';
import { checkPositive, checkTensor, readImage } from '../validate.js';
import {
  type Affinity,
  type AffinityMethod,
  bilateralFeatureArray,
  buildAffinity,
} from './affinity.js';
import { type Resampler, resampler, scaledSize } from './resample.js';

/** Options of {@link denseCrfKernel}: the affinity's parameters. */
export interface DenseKernelOptions {
  /** σ of the colour term, image units (0–255). @default 15 */
  sigmaRgb?: number;
  /** σ of the position term, in pixels of the input image. @default 100 */
  sigmaXy?: number;
  /**
   * Resample the image and the probabilities by this factor (bilinear,
   * half-pixel centres) before the loss, σ_xy scaled with them; the loss is
   * the one on the smaller grid and its gradient flows back through the
   * resampling. meng-tang/rloss uses 0.5.
   * @default 1
   */
  scale?: number;
  /**
   * `'lattice'`: the permutohedral lattice of `@seg/crf-solvers`, O(N);
   * `'exact'`: the exact O(N²) sum, for images of at most
   * `EXACT_MAX_PIXELS` pixels (after `scale`).
   * @default 'lattice'
   */
  method?: AffinityMethod;
}

/** @internal One image's affinity on the loss grid. */
export interface KernelExample {
  affinity: Affinity;
}

/**
 * The fully connected Gaussian affinity `W` of N images, made by
 * {@link denseCrfKernel}, to pass to {@link denseCrfLoss} and
 * {@link normalizedCutLoss} in place of the image tensor. It holds, per
 * image, the permutohedral lattice (or the features, for `'exact'`), and no
 * tensors. Call {@link DenseCrfKernel.dispose} when the images
 * leave the training set; until then every loss call with it reuses them.
 */
export class DenseCrfKernel {
  /** Number of images N. */
  readonly numExamples: number;
  /** Height H of the images (and of the probabilities the losses take). */
  readonly height: number;
  /** Width W of the images. */
  readonly width: number;
  /** Height of the loss grid, `floor(H·scale)` (H when `scale` = 1). */
  readonly gridHeight: number;
  /** Width of the loss grid. */
  readonly gridWidth: number;
  readonly sigmaRgb: number;
  readonly sigmaXy: number;
  readonly scale: number;
  readonly method: AffinityMethod;
  /** @internal The resampling to the loss grid, or null when it is the input grid. */
  readonly resample: Resampler | null;
  private examples: KernelExample[] | null;

  /** @internal Use {@link denseCrfKernel}. */
  constructor(
    dims: { n: number; h: number; w: number },
    params: Required<DenseKernelOptions>,
    resample: Resampler | null,
    examples: KernelExample[],
  ) {
    this.numExamples = dims.n;
    this.height = dims.h;
    this.width = dims.w;
    this.gridHeight = resample ? resample.h : dims.h;
    this.gridWidth = resample ? resample.w : dims.w;
    this.sigmaRgb = params.sigmaRgb;
    this.sigmaXy = params.sigmaXy;
    this.scale = params.scale;
    this.method = params.method;
    this.resample = resample;
    this.examples = examples;
  }

  /** True once {@link DenseCrfKernel.dispose} was called. */
  get disposed(): boolean {
    return this.examples === null;
  }

  /** @internal Image `e`'s affinity; throws (naming `fn`) after `dispose`. */
  example(fn: string, e: number, when = ''): KernelExample {
    if (this.examples === null) throw new SegValueError(`${fn}: the kernel was disposed${when}`);
    return this.examples[e]!;
  }

  /** Frees the lattices; the losses throw when given the kernel afterwards. Idempotent. */
  dispose(): void {
    if (this.examples === null) return;
    for (const ex of this.examples) ex.affinity.dispose();
    this.examples = null;
  }
}

/**
 * The largest bilateral feature (`x/σ_xy`, `y/σ_xy`, `rgb/σ_rgb`) allowed,
 * 2^24: the lattice rounds its coordinates (about 26× the features) to int32,
 * and beyond 2^24 float32 features lose their integer part anyway. It bounds
 * the σ's from below: `σ_rgb ≥ 255 / 2^24`, `σ_xy ≥ max(H, W) / 2^24`.
 */
const MAX_FEATURE = 2 ** 24;

/** @internal Checks the affinity options and fills in the defaults. */
export function kernelParams(
  fn: string,
  options: DenseKernelOptions,
): Required<DenseKernelOptions> {
  const sigmaRgb = options.sigmaRgb ?? 15;
  const sigmaXy = options.sigmaXy ?? 100;
  const scale = options.scale ?? 1;
  const method = options.method ?? 'lattice';
  assertNumber(fn, 'sigmaRgb', sigmaRgb, 255 / MAX_FEATURE);
  checkPositive(fn, 'sigmaXy', sigmaXy);
  checkPositive(fn, 'scale', scale, 1);
  if (method !== 'lattice' && method !== 'exact') {
    throw new SegValueError(
      `${fn}: method is ${JSON.stringify(method)}, expected 'lattice' or 'exact'`,
    );
  }
  return { sigmaRgb, sigmaXy, scale, method };
}

/**
 * @internal Builds the kernel of an `[N,H,W,3]` image tensor whose shape was
 * checked by the caller (`fn` names the caller in error messages).
 */
export function buildKernel(
  fn: string,
  image: tf.Tensor,
  params: Required<DenseKernelOptions>,
): DenseCrfKernel {
  const [n, H, W] = image.shape as [number, number, number, number];
  const { sigmaRgb, sigmaXy, scale, method } = params;
  // The grid's coordinates are at most max(H, W)·scale, its σ_xy is sigmaXy·scale.
  assertNumber(fn, 'sigmaXy', sigmaXy, Math.max(H, W) / MAX_FEATURE);
  if (!(sigmaXy * scale > 0)) {
    throw new SegValueError(
      `${fn}: sigmaXy·scale is ${sigmaXy * scale} (sigmaXy = ${sigmaXy}, scale = ${scale}), expected > 0`,
    );
  }
  const img = readImage(fn, 'image', image);
  const h = scale === 1 ? H : scaledSize(H, scale);
  const w = scale === 1 ? W : scaledSize(W, scale);
  const rs = h === H && w === W ? null : resampler(H, W, h, w);
  const examples: KernelExample[] = [];
  try {
    for (let e = 0; e < n; e++) {
      const im = rs
        ? rs.forward(img, e * H * W * 3, 3)
        : img.subarray(e * H * W * 3, (e + 1) * H * W * 3);
      const features = bilateralFeatureArray(im, 0, h, w, sigmaXy * scale, sigmaRgb);
      const affinity = buildAffinity(fn, method, features, 5, h, w);
      examples.push({ affinity });
    }
  } catch (err) {
    for (const ex of examples) ex.affinity.dispose();
    throw err;
  }
  return new DenseCrfKernel({ n, h: H, w: W }, params, rs, examples);
}

/**
 * Builds the dense-CRF / normalized-cut affinity of a batch of images once,
 * for every later {@link denseCrfLoss} and {@link normalizedCutLoss} call on
 * the same images (pass it in place of the image tensor). This is the
 * training case: the image is fixed while the network changes, and building
 * the lattice costs several filterings.
 *
 * The kernel copies what it needs out of `image` (which may be disposed
 * afterwards) and holds no tensors; its lattices live until
 * {@link DenseCrfKernel.dispose} (or garbage collection).
 *
 * @param image `[N,H,W,3]` float32 or int32, values 0–255.
 * @example
 * const kernel = denseCrfKernel(images, { sigmaRgb: 15, sigmaXy: 100, scale: 0.5 });
 * for (let step = 0; step < steps; step++) {
 *   const grads = tf.grads((z) => denseCrfLoss(tf.softmax(z), kernel, { reduction: 'mean' }))([logits]);
 *   …
 * }
 * kernel.dispose();
 */
export function denseCrfKernel(image: tf.Tensor, options: DenseKernelOptions = {}): DenseCrfKernel {
  const fn = 'denseCrfKernel';
  const params = kernelParams(fn, optionsObject(fn, options));
  checkTensor(fn, 'image', image);
  const sh = image.shape;
  if (sh.length !== 4 || sh[3] !== 3 || sh[0]! < 1 || sh[1]! < 1 || sh[2]! < 1) {
    throw new SegShapeError(
      `${fn}: image has shape ${formatShape(sh)}, expected [N,H,W,3] with N, H, W ≥ 1`,
    );
  }
  if (image.dtype !== 'float32' && image.dtype !== 'int32') {
    throw new SegShapeError(`${fn}: image has dtype ${image.dtype}, expected float32 or int32`);
  }
  return buildKernel(fn, image, params);
}
