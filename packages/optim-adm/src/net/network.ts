/**
 * The per-image network of the interactive setting, built with
 * @seg/dense-conv: a small fully convolutional net ('same' padding, so
 * output pixel p is aligned with input pixel p) on RGB normalised per image
 * plus normalised x, y coordinates.
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
import { assertInt, type RgbImage } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';

/** Channels of {@link networkInput}: R, G, B, x, y. */
export const INPUT_CHANNELS = 5;

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
    inChannels: INPUT_CHANNELS,
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
  /** Logits of one input `[1, h, w, INPUT_CHANNELS]` (differentiable). */
  forward(input: tf.Tensor4D): tf.Tensor4D;
  dispose(): void;
}

/**
 * Wraps a @seg/dense-conv model: a 'same'-padded model is applied as is, a
 * patch classifier (e.g. `segmentationBackbone({ coords: true }).patch`) by
 * its dense forward. Its input must have {@link INPUT_CHANNELS} channels.
 */
export function segNetFromModel(model: Model, mode: 'apply' | 'dense' = 'apply'): SegNet {
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

/**
 * The network input of an image, `[1, h, w, 5]` float32: each colour
 * channel minus its image mean, divided by the image's overall standard
 * deviation, then x and y mapped to [−1, 1] times `coordScale`.
 */
export function networkInput(image: RgbImage, coordScale = 1): tf.Tensor4D {
  const { width: w, height: h, data } = image;
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
  const f = new Float32Array(n * INPUT_CHANNELS);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const o = p * INPUT_CHANNELS;
      for (let c = 0; c < 3; c++) f[o + c] = (data[3 * p + c]! - mean[c]!) * inv;
      f[o + 3] = coordScale * (w > 1 ? (2 * x) / (w - 1) - 1 : 0);
      f[o + 4] = coordScale * (h > 1 ? (2 * y) / (h - 1) - 1 : 0);
    }
  }
  return tf.tensor4d(f, [1, h, w, INPUT_CHANNELS], 'float32');
}
