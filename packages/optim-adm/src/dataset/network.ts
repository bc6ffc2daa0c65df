/**
 * The network of the data-set setting: a small U-Net-like encoder-decoder
 * trained from scratch, one network for many images. Each stage is a
 * @seg/dense-conv model ('same' 3×3 convolutions, max pooling); the stages
 * are joined by bilinear upsampling (tfjs-core `resizeBilinear`) and skip
 * concatenations, so the logits are aligned with the input pixels.
 */
import {
  conv2d,
  createModel,
  defineNet,
  type LayerInput,
  type Model,
  maxPool,
  relu,
} from '@seg/dense-conv';
import { assertInt, assertLength, assertShape, SegShapeError, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link createEncoderDecoder}. */
export interface EncoderDecoderOptions {
  /** @default 2 */
  numClasses?: number;
  /** Channels of the 4 encoder levels (full, ½, ¼, ⅛ resolution). @default [16, 32, 48, 64] */
  channels?: readonly number[];
  /** Seed of the He-normal initialisation. @default 0 */
  seed?: number;
}

/** An encoder-decoder: logits `[n, h, w, K]` of normalised images `[n, h, w, 3]`, h and w multiples of 8. */
export interface EncoderDecoder {
  readonly numClasses: number;
  /** The encoder channels per level. */
  readonly channels: readonly number[];
  /** The stage models, by stage name (`enc0` … `enc3`, `dec2` … `dec0`). */
  readonly stages: Readonly<Record<string, Model>>;
  /** Logits of `x` `[n, h, w, 3]` (see {@link datasetInput}); differentiable; h, w multiples of {@link NET_STRIDE}. */
  forward(x: tf.Tensor4D): tf.Tensor4D;
  /** Every parameter by `stage.layer/filter|bias` (the checkpoints' keys). */
  params(): Record<string, tf.Variable>;
  /** The variables, for `optimizer.minimize(f, true, varList)`. */
  variables(): tf.Variable[];
  /** The number of trainable parameters (weights and biases). */
  numParams(): number;
  /** Frees the variables. */
  dispose(): void;
}

/** The input sizes of an {@link EncoderDecoder} must be multiples of this (3 poolings). */
export const NET_STRIDE = 8;

/** Mean and spread of the fixed input normalisation, `(v/255 − 0.5) / 0.25` per channel. */
const CENTRE = 0.5;
const SPREAD = 0.25;

/**
 * A seeded encoder-decoder (a U-Net of 4 levels, Ronneberger et al. 2015,
 * much narrowed): per encoder level two 3×3 conv + ReLU (the deepest level's
 * second one dilated 2), a 2×2 max pool between levels; per decoder level a
 * bilinear ×2 upsampling, a concatenation with the encoder level of that
 * resolution and one 3×3 conv + ReLU; a 1×1 classifier at full resolution.
 * With the default channels: 194 k parameters, receptive field ~100 px.
 *
 * @example
 * const net = createEncoderDecoder({ seed: 1 });
 * const logits = net.forward(datasetInput(images, n, 64, 64)); // [n, 64, 64, 2]
 */
