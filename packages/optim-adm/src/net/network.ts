/**
 * The per-image network of the interactive setting, built with
 * @seg/dense-conv: a small fully convolutional net ('same' padding, so
 * output pixel p is aligned with input pixel p) on RGB normalised per image,
 * normalised x, y coordinates, and the geodesic distance to each label's
 * scribbles.
 */
import {
  conv2d,
  createModel,
  defineNet,
  denseForward,
  type Model,
  type NetSpec,
  relu,
} from '@seg/dense-conv';
import {
  assertInt,
  assertIntRange,
  assertLength,
  assertNumber,
  type LabelMap,
  type RgbImage,
  SegShapeError,
  SegValueError,
} from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { checkImage } from '../validate.js';
import { histogramCosts } from './colour-histogram.js';
import { geodesicSeedDistances } from './seed-distance.js';

/** Channels of {@link networkInput} for K labels: R, G, B, x, y, one seed distance per label, then one colour-model channel per label. */
export function inputChannels(numClasses: number): number {
  assertInt('inputChannels', 'numClasses', numClasses, 2);
  return 5 + 2 * numClasses;
}

/** Options of {@link pixelNetSpec}. */
export interface PixelNetOptions {
  /** @default 2 */
  numClasses?: number;
  /** Hidden channels. @default 16 */
  width?: number;
}

/**
 * `conv 3×3 → relu → conv 3×3 (dilation 2) → relu → conv 1×1 → relu →
 * conv 1×1 → K`, all 'same': receptive field 7×7, ~2k parameters at width
 * 24; fast enough to train from scratch on one image in seconds.
 */
export function pixelNetSpec(options: PixelNetOptions = {}): NetSpec {
  const numClasses = options.numClasses ?? 2;
  const width = options.width ?? 16;
  assertInt('pixelNetSpec', 'options.numClasses', numClasses, 2);
  assertInt('pixelNetSpec', 'options.width', width, 1);
  return defineNet({
    inChannels: inputChannels(numClasses),
    layers: [
      conv2d({ name: 'conv1', outChannels: width, filterSize: 3, padding: 'same' }),
      relu({ name: 'relu1' }),
      conv2d({ name: 'conv2', outChannels: width, filterSize: 3, padding: 'same', dilation: 2 }),
      relu({ name: 'relu2' }),
      conv2d({ name: 'conv3', outChannels: width, filterSize: 1 }),
      relu({ name: 'relu3' }),
      conv2d({ name: 'classify', outChannels: numClasses, filterSize: 1 }),
    ],
  });
}

/** A network as the trainers use it: logits `[1, h, w, K]` aligned with the input pixels. */
export interface SegNet {
  readonly model: Model;
  readonly numClasses: number;
  /** Logits of one input `[1, h, w, inputChannels(K)]` (differentiable). */
  forward(input: tf.Tensor4D): tf.Tensor4D;
  /** Frees the network's variables. */
  dispose(): void;
}

/**
 * Throws unless `net` is a live {@link SegNet} whose network takes
 * `inputChannels(numClasses)` channels and gives `numClasses`.
 */
export function checkNet(fn: string, net: SegNet): void {
  if (
    !net ||
    typeof net !== 'object' ||
    typeof net.forward !== 'function' ||
    !net.model ||
    typeof net.model.variables !== 'function'
  ) {
    throw new SegValueError(
      `${fn}: net is ${net === null ? 'null' : typeof net}, expected a SegNet (createPixelNet or segNetFromModel)`,
    );
  }
  const K = net.numClasses;
  assertInt(fn, 'net.numClasses', K, 2);
  const spec = net.model.spec;
  if (spec && spec.outChannels !== K) {
    throw new SegShapeError(
      `${fn}: net's network gives ${spec.outChannels} channels, expected net.numClasses = ${K}`,
    );
  }
  if (spec && spec.inChannels !== inputChannels(K)) {
    throw new SegShapeError(
      `${fn}: net's network takes ${spec.inChannels} input channels, expected inputChannels(${K}) = ${inputChannels(K)} (see networkInput)`,
    );
  }
  for (const [name, v] of Object.entries(net.model.params ?? {})) {
    if (v.isDisposed) throw new SegValueError(`${fn}: net's parameter '${name}' is disposed`);
  }
}

/**
 * Wraps a @seg/dense-conv model: a 'same'-padded model is applied as is, a
 * patch classifier (e.g. `segmentationBackbone({ inChannels: 3 + K, coords: true }).patch`,
 * 3 + 2 + 2K input channels) by its dense forward. Its input must have {@link inputChannels}(K) channels.
 */
export function segNetFromModel(model: Model, mode: 'apply' | 'dense' = 'apply'): SegNet {
  const fn = 'segNetFromModel';
  if (!model || typeof model !== 'object' || !model.spec || typeof model.apply !== 'function') {
    throw new SegValueError(
      `${fn}: model is ${model === null ? 'null' : typeof model}, expected a @seg/dense-conv Model (createModel)`,
    );
  }
  if (mode !== 'apply' && mode !== 'dense') {
    throw new SegValueError(`${fn}: mode is ${JSON.stringify(mode)}, expected 'apply' or 'dense'`);
  }
  const numClasses = model.spec.outChannels;
  return {
    model,
    numClasses,
    forward: (x) => (mode === 'apply' ? model.apply(x) : (denseForward(model, x) as tf.Tensor4D)),
    dispose: () => model.dispose(),
  };
}

