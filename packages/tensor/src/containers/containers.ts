import * as tf from '@tensorflow/tfjs-core';
import {
  assertFinite,
  assertInt,
  assertIntRange,
  assertLength,
  assertLiveTensor,
  assertNumber,
  assertObject,
  formatShape,
  SegRangeError,
  SegShapeError,
  SegValueError,
} from '../errors.js';

/** An RGB image: `data[(y*width + x)*3 + c]`, 0–255. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** A label per pixel, `data[y*width + x]`; `-1` means unlabelled (a scribble map) . */
export interface LabelMap {
  readonly width: number;
  readonly height: number;
  readonly data: Int32Array;
}

/** K probabilities per pixel, pixel-major: `data[(y*width + x)*numLabels + k]`. */
export interface ProbMap {
  readonly width: number;
  readonly height: number;
  readonly numLabels: number;
  readonly data: Float32Array;
}

function checkSize(fn: string, width: number, height: number, prefix = ''): void {
  assertInt(fn, `${prefix}width`, width, 1);
  assertInt(fn, `${prefix}height`, height, 1);
}

/** Checks an {@link RgbImage} given to `fn`: sizes, data type and length. */
function checkRgb(fn: string, image: RgbImage): void {
  assertObject(fn, 'image', image);
  checkSize(fn, image.width, image.height, 'image.');
  if (!(image.data instanceof Uint8Array)) {
    throw new SegShapeError(`${fn}: image.data is not a Uint8Array`);
  }
  assertLength(fn, 'image.data', image.data, image.width * image.height * 3, 'width*height*3');
}

/** Checks a {@link LabelMap} given to `fn`: sizes, data type and length. */
function checkLabels(fn: string, map: LabelMap): void {
  assertObject(fn, 'map', map);
  checkSize(fn, map.width, map.height, 'map.');
  if (!(map.data instanceof Int32Array)) {
    throw new SegShapeError(`${fn}: map.data is not an Int32Array`);
  }
  assertLength(fn, 'map.data', map.data, map.width * map.height, 'width*height');
}

/** Checks a {@link ProbMap} given to `fn`: sizes, data type and length. */
function checkProbs(fn: string, map: ProbMap): void {
  assertObject(fn, 'map', map);
  checkSize(fn, map.width, map.height, 'map.');
  assertInt(fn, 'map.numLabels', map.numLabels, 1);
  if (!(map.data instanceof Float32Array)) {
    throw new SegShapeError(`${fn}: map.data is not a Float32Array`);
  }
  const n = map.width * map.height * map.numLabels;
  assertLength(fn, 'map.data', map.data, n, 'width*height*numLabels');
}

/** Validates and returns an {@link RgbImage}. */
export function rgbImage(width: number, height: number, data: Uint8Array): RgbImage {
  checkSize('rgbImage', width, height);
  if (!(data instanceof Uint8Array)) throw new SegShapeError('rgbImage: data is not a Uint8Array');
  assertLength('rgbImage', 'data', data, width * height * 3, 'width*height*3');
  return { width, height, data };
}

/**
 * Validates and returns a {@link LabelMap}: labels are ≥ -1 (-1 unlabelled),
 * and ≤ `numLabels-1` when `numLabels` is given.
 */
export function labelMap(
  width: number,
  height: number,
  data: Int32Array,
  numLabels?: number,
): LabelMap {
  checkSize('labelMap', width, height);
  if (!(data instanceof Int32Array)) throw new SegShapeError('labelMap: data is not an Int32Array');
  assertLength('labelMap', 'data', data, width * height, 'width*height');
  if (numLabels !== undefined) {
    assertInt('labelMap', 'numLabels', numLabels, 2);
    assertIntRange('labelMap', 'data', data, -1, numLabels - 1);
  } else {
    assertIntRange('labelMap', 'data', data, -1, 2 ** 31 - 1);
  }
  return { width, height, data };
}

/**
 * Validates and returns a {@link ProbMap}: finite, non-negative, each pixel's
 * K values summing to 1 within `tolerance`.
 */
export function probMap(
  width: number,
  height: number,
  numLabels: number,
  data: Float32Array,
  tolerance = 1e-3,
): ProbMap {
  checkSize('probMap', width, height);
  assertInt('probMap', 'numLabels', numLabels, 2);
  assertNumber('probMap', 'tolerance', tolerance, 0);
  if (!(data instanceof Float32Array))
    throw new SegShapeError('probMap: data is not a Float32Array');
  assertLength('probMap', 'data', data, width * height * numLabels, 'width*height*numLabels');
  assertFinite('probMap', 'data', data);
  for (let p = 0; p < width * height; p++) {
    let s = 0;
    for (let k = 0; k < numLabels; k++) {
      const v = data[p * numLabels + k]!;
      if (v < 0)
        throw new SegValueError(
          `probMap: data[${p * numLabels + k}] is ${v}, expected a probability ≥ 0`,
        );
      s += v;
    }
    if (Math.abs(s - 1) > tolerance) {
      throw new SegValueError(
        `probMap: the probabilities of pixel ${p} sum to ${s}, expected 1 (±${tolerance})`,
      );
    }
  }
  return { width, height, numLabels, data };
}

/**
 * A label map from a coded gray image (a scribble PNG): `codes[v]` is the
 * label of gray value `v`; values not in `codes` become -1.
 *
 * @example GrabCut scribbles (0 none, 1 object, 2 background) → object 1, background 0:
 * labelMapFromCodes(gray, { 1: 1, 2: 0 })
 */
