import type { NetSpec } from '@seg/dense-conv';
import { assertNumber, assertObject, SegValueError } from '@seg/tensor';
import type * as tf from '@tensorflow/tfjs-core';
import { chain, scaleByLearningRate, trace } from './basic.js';
import { type PathNormOptions, scaleByPathNorm } from './scale-by-path-norm.js';
import type { GradientTransformation, Schedule } from './types.js';

/** Options of {@link pathSgd}. */
export interface PathSgdOptions extends PathNormOptions {
  /** Momentum decay applied after the path rescaling (0 = none). @default 0 */
  momentum?: number;
  /** Nesterov momentum. @default false */
  nesterov?: boolean;
}

/**
 * Path-SGD as one transformation:
 * `chain(scaleByPathNorm(model), [trace(momentum)], scaleByLearningRate(lr))`.
 *
 * @example
 * const opt = pathSgd(model, 0.05);
 * let state = opt.init(model.params);
 * const [updates, next] = opt.update(grads, state, model.params);
 * assignUpdates(model.params, updates);
 */
export function pathSgd(
  model: { spec: NetSpec },
  learningRate: number | Schedule,
  options: PathSgdOptions = {},
): GradientTransformation<tf.TensorContainer[]> {
  const fn = 'pathSgd';
  assertObject(fn, 'options', options);
  const { momentum = 0, nesterov = false, ...pathOptions } = options;
  assertNumber(fn, 'options.momentum', momentum, 0, 1);
  if (typeof nesterov !== 'boolean') {
    throw new SegValueError(
      `${fn}: options.nesterov is ${JSON.stringify(nesterov)}, expected true or false`,
    );
  }
  const parts: GradientTransformation[] = [scaleByPathNorm(model, pathOptions)];
  if (momentum > 0 || nesterov) parts.push(trace({ decay: momentum, nesterov }));
  parts.push(scaleByLearningRate(learningRate));
  return chain(...parts);
}
