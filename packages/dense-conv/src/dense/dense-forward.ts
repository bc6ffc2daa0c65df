import { SegShapeError, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { type ApplyOptions, applyNet, checkFinite, type Params } from '../model/apply.js';
import type { Model } from '../model/model.js';
import { receptiveField } from '../spec/analyse.js';
import type { NetSpec, Pair } from '../spec/types.js';
import { toDenseSpec } from './convert.js';

/** How {@link denseForward} fills the border it adds around the image. */
export type BorderMode = 'zero' | 'reflect' | 'symmetric';

/** Options of {@link denseForward}. */
export interface DenseForwardOptions extends ApplyOptions {
  /** @default 'reflect' (mirror without repeating the edge pixel) */
  border?: BorderMode;
  /** Parameters to use instead of the model's own. */
  params?: Params;
}

/**
 * Pads of {@link denseForward}: `[[top, bottom], [left, right]]` with
 * top = ⌊(R−1)/2⌋ and bottom = R−1−top for a receptive field R, so that
 * output pixel p is computed from input rows p − top … p + bottom.
 */
export function densePads(spec: NetSpec): [Pair, Pair] {
  const { size } = receptiveField(spec);
  const top = Math.floor((size[0] - 1) / 2);
  const left = Math.floor((size[1] - 1) / 2);
  return [
    [top, size[0] - 1 - top],
    [left, size[1] - 1 - left],
  ];
}

/**
 * One prediction per pixel: pads the image by the receptive field (see
 * {@link densePads}) and runs the dense form of the model (a patch model is
 * converted on the fly; parameters are shared). `image` is `[h, w, c]` or
 * `[n, h, w, c]`; returns `[h, w, K]` or `[n, h, w, K]` scores aligned with
 * the input pixels: output pixel p is the patch classifier on the window
 * centred at p. Differentiable; runs in `tf.tidy`.
 *
 * @example
 * const logits = denseForward(model, imageTensor); // [480, 640, numClasses]
 */
export function denseForward(
  model: Model,
  image: tf.Tensor,
  options: DenseForwardOptions = {},
): tf.Tensor {
  const fn = 'denseForward';
  const spec = model.spec.form === 'dense' ? model.spec : toDenseSpec(model.spec);
  if (!(image instanceof tf.Tensor)) throw new SegValueError(`${fn}: image is not a tf.Tensor`);
  if (image.rank !== 3 && image.rank !== 4) {
    throw new SegShapeError(`${fn}: image has rank ${image.rank}, expected [h,w,c] or [n,h,w,c]`);
  }
  checkFinite(fn, 'image', image);
  const border = options.border ?? 'reflect';
  if (border !== 'zero' && border !== 'reflect' && border !== 'symmetric') {
    throw new SegValueError(
      `${fn}: options.border is ${JSON.stringify(border)}, expected 'zero', 'reflect' or 'symmetric'`,
    );
  }
  const pads = densePads(spec);
  const [h, w] = image.rank === 3 ? image.shape : image.shape.slice(1);
  if (border === 'reflect' && (Math.max(...pads[0]) >= h! || Math.max(...pads[1]) >= w!)) {
    throw new SegShapeError(
      `${fn}: image is ${h}×${w}, too small to reflect a border of [${pads[0]}]×[${pads[1]}] (use border 'zero' or a larger image)`,
    );
  }
  if (border === 'symmetric' && (Math.max(...pads[0]) > h! || Math.max(...pads[1]) > w!)) {
    throw new SegShapeError(
      `${fn}: image is ${h}×${w}, too small for a symmetric border of [${pads[0]}]×[${pads[1]}]`,
    );
  }
  const { params, border: _border, ...applyOptions } = options;
  return tf.tidy(() => {
    const x4 = (image.rank === 3 ? tf.expandDims(image, 0) : image) as tf.Tensor4D;
    const all: Array<[number, number]> = [[0, 0], pads[0], pads[1], [0, 0]];
    let padded = border === 'zero' ? tf.pad(x4, all) : tf.mirrorPad(x4, all, border);
    // Forward only: extra rows and columns (bottom, right) so that the output
    // size is a multiple of every max pool's dilation, which lets pool2d run
    // tfjs's native max pool on reshaped views at every layer; the outputs
    // of the extra cells are cropped. They change no other output.
    const align = tf.engine().isTapeOn() ? [1, 1] : poolDilationLcm(spec);
    const extra = [
      (align[0]! - (h! % align[0]!)) % align[0]!,
      (align[1]! - (w! % align[1]!)) % align[1]!,
    ];
    if (extra[0]! + extra[1]! > 0) {
      padded = tf.pad(padded, [
        [0, 0],
        [0, extra[0]!],
        [0, extra[1]!],
        [0, 0],
      ]);
    }
    let y = applyNet(spec, params ?? model.params, padded, applyOptions);
    if (extra[0]! + extra[1]! > 0) y = tf.slice(y, [0, 0, 0, 0], [-1, h!, w!, -1]);
    return image.rank === 3 ? tf.squeeze(y, [0]) : y;
  });
}

/** Least common multiple of the dilations of a network's max pools, per axis. */
function poolDilationLcm(spec: NetSpec): Pair {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const out: Pair = [1, 1];
  for (const layer of spec.layers) {
    if (layer.kind !== 'pool' || layer.op !== 'max') continue;
    for (const i of [0, 1] as const)
      out[i] = (out[i] / gcd(out[i], layer.dilation[i])) * layer.dilation[i];
  }
  return out;
}
