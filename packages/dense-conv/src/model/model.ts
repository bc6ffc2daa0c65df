import { Rng, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { paramShapes } from '../spec/analyse.js';
import { defineNet, type NetInput } from '../spec/define.js';
import type { NetSpec } from '../spec/types.js';
import { type ApplyOptions, applyNet, checkParams, type Params } from './apply.js';

/**
 * A network: its plain-data description plus its parameters as trainable
 * `tf.Variable`s. Models made by {@link toDense} / {@link toPatch} share the
 * variables of the model they came from: train either, both change; dispose
 * only one of them.
 */
export interface Model {
  readonly spec: NetSpec;
  readonly params: Record<string, tf.Variable>;
  /**
   * {@link applyNet} with this model's description; `params` replaces the
   * model's own parameters for this call (e.g. squared ones).
   */
  apply(x: tf.Tensor, options?: ApplyOptions & { params?: Params }): tf.Tensor4D;
  /** The variables in {@link paramShapes} order (for `optimizer.minimize(f, true, varList)`). */
  variables(): tf.Variable[];
  /** Number of scalar parameters. */
  numParams(): number;
  /** Disposes the variables (shared with any model converted from this one). */
  dispose(): void;
}

/**
 * Seeded initial parameters of a network as plain tensors: He-normal
 * (std `sqrt(2 / fanIn)`, fanIn = kh·kw·inChannels for a convolution,
 * inChannels for a dense layer) for weights, zeros for biases.
 *
 * @example
 * const params = initParams(spec, new Rng(1));
 */
export function initParams(spec: NetSpec, rng: Rng): Params {
  if (!(rng instanceof Rng)) throw new SegValueError('initParams: rng is not an Rng');
  const out: Params = {};
  for (const [name, shape] of Object.entries(paramShapes(spec))) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (name.endsWith('/bias')) {
      out[name] = tf.zeros(shape);
    } else {
      const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      out[name] = tf.tensor(rng.normalArray(size, 0, Math.sqrt(2 / fanIn)), shape, 'float32');
    }
  }
  return out;
}

/**
 * Makes a model: checks the description ({@link defineNet}) and creates
 * its variables, seeded from `rng` (or a seed number) or taken from `params`
 * (copied into new variables).
 *
 * @example
 * const model = createModel({ inChannels: 3, layers: [conv2d({ outChannels: 8, filterSize: 3 }), relu()] }, 42);
 * const y = model.apply(tf.zeros([1, 32, 32, 3])); // [1, 30, 30, 8]
 */
export function createModel(spec: NetSpec | NetInput, init: Rng | number | Params): Model {
  const canonical = defineNet(spec);
  let initial: Params;
  let owned = false;
  if (typeof init === 'number') {
    initial = initParams(canonical, new Rng(init));
    owned = true;
  } else if (init instanceof Rng) {
    initial = initParams(canonical, init);
    owned = true;
  } else {
    checkParams('createModel', canonical, init);
    initial = init;
  }
  const params: Record<string, tf.Variable> = {};
  for (const name of Object.keys(paramShapes(canonical)))
    params[name] = tf.variable(initial[name]!, true);
  if (owned) tf.dispose(Object.values(initial));
  return modelFromVariables(canonical, params);
}

/** A model over existing variables (no copy): how {@link toDense} shares parameters. */
export function modelFromVariables(spec: NetSpec, params: Record<string, tf.Variable>): Model {
  checkParams('modelFromVariables', spec, params);
  const names = Object.keys(paramShapes(spec));
  return {
    spec,
    params,
    apply(x, options = {}) {
      const { params: override, ...rest } = options;
      return applyNet(spec, override ?? params, x, rest);
    },
    variables: () => names.map((n) => params[n]!),
    numParams: () => names.reduce((s, n) => s + params[n]!.size, 0),
    dispose: () => {
      for (const n of names) params[n]!.dispose();
    },
  };
}
