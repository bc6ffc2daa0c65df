import { SegShapeError, SegValueError } from '@seg/tensor';
import { defineNet, type LayerInput } from './define.js';
import type { Conv2dLayer, Layer, NetSpec, Padding, Pair } from './types.js';

/**
 * The names and shapes of a network's parameters, in layer order:
 * `<conv>/filter` `[kh, kw, in, out]`, `<conv>/bias` `[out]`,
 * `<dense>/weight` `[in, out]`, `<dense>/bias` `[out]`.
 *
 * @example
 * paramShapes(spec); // { 'conv1/filter': [3, 3, 3, 16], 'conv1/bias': [16], ... }
 */
export function paramShapes(spec: NetSpec): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (const layer of spec.layers) {
    if (layer.kind === 'conv2d') {
      shapes[`${layer.name}/filter`] = [
        layer.filterSize[0],
        layer.filterSize[1],
        layer.inChannels,
        layer.outChannels,
      ];
      if (layer.bias) shapes[`${layer.name}/bias`] = [layer.outChannels];
    } else if (layer.kind === 'linear') {
      shapes[`${layer.name}/weight`] = [layer.inChannels, layer.outChannels];
      if (layer.bias) shapes[`${layer.name}/bias`] = [layer.outChannels];
    }
  }
  return shapes;
}

/** Receptive field of a network's output, see {@link receptiveField}. */
export interface ReceptiveField {
  /** Height and width of the input window one output cell sees (padding not counted). */
  size: Pair;
  /** Input pixels between neighbouring output cells: the product of the strides. */
  stride: Pair;
}

/**
 * The window of input pixels that one output cell depends on, and the
 * output's stride. Same for a patch model and its {@link toDense} form except
 * the stride (1 in the dense form). A patch model applied to a window of
 * exactly `size` gives one output cell; with `'valid'` padding everywhere,
 * output cell `(i, j)` sees input rows `i·stride … i·stride + size − 1`.
 * Throws if a concatenation joins branches of different strides.
 *
 * @example
 * receptiveField(spec); // { size: [20, 20], stride: [4, 4] }
 */
export function receptiveField(spec: NetSpec): ReceptiveField {
  return walkField(spec, 'receptiveField').get(spec.output)!;
}

/** The receptive field of every layer's output (and of `'input'`). */
export function walkField(spec: NetSpec, fn: string): Map<string, ReceptiveField> {
  const fields = new Map<string, ReceptiveField>([['input', { size: [1, 1], stride: [1, 1] }]]);
  for (const layer of spec.layers) {
    const ins = layer.inputs.map((n) => fields.get(n)!);
    const first = ins[0]!;
    if (layer.kind === 'conv2d' || layer.kind === 'pool') {
      const k = layer.kind === 'conv2d' ? layer.filterSize : layer.size;
      fields.set(layer.name, {
        size: [
          first.size[0] + (k[0] - 1) * layer.dilation[0] * first.stride[0],
          first.size[1] + (k[1] - 1) * layer.dilation[1] * first.stride[1],
        ],
        stride: [first.stride[0] * layer.stride[0], first.stride[1] * layer.stride[1]],
      });
    } else if (layer.kind === 'concat') {
      for (const f of ins) {
        if (f.stride[0] !== first.stride[0] || f.stride[1] !== first.stride[1]) {
          throw new SegValueError(
            `${fn}: concat '${layer.name}' joins inputs of strides [${first.stride}] and [${f.stride}], expected equal strides`,
          );
        }
      }
      fields.set(layer.name, {
        size: [Math.max(...ins.map((f) => f.size[0])), Math.max(...ins.map((f) => f.size[1]))],
        stride: first.stride,
      });
    } else {
      fields.set(layer.name, first);
    }
  }
  return fields;
}

/** Explicit `[[top, bottom], [left, right]]` pads of a layer for an input of `inSize`. */
export function explicitPads(
  padding: Padding,
  inSize: Pair,
  window: Pair,
  stride: Pair,
  dilation: Pair,
): [Pair, Pair] {
  if (padding === 'valid') {
    return [
      [0, 0],
      [0, 0],
    ];
  }
  if (padding !== 'same') return padding;
  const axis = (a: 0 | 1): Pair => {
    const extent = (window[a] - 1) * dilation[a] + 1;
    const out = Math.ceil(inSize[a] / stride[a]);
    const total = Math.max((out - 1) * stride[a] + extent - inSize[a], 0);
    const before = Math.floor(total / 2);
    return [before, total - before];
  };
  return [axis(0), axis(1)];
}

