/**
 * The data of the data-set setting: examples (image, scribbles, optional
 * truth), a seeded train / test split, and the training minibatches —
 * random crops of a fixed size at a jittered scale, flipped at random —
 * sampled on typed arrays.
 */
import {
  assertInt,
  assertLength,
  assertNumber,
  type LabelMap,
  type RgbImage,
  Rng,
  SegShapeError,
  SegValueError,
} from '@seg/tensor';
import type { GrayMask } from '../metrics/iou.js';
import { NET_STRIDE } from './network.js';

/** One image of a data set: its scribbles (-1 unlabelled, 0 background, 1 object) and, if known, its truth. */
export interface DatasetExample {
  name: string;
  image: RgbImage;
  seeds: LabelMap;
  /** 0 background, 255 object (128: left out of every score); null when unknown. */
  mask: GrayMask | null;
}

/**
 * A seeded split of `names` into `train` (the first `trainCount` of a
 * permutation by `seed`) and `test` (the rest), each sorted.
 *
 * @example
 * const { train, test } = splitNames(names, 200, 1); // 262 horses → 200 / 62
 */
export function splitNames(
  names: readonly string[],
  trainCount: number,
  seed = 0,
): { train: string[]; test: string[] } {
  const fn = 'splitNames';
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
    throw new SegValueError(`${fn}: names is not an array of strings`);
  }
  assertInt(fn, 'trainCount', trainCount, 0, names.length);
  assertInt(fn, 'seed', seed, 0);
  const order = new Rng(seed).permutation(names.length);
  const pick = (from: number, to: number) =>
    Array.from(order.slice(from, to), (i) => names[i]!).sort();
  return { train: pick(0, trainCount), test: pick(trainCount, names.length) };
}

/**
 * The size at which an image of `width`×`height` is seen whole by the
 * network: scaled so its shorter side is about `shortSide`, each side
 * rounded to a multiple of {@link NET_STRIDE} (at least one stride).
 */
export function networkSize(width: number, height: number, shortSide: number): [number, number] {
  const fn = 'networkSize';
  assertInt(fn, 'width', width, 1);
  assertInt(fn, 'height', height, 1);
  assertNumber(fn, 'shortSide', shortSide, 1);
  const s = shortSide / Math.min(width, height);
  const round = (v: number) => Math.max(NET_STRIDE, Math.round((v * s) / NET_STRIDE) * NET_STRIDE);
  return [round(width), round(height)];
}

/** Options of {@link sampleBatch}. */
export interface BatchOptions {
  /** Crop size `[height, width]` (multiples of {@link NET_STRIDE}). */
  crop: [number, number];
  /** The scale images are seen at: shorter side in pixels (see {@link networkSize}). */
  shortSide: number;
  /** The scale is multiplied by a factor drawn log-uniformly from `[1/jitter, jitter]`. @default 1.25 */
  jitter?: number;
  /** Flip horizontally with probability ½. @default true */
  flip?: boolean;
}

/** A minibatch: `n` crops of h×w, flat NHWC / NHW arrays. */
export interface Batch {
  n: number;
  height: number;
  width: number;
  /** n·h·w·3 RGB, 0–255. */
  rgb: Float32Array;
  /** n·h·w scribbles, -1 unlabelled. */
  seeds: Int32Array;
  /** n·h·w truth (0 / 1, -1 left out), or null when an example has none. */
  truth: Int32Array | null;
  /** Where each crop was taken from its image (to take labels of the whole image alike, {@link cropLabels}). */
  windows: CropWindow[];
}

/**
 * A crop's window in its source image: output pixel (x, y) averages the
 * source pixels from `(x0 + x·step, y0 + y·stepY)` over one step each way;
 * `mirror` flips the output horizontally.
 */
export interface CropWindow {
  x0: number;
  y0: number;
  step: number;
  /** @default step */
  stepY?: number;
  mirror: boolean;
}

/**
 * Samples one crop of each example in `indices` (in order), with `rng`:
 * scale `shortSide / min(W, H)` times a jitter, a random window (the image
 * is padded by replication where the crop exceeds it), a random flip.
 * Colours are box-averaged over each output pixel's source window;
 * scribbles take the most frequent label among the window's scribbled
 * pixels (so thin strokes survive the reduction); the truth takes the
 * window's centre pixel.
 */
