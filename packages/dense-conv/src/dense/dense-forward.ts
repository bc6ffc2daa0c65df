import { assertShape, SegShapeError, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import {
  type ApplyOptions,
  checkFinite,
  checkMaxPoolAs,
  checkParams,
  type Params,
  runNet,
} from '../model/apply.js';
import type { Model } from '../model/model.js';
import { layerSizes, receptiveField } from '../spec/analyse.js';
import type { NetSpec, Pair, PoolOp } from '../spec/types.js';
import { toDenseSpec } from './convert.js';

/** How {@link denseForward} fills the border it adds around the image. */
export type BorderMode = 'zero' | 'reflect' | 'symmetric';

/** Options of {@link denseForward}. */
export interface DenseForwardOptions extends ApplyOptions {
  /** @default 'reflect' (mirror without repeating the edge pixel) */
  border?: BorderMode;
  /** Parameters to use instead of the model's own. */
  params?: Params;
  /**
   * Forward only (no gradient tape running): the most bytes of tensors one
   * pass may hold at once, by an estimate from the layer sizes. A larger
   * image runs in bands of output rows, each from the rows of the padded
   * input its windows read; the bands are joined. The values are the same;
   * each band recomputes the receptive field's R − 1 rows of overlap. wasm
   * memory is at most 4 GiB, and the heap grew to about twice the estimate
   * in our runs (N4 on 2048×2048: 1.9 GB of process memory at 1 GiB, 3.9 GB
   * at 2 GiB). `Infinity` runs one pass.
   * @default 2 ** 30 (1 GiB)
   */
  memoryBudget?: number;
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
  const C = spec.inChannels;
  assertShape(fn, 'image', image.shape, image.rank === 3 ? [null, null, C] : [null, null, null, C]);
  if (image.dtype !== 'float32')
    throw new SegShapeError(`${fn}: image has dtype ${image.dtype}, expected float32`);
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
  const budget = options.memoryBudget ?? 2 ** 30;
  if (!(budget > 0)) {
    throw new SegValueError(
      `${fn}: options.memoryBudget is ${budget}, expected a positive number of bytes`,
    );
  }
  const weights = options.params ?? model.params;
  checkParams(fn, spec, weights);
  const maxPoolAs = checkMaxPoolAs(fn, options);
  const forwardOnly = !tf.engine().isTapeOn();
  // Forward only: extra rows and columns (bottom, right) so that the output
  // size is a multiple of every max pool's dilation, which lets pool2d run
  // tfjs's native max pool on reshaped views at every layer; the outputs of
  // the extra cells are cropped. They change no other output.
  const align = forwardOnly ? poolDilationLcm(spec) : ([1, 1] as Pair);
  const n = image.rank === 3 ? 1 : image.shape[0]!;
  const rows = forwardOnly ? bandRows(spec, n, h!, w!, align, budget) : h!;
  return tf.tidy(() => {
    const x4 = (image.rank === 3 ? tf.expandDims(image, 0) : image) as tf.Tensor4D;
    const all: Array<[number, number]> = [[0, 0], pads[0], pads[1], [0, 0]];
    const padded = border === 'zero' ? tf.pad(x4, all) : tf.mirrorPad(x4, all, border);
    const reach = pads[0][0] + pads[0][1];
    const bands: tf.Tensor4D[] = [];
    for (let r0 = 0; r0 < h!; r0 += rows) {
      const r1 = Math.min(h!, r0 + rows);
      const input =
        rows >= h! ? padded : tf.slice(padded, [0, r0, 0, 0], [-1, r1 - r0 + reach, -1, -1]);
      bands.push(runAligned(spec, weights, input, [r1 - r0, w!], align, maxPoolAs));
      if (input !== padded) input.dispose();
    }
    const y = bands.length === 1 ? bands[0]! : tf.concat(bands, 1);
    return image.rank === 3 ? tf.squeeze(y, [0]) : y;
  });
}

/**
 * The dense network on a padded input whose output is `size` (rows, columns),
 * first padded at the bottom and right up to a multiple of `align` (see
 * {@link denseForward}), the extra outputs cropped.
 */
function runAligned(
  spec: NetSpec,
  params: Params,
  padded: tf.Tensor4D,
  size: Pair,
  align: Pair,
  maxPoolAs: PoolOp,
): tf.Tensor4D {
  return tf.tidy(() => {
    const extra = [
      (align[0] - (size[0] % align[0])) % align[0],
      (align[1] - (size[1] % align[1])) % align[1],
    ];
    const input =
      extra[0]! + extra[1]! > 0
        ? tf.pad(padded, [
            [0, 0],
            [0, extra[0]!],
            [0, extra[1]!],
            [0, 0],
          ])
        : padded;
    const y = runNet('denseForward', spec, params, input, maxPoolAs);
    return extra[0]! + extra[1]! > 0 ? tf.slice(y, [0, 0, 0, 0], [-1, size[0], size[1], -1]) : y;
  });
}

/**
 * The most output rows per band (all `h` if they fit; otherwise a multiple of
 * `align[0]`, at least one) for which a forward pass over an `h`×`w` image
 * (`n` of them) holds at most `budget` bytes of tensors by
 * {@link forwardPeakBytes}.
 */
function bandRows(
  spec: NetSpec,
  n: number,
  h: number,
  w: number,
  align: Pair,
  budget: number,
): number {
  const { size } = receptiveField(spec);
  const up = (v: number, a: number) => Math.ceil(v / a) * a;
  const peak = (rows: number) =>
    forwardPeakBytes(spec, n, [up(rows, align[0]) + size[0] - 1, up(w, align[1]) + size[1] - 1]);
  if (peak(h) <= budget) return h;
  let lo = align[0]; // fits, or the least there is
  let hi = up(h, align[0]);
  while (hi - lo > align[0]) {
    const mid = up(Math.floor((lo + hi) / 2), align[0]);
    if (mid >= hi) break;
    if (peak(mid) <= budget) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * An estimate of the most bytes of float32 tensors the forward-only path of
 * `applyNet` holds at once on an `n`×`inSize` input: at each layer its
 * input, every earlier value still to be read, and its output (twice for a
 * pool, whose two separable passes coexist).
 */
export function forwardPeakBytes(spec: NetSpec, n: number, inSize: Pair): number {
  const sizes = layerSizes(spec, inSize, 'denseForward');
  const channels = new Map<string, number>([['input', spec.inChannels]]);
  const lastUse = new Map<string, number>();
  spec.layers.forEach((l, i) => {
    for (const name of l.inputs) lastUse.set(name, i);
  });
  const bytes = (name: string) => {
    const [hh, ww] = sizes.get(name)!;
    return 4 * n * hh * ww * channels.get(name)!;
  };
  let peak = 0;
  spec.layers.forEach((l, i) => {
    channels.set(
      l.name,
      l.kind === 'conv2d' || l.kind === 'linear'
        ? l.outChannels
        : l.kind === 'concat'
          ? l.inputs.reduce((a, name) => a + channels.get(name)!, 0)
          : channels.get(l.inputs[0]!)!,
    );
    let live = bytes('input') + bytes(l.name) * (l.kind === 'pool' ? 2 : 1);
    for (const [name, last] of lastUse) {
      if (name !== 'input' && channels.has(name) && name !== l.name && last >= i)
        live += bytes(name);
    }
    peak = Math.max(peak, live);
  });
  return peak;
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