/**
 * A convolution's padding as `tf.conv2d` takes it for an input of `inSize`:
 * `'valid'` when it pads nothing, else the explicit NHWC pads.
 */
export function convPadding(
  layer: Conv2dLayer,
  inSize: Pair,
): 'valid' | [[0, 0], Pair, Pair, [0, 0]] {
  const [rows, cols] = explicitPads(
    layer.padding,
    inSize,
    layer.filterSize,
    layer.stride,
    layer.dilation,
  );
  if (rows[0] + rows[1] + cols[0] + cols[1] === 0) return 'valid';
  return [[0, 0], rows, cols, [0, 0]];
}

/**
 * Height and width of every layer's output for an input of `inSize`
 * (`[height, width]`); throws a `SegShapeError` naming the first layer whose
 * window does not fit, or a concatenation of different sizes.
 */
export function layerSizes(spec: NetSpec, inSize: Pair, fn = 'layerSizes'): Map<string, Pair> {
  const sizes = new Map<string, Pair>([['input', inSize]]);
  for (const layer of spec.layers) {
    const ins = layer.inputs.map((n) => sizes.get(n)!);
    const first = ins[0]!;
    if (layer.kind === 'conv2d' || layer.kind === 'pool') {
      const k = layer.kind === 'conv2d' ? layer.filterSize : layer.size;
      const pads = explicitPads(layer.padding, first, k, layer.stride, layer.dilation);
      const out: Pair = [0, 0];
      for (const a of [0, 1] as const) {
        const padded = first[a] + pads[a][0] + pads[a][1];
        const extent = (k[a] - 1) * layer.dilation[a] + 1;
        if (padded < extent) {
          throw new SegShapeError(
            `${fn}: layer '${layer.name}' gets a ${first[0]}×${first[1]} input, smaller than its window (extent ${(k[0] - 1) * layer.dilation[0] + 1}×${(k[1] - 1) * layer.dilation[1] + 1} after padding); the network input must be at least its receptive field`,
          );
        }
        out[a] = Math.floor((padded - extent) / layer.stride[a]) + 1;
      }
      sizes.set(layer.name, out);
    } else if (layer.kind === 'concat') {
      for (const s of ins) {
        if (s[0] !== first[0] || s[1] !== first[1]) {
          throw new SegShapeError(
            `${fn}: concat '${layer.name}' joins inputs of sizes ${first[0]}×${first[1]} and ${s[0]}×${s[1]}, expected equal heights and widths`,
          );
        }
      }
      sizes.set(layer.name, first);
    } else {
      sizes.set(layer.name, first);
    }
  }
  return sizes;
}

/**
 * The output shape `[n, height, width, outChannels]` of a network for an
 * input of shape `[n, height, width, inChannels]`.
 *
 * @example
 * outputShape(spec, [1, 64, 64, 3]); // [1, 12, 12, 2]
 */
export function outputShape(spec: NetSpec, inputShape: readonly number[]): number[] {
  const [n, h, w] = inputShape as [number, number, number];
  const size = layerSizes(spec, [h, w], 'outputShape').get(spec.output)!;
  return [n, size[0], size[1], spec.outChannels];
}

/**
 * A new network with every layer passed through `fn` (return the layer
 * unchanged, a modified copy, or any {@link LayerInput}), re-checked by
 * {@link defineNet}. Parameter names stay those of the layer names.
 *
 * @example
 * // the path-norm pass of `@seg/path-sgd`: max pools become window sums
 * const sumSpec = mapSpec(spec, (l) => (l.kind === 'pool' && l.op === 'max' ? { ...l, op: 'sum' } : l));
 */
export function mapSpec(spec: NetSpec, fn: (layer: Layer, index: number) => LayerInput): NetSpec {
  const layers = spec.layers.map((l, i) => fn(structuredClone(l), i));
  return defineNet({ inChannels: spec.inChannels, layers, output: spec.output, form: spec.form });
}
