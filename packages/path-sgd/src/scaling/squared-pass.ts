import {
  convPadding,
  explicitPads,
  layerSizes,
  type NetSpec,
  type Pair,
  type Params,
  paramShapes,
  pool2d,
  receptiveField,
} from '@seg/dense-conv';
import { assertInt, matMul, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { checkModel, type PathModel } from '../model.js';

/** Options of {@link pathScaling} and {@link pathNorm}. */
export interface PathScalingOptions {
  /**
   * Height and width of the all-ones input of the pass. Weight sharing makes
   * γ depend on it: a filter element is summed over every position it is
   * used at. The default, the network's receptive field, is the patch the
   * network classifies (a 1×1 output for `'valid'` networks; `[1, 1]` for an
   * MLP).
   * @default receptiveField(model.spec).size
   */
  inputSize?: Pair;
}

function isZero(pads: [Pair, Pair]): boolean {
  return pads[0][0] === 0 && pads[0][1] === 0 && pads[1][0] === 0 && pads[1][1] === 0;
}

/**
 * The network of `spec` as a linear map on non-negative values with every
 * edge weight squared: `sq` holds the squared parameters; ReLUs are the
 * identity (all values are ≥ 0), max pools are window sums, average pools
 * weigh each cell by `1/count²` (their fixed edge weight `1/count`, squared),
 * sum pools by 1. With an all-ones `x`, output unit k is the sum over all
 * paths ending at k of the product of squared edge weights (bias edges start
 * at a constant-1 unit).
 */
export function squaredForward(
  spec: NetSpec,
  sq: Params,
  x: tf.Tensor4D,
  denseInputs?: Map<string, tf.Tensor | null>,
): tf.Tensor4D {
  const sizes = layerSizes(spec, [x.shape[1], x.shape[2]], 'pathScaling');
  const values = new Map<string, tf.Tensor4D>([['input', x]]);
  for (const layer of spec.layers) {
    const input = values.get(layer.inputs[0]!)!;
    const inSize = sizes.get(layer.inputs[0]!)!;
    let y: tf.Tensor4D;
    switch (layer.kind) {
      case 'conv2d': {
        const pad = convPadding(layer, inSize);
        y = tf.conv2d(
          input,
          sq[`${layer.name}/filter`] as tf.Tensor4D,
          layer.stride,
          pad,
          'NHWC',
          layer.dilation,
        );
        if (layer.bias) y = tf.add(y, sq[`${layer.name}/bias`]!);
        break;
      }
      case 'pool': {
        const pads = explicitPads(layer.padding, inSize, layer.size, layer.stride, layer.dilation);
        y = pool2d(input, 'sum', layer.size, layer.stride, layer.dilation, pads);
        if (layer.op === 'avg') {
          if (isZero(pads)) {
            const count = layer.size[0] * layer.size[1];
            y = tf.div(y, count * count);
          } else {
            const ones = tf.ones([1, inSize[0], inSize[1], 1]) as tf.Tensor4D;
            const count = pool2d(ones, 'sum', layer.size, layer.stride, layer.dilation, pads);
            y = tf.div(y, tf.square(count));
          }
        }
        break;
      }
      case 'relu':
        y = input;
        break;
      case 'linear': {
        const [n, h, w, c] = input.shape;
        const weight = sq[`${layer.name}/weight`] as tf.Tensor2D;
        // the input of a layer the caller asked for (a key of denseInputs), kept:
        // tf.grads disposes the pass's intermediates (the caller frees these)
        if (denseInputs?.has(layer.name)) denseInputs.set(layer.name, tf.keep(input));
        // @seg/tensor's matMul reads W² in place on wasm (tf.matMul repacks a
        // new right operand on every call)
        let z = matMul(tf.reshape(input, [n * h * w, c]), weight);
        if (layer.bias) z = tf.add(z, sq[`${layer.name}/bias`]!);
        y = tf.reshape(z, [n, h, w, layer.outChannels]);
        break;
      }
      case 'concat':
        y = tf.concat(
          layer.inputs.map((name) => values.get(name)!),
          3,
        );
        break;
      default: {
        const kind = (layer as { kind: string }).kind;
        throw new SegValueError(`pathScaling: layer kind '${kind}' has no path rule`);
      }
    }
    values.set(layer.name, y);
  }
  return values.get(spec.output)!;
}

/** Resolves and checks the all-ones input size. */
export function resolveInputSize(fn: string, spec: NetSpec, inputSize?: Pair): Pair {
  if (inputSize === undefined) return receptiveField(spec).size;
  if (!Array.isArray(inputSize) || inputSize.length !== 2) {
    throw new SegValueError(
      `${fn}: options.inputSize is ${JSON.stringify(inputSize)}, expected [height, width]`,
    );
  }
  assertInt(fn, 'options.inputSize[0]', inputSize[0], 1);
  assertInt(fn, 'options.inputSize[1]', inputSize[1], 1);
  return [inputSize[0], inputSize[1]];
}

/**
 * γ of every parameter without input checks (for the optimizer's hot path):
 * the gradient of `Σ outputs` of {@link squaredForward} with respect to
 * each squared parameter, times `factor` (free: it scales the vectors the
 * backward pass carries). Returns new tensors keyed like `paramShapes`.
 */
export function computeScaling(spec: NetSpec, params: Params, inputSize: Pair, factor = 1): Params {
  return scalingPass(spec, params, inputSize, factor, new Set()).gammas;
}

/**
 * Path-SGD's per-parameter scaling γ_in(u)·γ_out(v) (Neyshabur, Salakhutdinov
 * & Srebro, NIPS 2015), for every parameter of a `@seg/dense-conv` network:
 * for an edge u→v, the sum over all input→output paths through it of the
 * product of the other edges' squared weights. A bias into v is an edge from
 * a constant-1 unit (γ = γ_out(v)); a convolution's shared filter element
 * sums over every position it is used at; max pools count as window sums,
 * average pools as fixed edges of weight 1/count (entering squared), ReLUs
 * are skipped, concatenations join channels.
 *
 * Computed in one pass: square every parameter, run the network on an
 * all-ones input, back-propagate `Σ outputs`; the gradient at each squared
 * parameter is its γ. Runs in `tf.tidy`; the caller owns the result.
 *
 * @returns γ by parameter name, each the shape of its parameter (≥ 0).
 * @throws SegValueError for a layer kind with no path rule, or bad params.
 *
 * @example
 * const gamma = pathScaling(model);            // { 'fc1/weight': [784, 1000], ... }
 * const step = tf.div(grads['fc1/weight'], gamma['fc1/weight']);
 */
export function pathScaling(model: PathModel, options: PathScalingOptions = {}): Params {
  const fn = 'pathScaling';
  checkModel(fn, model);
  const inputSize = resolveInputSize(fn, model.spec, options.inputSize);
  return computeScaling(model.spec, model.params, inputSize);
}

/**
 * The path-ℓ2 norm φ₂ = sqrt(Σ_paths Π_{e ∈ path} w_e²) of a network, over
 * all paths from an input unit (or a bias's constant-1 unit) to an output
 * unit, with the same rules as {@link pathScaling}. Path-SGD is steepest
 * descent with respect to φ₂²; its value is for monitoring.
 *
 * @example
 * console.log(pathNorm(model)); // e.g. 41.7
 */
export function pathNorm(model: PathModel, options: PathScalingOptions = {}): number {
  const fn = 'pathNorm';
  checkModel(fn, model);
  const inputSize = resolveInputSize(fn, model.spec, options.inputSize);
  const spec = model.spec;
  const total = tf.tidy(() => {
    const sq: Params = {};
    for (const n of Object.keys(paramShapes(spec))) sq[n] = tf.square(model.params[n]!);
    const x = tf.ones([1, inputSize[0], inputSize[1], spec.inChannels]) as tf.Tensor4D;
    return tf.sum(squaredForward(spec, sq, x));
  });
  const v = total.dataSync()[0]!;
  total.dispose();
  return Math.sqrt(v);
}

/** The γ of a weight as the outer product `a·bᵀ` (see {@link computeScalingFactored}). */
export type ScalingFactors = { a: tf.Tensor2D; b: tf.Tensor2D };

/**
 * γ in factored form where that is exact and cheaper: a `linear` layer with a
 * bias that sees a single position in the pass (every layer of an MLP) has
 * `γ(W[i, j]) = a_i · b_j`, `a` the pass's value at the layer's input and
 * `b` the γ of its bias. Those weights get `{ a: [k, 1], b: [1, n] }` in
 * `factors` (times `factor`, on `b`) and no entry in `gammas`, so their
 * k×n γ is never built; every other parameter is as in {@link computeScaling}.
 */
export function computeScalingFactored(
  spec: NetSpec,
  params: Params,
  inputSize: Pair,
  factor = 1,
): { gammas: Params; factors: Record<string, ScalingFactors> } {
  const sizes = layerSizes(spec, inputSize, 'pathScaling');
  const factored = new Set<string>();
  for (const layer of spec.layers) {
    const at = sizes.get(layer.inputs[0]!)!;
    if (layer.kind === 'linear' && layer.bias && at[0] === 1 && at[1] === 1)
      factored.add(layer.name);
  }
  return scalingPass(spec, params, inputSize, factor, factored);
}

/** The squared pass and its backward; the weights of the `factored` linear layers are not differentiated. */
function scalingPass(
  spec: NetSpec,
  params: Params,
  inputSize: Pair,
  factor: number,
  factored: Set<string>,
): { gammas: Params; factors: Record<string, ScalingFactors> } {
  return tf.tidy(() => {
    const all = Object.keys(paramShapes(spec));
    const names = all.filter((n) => !(n.endsWith('/weight') && factored.has(n.slice(0, -7))));
    const sq: Params = {};
    for (const n of all) sq[n] = tf.square(params[n]!);
    const x = tf.ones([1, inputSize[0], inputSize[1], spec.inChannels]) as tf.Tensor4D;
    const inputs = new Map<string, tf.Tensor | null>([...factored].map((l) => [l, null]));
    const total = (...s: tf.Tensor[]): tf.Scalar => {
      const record: Params = { ...sq };
      names.forEach((n, i) => {
        record[n] = s[i]!;
      });
      const sum: tf.Scalar = tf.sum(squaredForward(spec, record, x, inputs));
      return factor === 1 ? sum : (tf.mul(sum, factor) as tf.Scalar);
    };
    const grads = tf.grads(total)(names.map((n) => sq[n]!));
    const gammas: Params = {};
    names.forEach((n, i) => {
      gammas[n] = grads[i]!;
    });
    const factors: Record<string, ScalingFactors> = {};
    for (const layer of factored) {
      const a = inputs.get(layer)!;
      const b = gammas[`${layer}/bias`]!;
      factors[`${layer}/weight`] = {
        // a copy: the kept pass value is freed below
        a: tf.reshape(a, [a.shape[a.rank - 1]!, 1]).clone() as tf.Tensor2D,
        b: tf.reshape(b, [1, b.size]) as tf.Tensor2D,
      };
      a.dispose();
    }
    return { gammas, factors };
  });
}