export function labelMapFromCodes(
  gray: { width: number; height: number; data: Uint8Array },
  codes: Record<number, number>,
): LabelMap {
  const fn = 'labelMapFromCodes';
  assertObject(fn, 'gray', gray);
  checkSize(fn, gray.width, gray.height, 'gray.');
  if (!(gray.data instanceof Uint8Array))
    throw new SegShapeError(`${fn}: gray.data is not a Uint8Array`);
  assertLength(fn, 'gray.data', gray.data, gray.width * gray.height, 'width*height');
  assertObject(fn, 'codes', codes);
  for (const [v, label] of Object.entries(codes)) {
    if (!(Number.isInteger(label) && label >= -1 && label < 2 ** 31)) {
      throw new SegRangeError(
        `${fn}: codes[${v}] is ${String(label)}, expected an integer label ≥ -1`,
      );
    }
  }
  const out = new Int32Array(gray.width * gray.height);
  for (let i = 0; i < out.length; i++) out[i] = codes[gray.data[i]!] ?? -1;
  return labelMap(gray.width, gray.height, out);
}

/** An `[H, W, 3]` float32 tensor of the image, values 0–255 unless `scale` is given. */
export function imageToTensor(image: RgbImage, scale = 1): tf.Tensor3D {
  checkRgb('imageToTensor', image);
  assertNumber('imageToTensor', 'scale', scale);
  const f = new Float32Array(image.data.length);
  for (let i = 0; i < f.length; i++) f[i] = image.data[i]! * scale;
  return tf.tensor3d(f, [image.height, image.width, 3], 'float32');
}

/** An {@link RgbImage} from an `[H, W, 3]` tensor, values rounded and clamped to 0–255 after `× scale`. */
export function tensorToImage(t: tf.Tensor, scale = 1): RgbImage {
  assertLiveTensor('tensorToImage', 't', t);
  assertNumber('tensorToImage', 'scale', scale);
  if (t.rank !== 3 || t.shape[2] !== 3 || t.size === 0) {
    throw new SegShapeError(
      `tensorToImage: tensor has shape ${formatShape(t.shape)}, expected [H,W,3] with H, W ≥ 1`,
    );
  }
  const v = t.dataSync();
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i]! * scale;
    // NaN would become 0 in the Uint8Array: refuse it (±Infinity is clamped like any value)
    if (Number.isNaN(x)) {
      throw new SegValueError(`tensorToImage: tensor[${i}] × scale is NaN, expected a number`);
    }
    out[i] = Math.max(0, Math.min(255, Math.round(x)));
  }
  return rgbImage(t.shape[1]!, t.shape[0]!, out);
}

/** An `[H, W]` int32 tensor of the labels. */
export function labelsToTensor(map: LabelMap): tf.Tensor2D {
  checkLabels('labelsToTensor', map);
  return tf.tensor2d(map.data, [map.height, map.width], 'int32');
}

/** A {@link LabelMap} from an `[H, W]` integer tensor. */
export function tensorToLabels(t: tf.Tensor): LabelMap {
  assertLiveTensor('tensorToLabels', 't', t);
  if (t.rank !== 2 || t.size === 0)
    throw new SegShapeError(
      `tensorToLabels: tensor has shape ${formatShape(t.shape)}, expected [H,W] with H, W ≥ 1`,
    );
  if (t.dtype !== 'int32')
    throw new SegShapeError(`tensorToLabels: tensor has dtype ${t.dtype}, expected int32`);
  return labelMap(t.shape[1]!, t.shape[0]!, Int32Array.from(t.dataSync()));
}

/** An `[H, W, K]` float32 tensor of the probabilities. */
export function probsToTensor(map: ProbMap): tf.Tensor3D {
  checkProbs('probsToTensor', map);
  return tf.tensor3d(map.data, [map.height, map.width, map.numLabels], 'float32');
}

/** A validated {@link ProbMap} from an `[H, W, K]` tensor of probabilities. */
export function tensorToProbs(t: tf.Tensor, tolerance = 1e-3): ProbMap {
  assertLiveTensor('tensorToProbs', 't', t);
  if (t.rank !== 3 || t.size === 0)
    throw new SegShapeError(
      `tensorToProbs: tensor has shape ${formatShape(t.shape)}, expected [H,W,K] with H, W, K ≥ 1`,
    );
  return probMap(t.shape[1]!, t.shape[0]!, t.shape[2]!, Float32Array.from(t.dataSync()), tolerance);
}

/** The per-pixel argmax of a {@link ProbMap}. */
export function argmaxLabels(map: ProbMap): LabelMap {
  checkProbs('argmaxLabels', map);
  const { width, height, numLabels: K, data } = map;
  const out = new Int32Array(width * height);
  for (let p = 0; p < out.length; p++) {
    let best = 0;
    let bv = data[p * K]!;
    let nan = Number.isNaN(bv);
    for (let k = 1; k < K; k++) {
      const v = data[p * K + k]!;
      if (v > bv) {
        bv = v;
        best = k;
      } else if (Number.isNaN(v)) nan = true;
    }
    if (nan) {
      throw new SegValueError(`argmaxLabels: map.data has a NaN at pixel ${p}, expected numbers`);
    }
    out[p] = best;
  }
  return { width, height, data: out };
}