export function createEncoderDecoder(options: EncoderDecoderOptions = {}): EncoderDecoder {
  const fn = 'createEncoderDecoder';
  const K = options.numClasses ?? 2;
  assertInt(fn, 'options.numClasses', K, 2);
  const ch = options.channels ?? [16, 32, 48, 64];
  if (!Array.isArray(ch) || ch.length !== 4) {
    throw new SegValueError(
      `${fn}: options.channels is ${JSON.stringify(ch)}, expected 4 channel counts`,
    );
  }
  ch.forEach((c, i) => {
    assertInt(fn, `options.channels[${i}]`, c, 1);
  });
  const seed = options.seed ?? 0;
  assertInt(fn, 'options.seed', seed, 0);
  const conv = (name: string, out: number, dilation = 1): LayerInput[] => [
    conv2d({ name, outChannels: out, filterSize: 3, padding: 'same', dilation }),
    relu({ name: `${name}_relu` }),
  ];
  const specs: Record<string, { inChannels: number; layers: LayerInput[] }> = {
    enc0: { inChannels: 3, layers: [...conv('a', ch[0]!), ...conv('b', ch[0]!)] },
    enc1: {
      inChannels: ch[0]!,
      layers: [maxPool({ name: 'pool', size: 2 }), ...conv('a', ch[1]!), ...conv('b', ch[1]!)],
    },
    enc2: {
      inChannels: ch[1]!,
      layers: [maxPool({ name: 'pool', size: 2 }), ...conv('a', ch[2]!), ...conv('b', ch[2]!)],
    },
    enc3: {
      inChannels: ch[2]!,
      layers: [maxPool({ name: 'pool', size: 2 }), ...conv('a', ch[3]!), ...conv('b', ch[3]!, 2)],
    },
    dec2: { inChannels: ch[3]! + ch[2]!, layers: conv('a', ch[2]!) },
    dec1: { inChannels: ch[2]! + ch[1]!, layers: conv('a', ch[1]!) },
    dec0: {
      inChannels: ch[1]! + ch[0]!,
      layers: [...conv('a', ch[0]!), conv2d({ name: 'classify', outChannels: K, filterSize: 1 })],
    },
  };
  const stages: Record<string, Model> = {};
  let i = 0;
  for (const [name, s] of Object.entries(specs)) {
    stages[name] = createModel(defineNet(s), seed * 1009 + i++);
  }
  const up = (x: tf.Tensor4D, like: tf.Tensor4D) =>
    tf.image.resizeBilinear(x, [like.shape[1], like.shape[2]], false, true);
  const forward = (x: tf.Tensor4D): tf.Tensor4D => {
    assertShape('EncoderDecoder.forward', 'x', x.shape, [null, null, null, 3]);
    const [, h, w] = x.shape;
    if (h % NET_STRIDE !== 0 || w % NET_STRIDE !== 0) {
      throw new SegShapeError(
        `EncoderDecoder.forward: x is ${h}×${w}, expected a height and width that are multiples of ${NET_STRIDE}`,
      );
    }
    return tf.tidy(() => {
      const e0 = stages.enc0!.apply(x);
      const e1 = stages.enc1!.apply(e0);
      const e2 = stages.enc2!.apply(e1);
      const e3 = stages.enc3!.apply(e2);
      const d2 = stages.dec2!.apply(tf.concat([up(e3, e2), e2], 3));
      const d1 = stages.dec1!.apply(tf.concat([up(d2, e1), e1], 3));
      return stages.dec0!.apply(tf.concat([up(d1, e0), e0], 3));
    });
  };
  const params = () => {
    const out: Record<string, tf.Variable> = {};
    for (const [s, m] of Object.entries(stages)) {
      for (const [n, v] of Object.entries(m.params)) out[`${s}.${n}`] = v;
    }
    return out;
  };
  return {
    numClasses: K,
    channels: ch.slice(),
    stages,
    forward,
    params,
    variables: () => Object.values(stages).flatMap((m) => m.variables()),
    numParams: () => Object.values(stages).reduce((a, m) => a + m.numParams(), 0),
    dispose: () => {
      for (const m of Object.values(stages)) m.dispose();
    },
  };
}

/**
 * The network input of `n` RGB images of h×w (NHWC, values 0–255, as one
 * flat array): `(v/255 − 0.5) / 0.25` per channel, a fixed normalisation so
 * that a crop and the whole image are scaled alike. Returns `[n, h, w, 3]`.
 */
export function datasetInput(rgb: Float32Array | Uint8Array, n: number, h: number, w: number) {
  const fn = 'datasetInput';
  assertInt(fn, 'n', n, 1);
  assertInt(fn, 'h', h, 1);
  assertInt(fn, 'w', w, 1);
  assertLength(fn, 'rgb', rgb, n * h * w * 3, 'n*h*w*3');
  const f = new Float32Array(rgb.length);
  for (let i = 0; i < f.length; i++) f[i] = (rgb[i]! / 255 - CENTRE) / SPREAD;
  return tf.tensor4d(f, [n, h, w, 3], 'float32');
}
