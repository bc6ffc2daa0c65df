import type { NetSpec } from '@seg/dense-conv';
import { assertNumber, assertObject, SegValueError } from '@seg/tensor';
import type * as tf from '@tensorflow/tfjs-core';
import { checkParamRecord, checkRecordShapes, checkSpec } from '../model.js';
import {
  type CountState,
  chain,
  checkLearningRate,
  learningRateAt,
  scaleByLearningRate,
  trace,
} from './basic.js';
import {
  type PathNormOptions,
  type PathNormState,
  type PathNormStep,
  pathNormUpdate,
  resolvePathNormOptions,
  scaleByPathNorm,
} from './scale-by-path-norm.js';
import type { GradientTransformation, Schedule, TensorRecord } from './types.js';

/** Options of {@link pathSgd}. */
export interface PathSgdOptions extends PathNormOptions {
  /** Momentum decay applied after the path rescaling (0 = none). @default 0 */
  momentum?: number;
  /** Nesterov momentum. @default false */
  nesterov?: boolean;
}

/**
 * Path-SGD as one transformation (optax's shape: a named optimizer is an
 * `init` / `update` pair), the same rule as
 * `chain(scaleByPathNorm(model, options), [trace(momentum)], scaleByLearningRate(lr))`
 * and with that chain's state (`[PathNormState, CountState]`, with a
 * `TraceState` between them under momentum). Without momentum the step is
 * fused: `−lr·g / max(γ, ε)` is computed as `g / min(−γ/lr, −ε/lr)`, `−1/lr`
 * folded into the γ pass, one multiplication per parameter fewer than the
 * chain (equal to it up to float rounding). `PathSgdOptimizer` is this
 * transform behind the `tf.Optimizer` interface.
 *
 * @example
 * const opt = pathSgd(model, 0.05);
 * let state = opt.init(model.params);
 * const [updates, next] = opt.update(grads, state, model.params);
 * state = next;
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
  // checks the model, the options and the learning rate under this function's name
  const step = pathSgdStep(fn, model, learningRate, pathOptions);
  if (momentum === 0 && !nesterov) return step;
  return chain(
    scaleByPathNorm(model, pathOptions),
    trace({ decay: momentum, nesterov }),
    scaleByLearningRate(learningRate),
  );
}

/** The state of {@link pathSgd} without momentum: that of `chain(scaleByPathNorm, scaleByLearningRate)`. */
export type PathSgdState = [PathNormState, CountState];

/**
 * {@link pathSgd} without momentum; `update` takes a fourth argument, the
 * check of the step (see {@link PathNormStep}), for `PathSgdOptimizer`.
 */
export interface PathSgdStep extends GradientTransformation<PathSgdState> {
  update(
    updates: TensorRecord,
    state: PathSgdState,
    params?: TensorRecord,
    verify?: PathNormStep['verify'],
  ): [TensorRecord, PathSgdState];
}

/**
 * Path-SGD without momentum: `update` returns `−lr·g / max(γ, ε)` for the
 * parameters of the network, `−lr·g` for other names. `fn` names the caller
 * in messages (`fn: options…` when built, `fn.update: …` in a step).
 */
export function pathSgdStep(
  fn: string,
  model: { spec: NetSpec },
  learningRate: number | Schedule,
  options: PathNormOptions,
): PathSgdStep {
  if (model === null || typeof model !== 'object') {
    throw new SegValueError(`${fn}: model is ${String(model)}, expected { spec }`);
  }
  const spec = model.spec;
  checkSpec(fn, spec);
  const opts = resolvePathNormOptions(fn, spec, options);
  checkLearningRate(fn, learningRate);
  const at = `${fn}.update`;
  return {
    init: () => [{ count: 0, scale: {} }, { count: 0 }],
    update(updates, state, params, verify) {
      if (!Array.isArray(state) || state.length !== 2) {
        throw new SegValueError(
          `${at}: state has length ${Array.isArray(state) ? state.length : 'none'}, expected 2`,
        );
      }
      if (params === undefined) {
        throw new SegValueError(`${at}: update needs params (the current parameter values)`);
      }
      checkParamRecord(at, 'params', spec, params);
      checkRecordShapes(at, 'updates', spec, updates);
      const [pathState, lrState] = state;
      const lr = learningRateAt(at, learningRate, lrState.count);
      const [out, next] = pathNormUpdate(spec, opts, updates, pathState, params, {
        fn: at,
        multiplier: -lr,
        verify,
      });
      return [out, [next, { count: lrState.count + 1 }]];
    },
  };
}