export function sampleBatch(
  examples: readonly DatasetExample[],
  indices: readonly number[],
  rng: Rng,
  options: BatchOptions,
): Batch {
  const fn = 'sampleBatch';
  const [h, w] = options.crop;
  assertInt(fn, 'options.crop[0]', h, NET_STRIDE);
  assertInt(fn, 'options.crop[1]', w, NET_STRIDE);
  if (h % NET_STRIDE !== 0 || w % NET_STRIDE !== 0) {
    throw new SegShapeError(
      `${fn}: options.crop is ${h}×${w}, expected multiples of ${NET_STRIDE}`,
    );
  }
  assertNumber(fn, 'options.shortSide', options.shortSide, 1);
  const jitter = options.jitter ?? 1.25;
  assertNumber(fn, 'options.jitter', jitter, 1);
  const flip = options.flip ?? true;
  const n = indices.length;
  indices.forEach((i, j) => {
    assertInt(fn, `indices[${j}]`, i, 0, examples.length - 1);
  });
  const withTruth = indices.every((i) => examples[i]!.mask !== null);
  const rgb = new Float32Array(n * h * w * 3);
  const seeds = new Int32Array(n * h * w);
  const truth = withTruth ? new Int32Array(n * h * w) : null;
  const windows: CropWindow[] = [];
  indices.forEach((i, b) => {
    const ex = examples[i]!;
    const { width: W, height: H } = ex.image;
    const logJ = Math.log(jitter);
    const scale = (options.shortSide / Math.min(W, H)) * Math.exp((2 * rng.uniform() - 1) * logJ);
    // source pixels per output pixel, and the window's top-left in source pixels
    const step = 1 / scale;
    const x0 = (W - w * step) * rng.uniform();
    const y0 = (H - h * step) * rng.uniform();
    const mirror = flip && rng.uniform() < 0.5;
    windows.push({ x0, y0, step, mirror });
    cropInto(ex, windows[b]!, w, h, b, rgb, seeds, truth);
  });
  return { n, height: h, width: w, rgb, seeds, truth, windows };
}

/**
 * The whole image at the network's scale (see {@link networkSize}):
 * colours, scribbles and truth resampled as in {@link sampleBatch}.
 */
export function resizeExample(ex: DatasetExample, shortSide: number): Batch {
  const [w, h] = networkSize(ex.image.width, ex.image.height, shortSide);
  const rgb = new Float32Array(h * w * 3);
  const seeds = new Int32Array(h * w);
  const truth = ex.mask ? new Int32Array(h * w) : null;
  // stretch to exactly w×h (the rounding changes the aspect by < one stride)
  const sx = ex.image.width / w;
  const sy = ex.image.height / h;
  const win = { x0: 0, y0: 0, step: sx, stepY: sy, mirror: false };
  cropInto(ex, win, w, h, 0, rgb, seeds, truth);
  return { n: 1, height: h, width: w, rgb, seeds, truth, windows: [win] };
}

/**
 * Labels of a whole image, given on a `lw`×`lh` grid over its `W`×`H`
 * pixels (e.g. a Y-step's proposal at the network's scale), taken into slot
 * `b` of an n·h·w crop array as {@link sampleBatch} took the crop with
 * `win`: each crop pixel gets the label under its window's centre, as the
 * truth is taken.
 */
export function cropLabels(
  labels: Int32Array,
  lw: number,
  lh: number,
  W: number,
  H: number,
  win: CropWindow,
  w: number,
  h: number,
  b: number,
  out: Int32Array,
): void {
  const fn = 'cropLabels';
  for (const [arg, v] of [
    ['lw', lw],
    ['lh', lh],
    ['W', W],
    ['H', H],
    ['w', w],
    ['h', h],
  ] as const)
    assertInt(fn, arg, v, 1);
  assertInt(fn, 'b', b, 0);
  assertLength(fn, 'labels', labels, lw * lh, 'lw*lh');
  if (out.length < (b + 1) * h * w) {
    throw new SegShapeError(
      `${fn}: out has length ${out.length}, expected at least (b+1)*h*w = ${(b + 1) * h * w}`,
    );
  }
  if (!win || typeof win !== 'object') {
    throw new SegValueError(`${fn}: win is ${String(win)}, expected a CropWindow`);
  }
  const sx = win.step;
  const sy = win.stepY ?? win.step;
  for (const [arg, v] of [
    ['win.step', sx],
    ['win.stepY', sy],
  ] as const) {
    if (!(v > 0) || !Number.isFinite(v))
      throw new SegValueError(`${fn}: ${arg} is ${v}, expected a finite number > 0`);
  }
  assertNumber(fn, 'win.x0', win.x0);
  assertNumber(fn, 'win.y0', win.y0);
  const fx = lw / W;
  const fy = lh / H;
  for (let y = 0; y < h; y++) {
    const cy = Math.min(H - 1, Math.max(0, Math.floor(win.y0 + y * sy + sy / 2)));
    const ly = Math.min(lh - 1, Math.floor(cy * fy));
    for (let x = 0; x < w; x++) {
      const xo = win.mirror ? w - 1 - x : x;
      const cx = Math.min(W - 1, Math.max(0, Math.floor(win.x0 + x * sx + sx / 2)));
      const lx = Math.min(lw - 1, Math.floor(cx * fx));
      out[(b * h + y) * w + xo] = labels[ly * lw + lx]!;
    }
  }
}

