import type { NetSpec } from '@seg/dense-conv';
import { assertInt, assertNumber, assertObject, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { checkParamRecord, checkRecordShapes, checkSpec } from '../model.js';
import {
  computeScaling,
  type PathScalingOptions,
  resolveInputSize,
} from '../scaling/squared-pass.js';
import type { GradientTransformation, TensorRecord } from './types.js';

/** Options of {@link scaleByPathNorm} (and of `PathSGD`). */
export interface PathNormOptions extends PathScalingOptions {
  /**
   * Recompute γ every this many steps (1 = every step, as published); in
   * between, the last γ is reused.
   * @default 1
   */
  refreshEvery?: number;
  /**
   * Floor of γ in the division, so that a parameter on no path (γ = 0)
   * gets a finite (not NaN) update: at least {@link MIN_EPSILON} = 2^-126
   * (float32's smallest normal number; 0 would divide 0 by 0 on a dead unit).
   * @default 1e-12
   */
  epsilon?: number;
}

/** State of {@link scaleByPathNorm}: the step count and the cached γ (empty when `refreshEvery` is 1). */
export interface PathNormState {
  count: number;
  scale: TensorRecord;
  [key: string]: tf.TensorContainer;
}

/** Resolved, checked {@link PathNormOptions}. */
export interface ResolvedPathNormOptions {
  refreshEvery: number;
  epsilon: number;
  inputSize: [number, number];
}

/**
 * The smallest `epsilon` allowed: 2^-126 ≈ 1.18e-38, float32's smallest
 * normal number. A floor of 0 (or one that rounds to 0 in float32) gives a
 * parameter with γ = 0 the update 0/0 = NaN.
 */
export const MIN_EPSILON = 2 ** -126;

/** Checks the {@link PathNormOptions} that need no network, and fills in their defaults. */
export function checkPathNormOptions(
  fn: string,
  options: PathNormOptions,
): Omit<ResolvedPathNormOptions, 'inputSize'> {
  assertObject(fn, 'options', options);
  const refreshEvery = options.refreshEvery ?? 1;
  assertInt(fn, 'options.refreshEvery', refreshEvery, 1);
  const epsilon = options.epsilon ?? 1e-12;
  assertNumber(fn, 'options.epsilon', epsilon, MIN_EPSILON);
  return { refreshEvery, epsilon };
}

/** Checks and fills in {@link PathNormOptions}. */
export function resolvePathNormOptions(
  fn: string,
  spec: NetSpec,
  options: PathNormOptions,
): ResolvedPathNormOptions {
  const { refreshEvery, epsilon } = checkPathNormOptions(fn, options);
  return { refreshEvery, epsilon, inputSize: resolveInputSize(fn, spec, options.inputSize) };
}

/** `g / max(γ, ε)` for the names in `scale`, a copy of `g` for the others. */
export function divideByScale(
  grads: TensorRecord,
  scale: TensorRecord,
  epsilon: number,
): TensorRecord {
  return tf.tidy(() => {
    const out: TensorRecord = {};
    for (const [name, g] of Object.entries(grads)) {
      const s = scale[name];
      out[name] = s === undefined ? g.clone() : tf.div(g, tf.maximum(s, epsilon));
    }
    return out;
  });
}

/**
 * The Path-SGD rescaling as a gradient transformation: divides the gradient
 * of every parameter of `model.spec` by its γ_in·γ_out ({@link pathScaling}),
 * computed from the current `params` given to `update` (required). Gradients
 * of names outside the network pass through unchanged. Chain it with
 * {@link scaleByLearningRate} for Path-SGD, with {@link trace} in between for
 * momentum.
 *
 * @example
 * const opt = chain(scaleByPathNorm(model), trace({ decay: 0.9 }), scaleByLearningRate(0.01));
 * let state = opt.init(model.params);
 * const [updates, next] = opt.update(grads, state, model.params);
 * state = next;
 */
export function scaleByPathNorm(
  model: { spec: NetSpec },
  options: PathNormOptions = {},
): GradientTransformation<PathNormState> {
  const fn = 'scaleByPathNorm';
  if (model === null || typeof model !== 'object') {
    throw new SegValueError(`${fn}: model is ${String(model)}, expected { spec }`);
  }
  const spec = model.spec;
  checkSpec(fn, spec);
  const opts = resolvePathNormOptions(fn, spec, options);
  return {
    init: () => ({ count: 0, scale: {} }),
    update(updates, state, params) {
      if (params === undefined) {
        throw new SegValueError(`${fn}: update needs params (the current parameter values)`);
      }
      checkParamRecord(`${fn}.update`, 'params', spec, params);
      checkRecordShapes(`${fn}.update`, 'updates', spec, updates);
      const refresh =
        opts.refreshEvery === 1 ||
        state.count % opts.refreshEvery === 0 ||
        Object.keys(state.scale).length === 0;
      const scale = refresh ? computeScaling(spec, params, opts.inputSize) : state.scale;
      const out = divideByScale(updates, scale, opts.epsilon);
      try {
        checkFiniteSteps(`${fn}.update`, updates, out, 'update', opts.epsilon);
      } catch (e) {
        // the caller's state stays as it was
        tf.dispose(out);
        if (refresh) tf.dispose(scale);
        throw e;
      }
      if (refresh) tf.dispose(state.scale);
      if (opts.refreshEvery === 1) {
        tf.dispose(scale);
        return [out, { count: state.count + 1, scale: {} }];
      }
      return [out, { count: state.count + 1, scale }];
    },
  };
}

/**
 * Throws a SegValueError unless every tensor of `next` is finite, naming the
 * first bad one and why: its gradient (`grads`) or its current value
 * (`current`) already holds NaN or ±∞, or the division by the path scale
 * overflowed. One reduction per tensor and one read: O(parameters), once a
 * step, before anything is assigned. `what` names the tensors of `next`
 * ("update", "new value").
 */
export function checkFiniteSteps(
  fn: string,
  grads: TensorRecord,
  next: TensorRecord,
  what: string,
  epsilon: number,
  current?: TensorRecord,
): void {
  const names = Object.keys(next);
  if (names.length === 0) return;
  const notFinite = (t: tf.Tensor) => tf.sum(tf.sub(t, t)); // NaN iff an entry is NaN or ±∞
  const sums = tf.tidy(() => tf.stack(names.map((n) => notFinite(next[n]!))));
  const bad = sums.dataSync();
  sums.dispose();
  const i = bad.findIndex((v) => v !== 0);
  if (i < 0) return;
  const name = names[i]!;
  const isBad = (t: tf.Tensor | undefined) => {
    if (t === undefined) return false;
    const s = tf.tidy(() => notFinite(t));
    const v = s.dataSync()[0];
    s.dispose();
    return v !== 0;
  };
  let why: string;
  if (isBad(grads[name])) why = `the gradient of '${name}' has NaN or infinite entries`;
  else if (isBad(current?.[name])) why = `'${name}' already holds NaN or infinite values`;
  else
    why = `the ${what} of '${name}' overflows float32 (its gradient divided by a path scale γ floored at epsilon = ${epsilon})`;
  throw new SegValueError(`${fn}: ${why}, expected finite values; nothing was changed`);
}
