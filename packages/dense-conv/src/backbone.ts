import { assertInt, type Rng, SegShapeError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { toDense } from './dense/convert.js';
import { createModel, type Model } from './model/model.js';
import { type ReceptiveField, receptiveField } from './spec/analyse.js';
import { conv2d, defineNet, type LayerInput, linear, maxPool, relu } from './spec/define.js';
import type { NetSpec } from './spec/types.js';

/** Options of {@link backboneSpec} and {@link segmentationBackbone}. */
export interface BackboneOptions {
  /** Output classes K. @default 2 */
  numClasses?: number;
  /** Image channels (before the optional coordinates). @default 3 (RGB) */
  inChannels?: number;
  /** Two more input channels with each pixel's normalised (x, y), see {@link addCoordChannels}. @default false */
  coords?: boolean;
  /**
   * Channels of the four 3×3 convolutions (conv1, conv2 | pool | conv3 |
   * pool | conv4); a per-pixel dense layer `classify` follows.
   * @default [8, 12, 16, 16]
   */
  widths?: [number, number, number, number];
}

/**
 * The patch classifier of {@link segmentationBackbone}, in patch form:
 * `conv1 3×3 → relu → conv2 3×3 → relu → maxPool 2/2 → conv3 3×3 → relu →
 * maxPool 2/2 → conv4 3×3 → relu → classify (dense)`, all `'valid'`:
 * receptive field 20×20, stride 4. Applied to a 20×20 window it returns
 * 1×1×K scores.
 */
export function backboneSpec(options: BackboneOptions = {}): NetSpec {
  const fn = 'backboneSpec';
  const numClasses = options.numClasses ?? 2;
  const inChannels = options.inChannels ?? 3;
  const widths = options.widths ?? [8, 12, 16, 16];
  assertInt(fn, 'numClasses', numClasses, 1);
  assertInt(fn, 'inChannels', inChannels, 1);
  if (!Array.isArray(widths) || widths.length !== 4) {
    throw new SegShapeError(
      `${fn}: widths has length ${Array.isArray(widths) ? widths.length : 'none'}, expected 4`,
    );
  }
  for (const [i, w] of widths.entries()) assertInt(fn, `widths[${i}]`, w, 1);
  const layers: LayerInput[] = [
    conv2d({ name: 'conv1', outChannels: widths[0], filterSize: 3 }),
    relu({ name: 'relu1' }),
    conv2d({ name: 'conv2', outChannels: widths[1], filterSize: 3 }),
    relu({ name: 'relu2' }),
    maxPool({ name: 'pool1', size: 2, stride: 2 }),
    conv2d({ name: 'conv3', outChannels: widths[2], filterSize: 3 }),
    relu({ name: 'relu3' }),
    maxPool({ name: 'pool2', size: 2, stride: 2 }),
    conv2d({ name: 'conv4', outChannels: widths[3], filterSize: 3 }),
    relu({ name: 'relu4' }),
    linear({ name: 'classify', outChannels: numClasses }),
  ];
  return defineNet({ inChannels: inChannels + (options.coords ? 2 : 0), layers });
}

/** What {@link segmentationBackbone} returns: two views of the same variables. */
export interface Backbone {
  /** The patch classifier (window = receptive field → one score vector). */
  patch: Model;
  /** Its dense form: every pixel's window at once (use with {@link denseForward}). */
  dense: Model;
  receptiveField: ReceptiveField;
  /** Disposes the shared variables. */
  dispose(): void;
}

/**
 * A ready segmentation network: the patch classifier of {@link backboneSpec}
 * with seeded He-normal weights, and its dense form sharing the weights.
 * Train the dense model on whole images with `denseForward(backbone.dense,
 * image)` (H×W×K logits, one per pixel), read the patch model back at any
 * time.
 *
 * @example
 * const net = segmentationBackbone({ numClasses: 2, coords: true, seed: 1 });
 * const logits = denseForward(net.dense, addCoordChannels(imageToTensor(img, 1 / 255)));
 */
export function segmentationBackbone(
  options: BackboneOptions & { seed?: number | Rng } = {},
): Backbone {
  const spec = backboneSpec(options);
  const patch = createModel(spec, options.seed ?? 0);
  const denseModel = toDense(patch);
  return {
    patch,
    dense: denseModel,
    receptiveField: receptiveField(spec),
    dispose: () => patch.dispose(),
  };
}

/**
 * Appends two channels to an `[h, w, c]` or `[n, h, w, c]` image: x / (w−1)
 * and y / (h−1), each in [0, 1] (0 on a one-pixel axis). Runs in `tf.tidy`.
 */
export function addCoordChannels(image: tf.Tensor): tf.Tensor {
  if (!(image instanceof tf.Tensor) || (image.rank !== 3 && image.rank !== 4)) {
    throw new SegShapeError(
      `addCoordChannels: image has shape ${image instanceof tf.Tensor ? `[${image.shape}]` : 'none'}, expected [h,w,c] or [n,h,w,c]`,
    );
  }
  return tf.tidy(() => {
    const x4 = (image.rank === 3 ? tf.expandDims(image, 0) : image) as tf.Tensor4D;
    const [n, h, w] = x4.shape;
    const xs = tf.reshape(tf.linspace(0, w > 1 ? 1 : 0, w), [1, 1, w, 1]);
    const ys = tf.reshape(tf.linspace(0, h > 1 ? 1 : 0, h), [1, h, 1, 1]);
    const grid = tf.concat([tf.tile(xs, [n, h, 1, 1]), tf.tile(ys, [n, 1, w, 1])], 3);
    const out = tf.concat([tf.cast(x4, 'float32'), grid], 3);
    return image.rank === 3 ? tf.squeeze(out, [0]) : out;
  });
}