/** Resamples a window of `ex` into slot `b` of the batch arrays. */
function cropInto(
  ex: DatasetExample,
  win: CropWindow,
  w: number,
  h: number,
  b: number,
  rgb: Float32Array,
  seeds: Int32Array,
  truth: Int32Array | null,
): void {
  const { width: W, height: H, data } = ex.image;
  const sd = ex.seeds.data;
  const mask = ex.mask?.data;
  const sx = win.step;
  const sy = win.stepY ?? win.step;
  const clampX = (v: number) => Math.min(W - 1, Math.max(0, v));
  const clampY = (v: number) => Math.min(H - 1, Math.max(0, v));
  const counts = [0, 0, 0, 0];
  for (let y = 0; y < h; y++) {
    const ya = win.y0 + y * sy;
    const yLo = Math.floor(ya);
    const yHi = Math.max(yLo + 1, Math.floor(ya + sy));
    for (let x = 0; x < w; x++) {
      const xo = win.mirror ? w - 1 - x : x;
      const xa = win.x0 + x * sx;
      const xLo = Math.floor(xa);
      const xHi = Math.max(xLo + 1, Math.floor(xa + sx));
      let r = 0;
      let g = 0;
      let bl = 0;
      let cnt = 0;
      counts.fill(0);
      for (let yy = yLo; yy < yHi; yy++) {
        const ys = clampY(yy);
        for (let xx = xLo; xx < xHi; xx++) {
          const p = ys * W + clampX(xx);
          r += data[3 * p]!;
          g += data[3 * p + 1]!;
          bl += data[3 * p + 2]!;
          cnt++;
          const s = sd[p]!;
          if (s >= 0 && s < counts.length) counts[s]!++;
        }
      }
      const o = (b * h + y) * w + xo;
      rgb[3 * o] = r / cnt;
      rgb[3 * o + 1] = g / cnt;
      rgb[3 * o + 2] = bl / cnt;
      let best = -1;
      for (let k = 0; k < counts.length; k++)
        if (counts[k]! > 0 && (best < 0 || counts[k]! > counts[best]!)) best = k;
      seeds[o] = best;
      if (truth && mask) {
        const c = clampY(Math.floor(ya + sy / 2)) * W + clampX(Math.floor(xa + sx / 2));
        const m = mask[c]!;
        truth[o] = m === 128 ? -1 : m >= 128 ? 1 : 0;
      }
    }
  }
}

/** Checks the examples of a data set: image, scribbles of the same size, masks (if any) too. */
export function checkExamples(fn: string, examples: readonly DatasetExample[], needSeeds: boolean) {
  if (!Array.isArray(examples) || examples.length === 0) {
    throw new SegValueError(`${fn}: examples is empty, expected at least one image`);
  }
  examples.forEach((ex: DatasetExample, i: number) => {
    const { width: W, height: H } = ex.image;
    if (ex.seeds.width !== W || ex.seeds.height !== H) {
      throw new SegShapeError(
        `${fn}: examples[${i}] (${ex.name}): seeds are ${ex.seeds.width}×${ex.seeds.height}, expected the image's ${W}×${H}`,
      );
    }
    if (ex.mask && (ex.mask.width !== W || ex.mask.height !== H)) {
      throw new SegShapeError(
        `${fn}: examples[${i}] (${ex.name}): mask is ${ex.mask.width}×${ex.mask.height}, expected the image's ${W}×${H}`,
      );
    }
    if (needSeeds && !ex.seeds.data.some((v) => v >= 0)) {
      throw new SegValueError(
        `${fn}: examples[${i}] (${ex.name}): seeds are empty, expected at least one scribbled pixel`,
      );
    }
  });
}
