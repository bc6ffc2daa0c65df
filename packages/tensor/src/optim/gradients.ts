import * as tf from '@tensorflow/tfjs-core';
import { SegValueError } from '../errors.js';

/** A tensor with a name, as tfjs optimizers exchange weights (`getWeights` / `setWeights`). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** One entry of an optimizer's `applyGradients` argument and the variable it names. */
export interface VariableGradient {
  name: string;
  /** null or undefined: no gradient this step. */
  gradient: tf.Tensor | null | undefined;
  value: tf.Variable;
}

/**
 * The entries of `applyGradients`' argument (a map or a list, as tfjs
 * passes either), in order, each with its registered variable; an error
 * naming `fn` for a name no variable has.
 */
export function variableGradients(
  fn: string,
  gradients: tf.NamedTensorMap | NamedTensor[],
): VariableGradient[] {
  const pairs = Array.isArray(gradients)
    ? gradients.map(({ name, tensor }) => [name, tensor] as const)
    : Object.entries(gradients);
  return pairs.map(([name, gradient]) => {
    const value = tf.engine().registeredVariables[name];
    if (!value) throw new SegValueError(`${fn}.applyGradients: no variable named '${name}'`);
    return { name, gradient, value };
  });
}

/** Throws unless `gradient` has as many values as the variable `value` (`name`). */
export function checkGradientSize(
  fn: string,
  name: string,
  gradient: tf.Tensor,
  value: tf.Variable,
): void {
  if (gradient.size !== value.size) {
    throw new SegValueError(
      `${fn}.applyGradients: the gradient of '${name}' has ${gradient.size} values, expected ${value.size}`,
    );
  }
}
