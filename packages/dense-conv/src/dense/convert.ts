import { SegValueError } from '@seg/tensor';
import { type Model, modelFromVariables } from '../model/model.js';
import { walkField } from '../spec/analyse.js';
import { defineNet } from '../spec/define.js';
import type { Layer, NetSpec, Pair } from '../spec/types.js';

/**
 * The dense form of a patch network (eConv / ePool, Wu, Xie & Luo,
 * arXiv 1605.07251): every stride set to 1, and every convolution and pool
 * dilated by the product of the strides removed before it. With `'valid'`
 * padding throughout, dense output `(i, j)` equals the patch network on the
 * input window with top-left corner `(i, j)`, and the patch network's output
 * is the dense output subsampled by the total stride. Each changed layer
 * keeps its old stride in `patchStride`, so {@link toPatchSpec} inverts this.
 * Throws for a layer with other padding (a patch window must not be
 * zero-padded) and for a concatenation of branches whose receptive fields
 * differ.
 *
 * @example
 * toDenseSpec(patch).layers[3]; // { kind: 'conv2d', stride: [1, 1], dilation: [2, 2], patchStride: [1, 1], ... }
 */
export function toDenseSpec(spec: NetSpec): NetSpec {
  const fn = 'toDense';
  if (spec.form !== 'patch') throw new SegValueError(`${fn}: the network is already in dense form`);
  const fields = walkField(spec, fn);
  const strideIn = (layer: Layer): Pair => fields.get(layer.inputs[0]!)!.stride;
  const layers = spec.layers.map((layer): Layer => {
    if (layer.kind === 'conv2d' || layer.kind === 'pool') {
      if (layer.padding !== 'valid') {
        throw new SegValueError(
          `${fn}: layer '${layer.name}' has padding ${JSON.stringify(layer.padding)}, expected 'valid' (a patch window must not be zero-padded for the dense form to be exact)`,
        );
      }
      const s = strideIn(layer);
      return {
        ...structuredClone(layer),
        stride: [1, 1],
        dilation: [layer.dilation[0] * s[0], layer.dilation[1] * s[1]],
        patchStride: [...layer.stride],
      };
    }
    if (layer.kind === 'concat') {
      const sizes = layer.inputs.map((n) => fields.get(n)!.size);
      const first = sizes[0]!;
      for (const size of sizes) {
        if (size[0] !== first[0] || size[1] !== first[1]) {
          throw new SegValueError(
            `${fn}: concat '${layer.name}' joins inputs with receptive fields ${first[0]}×${first[1]} and ${size[0]}×${size[1]}, expected equal ones`,
          );
        }
      }
    }
    return structuredClone(layer);
  });
  return defineNet({ inChannels: spec.inChannels, layers, output: spec.output, form: 'dense' });
}

/**
 * The patch form of a dense network made by {@link toDenseSpec}: strides
 * restored from `patchStride`, dilations divided by the strides restored
 * before them. `toPatchSpec(toDenseSpec(s))` equals `s`.
 */
export function toPatchSpec(spec: NetSpec): NetSpec {
  const fn = 'toPatch';
  if (spec.form !== 'dense') throw new SegValueError(`${fn}: the network is already in patch form`);
  const strides = new Map<string, Pair>([['input', [1, 1]]]);
  const layers = spec.layers.map((layer): Layer => {
    const s = strides.get(layer.inputs[0]!)!;
    if (layer.kind === 'conv2d' || layer.kind === 'pool') {
      const { patchStride, ...rest } = structuredClone(layer);
      const restored = patchStride ?? [1, 1];
      if (
        layer.stride[0] !== 1 ||
        layer.stride[1] !== 1 ||
        layer.dilation[0] % s[0] !== 0 ||
        layer.dilation[1] % s[1] !== 0
      ) {
        throw new SegValueError(
          `${fn}: layer '${layer.name}' has stride [${layer.stride}] and dilation [${layer.dilation}], expected stride 1 and a dilation divisible by [${s}] (not a network made by toDense)`,
        );
      }
      strides.set(layer.name, [s[0] * restored[0], s[1] * restored[1]]);
      return {
        ...rest,
        stride: restored,
        dilation: [layer.dilation[0] / s[0], layer.dilation[1] / s[1]],
      } as Layer;
    }
    strides.set(layer.name, s);
    return structuredClone(layer);
  });
  return defineNet({ inChannels: spec.inChannels, layers, output: spec.output, form: 'patch' });
}

/**
 * The dense model of a patch model (see {@link toDenseSpec}), sharing its
 * parameter variables.
 *
 * @example
 * const dense = toDense(patch);
 * dense.params['conv1/filter'] === patch.params['conv1/filter']; // true
 */
export function toDense(model: Model): Model {
  return modelFromVariables(toDenseSpec(model.spec), model.params);
}

/** The patch model of a dense model (see {@link toPatchSpec}), sharing its parameter variables. */
export function toPatch(model: Model): Model {
  return modelFromVariables(toPatchSpec(model.spec), model.params);
}