/** A seeded {@link pixelNetSpec} network. */
export function createPixelNet(options: PixelNetOptions & { seed?: number } = {}): SegNet {
  return segNetFromModel(createModel(pixelNetSpec(options), options.seed ?? 0));
}

/** Options of {@link networkInput}. */
export interface NetworkInputOptions {
  /** Scale of the x, y channels (mapped to [−1, 1] first). @default 1 */
  coordScale?: number;
  /** Scribbles (label per pixel, −1 unlabelled) for the seed-distance channels. */
  seeds?: LabelMap;
  /** Labels K: the number of seed-distance channels. @default 2 */
  numClasses?: number;
  /**
   * Scale of the seed-distance channels: channel 5 + k is
   * `seedDistance · min(d_k / diagonal, 4)`, d_k the geodesic distance to
   * the seeds of label k ({@link geodesicSeedDistances}); 0 (or no `seeds`)
   * leaves them zero.
   * @default 0
   */
  seedDistance?: number;
  /** Colour weight of the geodesic distance. @default 10 */
  geodesicGamma?: number;
  /**
   * Scale of the colour-model channels: channel 5 + K + k is
   * `colorModel · clip(log P(colour | k) − mean_j log P(colour | j), ±5) / 5`,
   * P from 16³-bin histograms of each label's seed pixels
   * ({@link colorCosts}): how much more likely the pixel's colour is under
   * label k's scribbles than on average. Relative to the image's own
   * scribbles, so its meaning carries across images. 0 (or no `seeds`)
   * leaves them zero.
   * @default 0
   */
  colorModel?: number;
  /** @deprecated Renamed `colorModel` (one spelling in the API); read when `colorModel` is absent, for one release. */
  colourModel?: number;
}

/**
 * The network input of an image, `[1, h, w, 5 + 2K]` float32: each colour
 * channel minus its image mean, divided by the image's overall standard
 * deviation; x and y mapped to [−1, 1] times `coordScale`; the geodesic
 * distance to each label's seeds; then each label's colour model (see
 * {@link NetworkInputOptions}).
 */
export function networkInput(image: RgbImage, options: NetworkInputOptions = {}): tf.Tensor4D {
  const fn = 'networkInput';
  const coordScale = options.coordScale ?? 1;
  assertNumber(fn, 'options.coordScale', coordScale, 0);
  const K = options.numClasses ?? 2;
  assertInt(fn, 'options.numClasses', K, 2);
  const distScale = options.seedDistance ?? 0;
  assertNumber(fn, 'options.seedDistance', distScale, 0);
  const gamma = options.geodesicGamma ?? 10;
  assertNumber(fn, 'options.geodesicGamma', gamma, 0);
  const colourScale = options.colorModel ?? options.colourModel ?? 0;
  assertNumber(fn, 'options.colorModel', colourScale, 0);
  checkImage(fn, image);
  const { width: w, height: h, data } = image;
  const seeds = options.seeds;
  if (seeds && (seeds.width !== w || seeds.height !== h)) {
    throw new SegValueError(
      `${fn}: options.seeds is ${seeds.width}×${seeds.height}, expected the image's ${w}×${h}`,
    );
  }
  if (seeds) {
    assertLength(fn, 'options.seeds.data', seeds.data, w * h, 'width*height');
    assertIntRange(fn, 'options.seeds.data', seeds.data, -1, K - 1);
  }
  const dist = seeds && distScale > 0 ? geodesicSeedDistances(image, seeds, K, gamma) : null;
  const costs = seeds && colourScale > 0 ? histogramCosts(image, seeds, K) : null;
  const diag = Math.hypot(w, h);
  const C = inputChannels(K);
  const n = w * h;
  const mean = [0, 0, 0];
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) mean[c]! += data[3 * p + c]!;
  for (let c = 0; c < 3; c++) mean[c]! /= n;
  let v = 0;
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) {
      const d = data[3 * p + c]! - mean[c]!;
      v += d * d;
    }
  }
  const inv = 1 / Math.sqrt(Math.max(v / (3 * n), 1));
  const f = new Float32Array(n * C);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const o = p * C;
      for (let c = 0; c < 3; c++) f[o + c] = (data[3 * p + c]! - mean[c]!) * inv;
      f[o + 3] = coordScale * (w > 1 ? (2 * x) / (w - 1) - 1 : 0);
      f[o + 4] = coordScale * (h > 1 ? (2 * y) / (h - 1) - 1 : 0);
      if (dist) {
        for (let k = 0; k < K; k++) f[o + 5 + k] = distScale * Math.min(dist[p * K + k]! / diag, 4);
      }
      if (costs) {
        let m = 0;
        for (let k = 0; k < K; k++) m += costs[p * K + k]!;
        m /= K;
        for (let k = 0; k < K; k++) {
          const r = Math.max(-5, Math.min(5, m - costs[p * K + k]!));
          f[o + 5 + K + k] = (colourScale * r) / 5;
        }
      }
    }
  }
  return tf.tensor4d(f, [1, h, w, C], 'float32');
}
