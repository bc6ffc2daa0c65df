/**
 * The plain-data description of a network: JSON-serialisable, no tensors.
 * A {@link NetSpec} is what {@link defineNet} returns: every field filled in
 * and every size a `[height, width]` pair, so code that walks a network
 * (path norms, conversions, summaries) never meets a shorthand.
 */

/** A `[height, width]` pair. */
export type Pair = [number, number];

/**
 * Zero padding of a convolution or pooling.
 * - `'valid'`: none (the output shrinks by the window's extent − 1);
 * - `'same'`: TensorFlow's rule, output size `ceil(in / stride)`;
 * - `[[top, bottom], [left, right]]`: explicit.
 * Pooling ignores padded cells (max over, average of, and sum of the cells
 * inside the image only).
 */
export type Padding = 'valid' | 'same' | [Pair, Pair];

/** How a pooling layer reduces its window. */
export type PoolOp = 'max' | 'avg' | 'sum';

/** Fields every layer has. */
export interface LayerBase {
  /** Unique in the network; prefixes the layer's parameter names (`conv1/filter`). */
  name: string;
  /**
   * Names of the layers whose outputs this layer reads; `'input'` is the
   * network input. One entry, except for `concat`.
   */
  inputs: string[];
}

/**
 * Convolution with a `[kh, kw, inChannels, outChannels]` filter (parameter
 * `<name>/filter`) and, if `bias`, a `[outChannels]` bias (`<name>/bias`).
 * At most one of `stride` and `dilation` may exceed 1 on an axis's layer.
 */
export interface Conv2dLayer extends LayerBase {
  kind: 'conv2d';
  inChannels: number;
  outChannels: number;
  filterSize: Pair;
  stride: Pair;
  dilation: Pair;
  padding: Padding;
  bias: boolean;
  /** Set by {@link toDense}: the stride this layer had in the patch model. */
  patchStride?: Pair;
}

/** Max, average or sum pooling over a `size` window, with stride and dilation. */
export interface PoolLayer extends LayerBase {
  kind: 'pool';
  op: PoolOp;
  size: Pair;
  stride: Pair;
  dilation: Pair;
  padding: Padding;
  /** Set by {@link toDense}: the stride this layer had in the patch model. */
  patchStride?: Pair;
}

/** Elementwise `max(x, 0)`. */
export interface ReluLayer extends LayerBase {
  kind: 'relu';
}

/**
 * A fully connected map of the channels at every pixel (a 1×1 convolution):
 * weight `<name>/weight` `[inChannels, outChannels]`, bias `<name>/bias`.
 */
export interface LinearLayer extends LayerBase {
  kind: 'linear';
  inChannels: number;
  outChannels: number;
  bias: boolean;
}

/** @deprecated Renamed {@link LinearLayer} (not to be confused with dense prediction); this alias goes in the next minor release. */
export type DenseLayer = LinearLayer;

/** Joins its inputs along the channel axis (they must have the same height and width). */
export interface ConcatLayer extends LayerBase {
  kind: 'concat';
}

/** One layer of a {@link NetSpec}. */
export type Layer = Conv2dLayer | PoolLayer | ReluLayer | LinearLayer | ConcatLayer;

/**
 * The kinds of layer, in the order error messages list them. ({@link defineNet}
 * also reads the deprecated input kind `'dense'` as `'linear'`.)
 */
export const LAYER_KINDS = ['conv2d', 'pool', 'relu', 'linear', 'concat'] as const;

/**
 * A network: a small DAG of layers in evaluation order (every layer's inputs
 * come earlier), reading an NHWC input with `inChannels` channels and
 * returning the output of layer `output`.
 */
export interface NetSpec {
  /** `'patch'` for a model as written; `'dense'` for the output of {@link toDense}. */
  form: 'patch' | 'dense';
  inChannels: number;
  layers: Layer[];
  /** Name of the output layer (the last layer unless given). */
  output: string;
  /** Channels of the output. */
  outChannels: number;
}
