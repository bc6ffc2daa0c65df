import type { NetSpec } from '@seg/dense-conv';
import { assertInt, assertNumber, assertObject, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { checkParamRecord, checkRecordShapes, checkSpec } from '../model.js';
import {
  computeScaling,
  computeScalingFactored,
  type PathScalingOptions,
  resolveInputSize,
} from '../scaling/squared-pass.js';
import type { GradientTransformation, TensorRecord } from './types.js';

/** Options of {@link scaleByPathNorm} (and of `pathSgd` and `PathSgdOptimizer`). */
export interface PathNormOptions extends PathScalingOptions {
  /**
   * Recompute γ every this many steps (1 = every step, as published); in
   * between, the last γ is reused. The rule: γ is recomputed on the steps
   * whose count (0 at the first step) is a multiple of `refreshEvery`, and on
   * any step where none is cached (a fresh state).
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

/** State of {@link scaleByPathNorm}: the step count and the cached γ by parameter name (empty when `refreshEvery` is 1). */
export interface PathNormState {
  count: number;
  scale: TensorRecord;
  [key: string]: tf.TensorContainer;
}

/** Resolved, checked {@link PathNormOptions}: `inputSize` is `[height, width]`. */
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

/**
 * `m · g / max(γ, ε)` for the names in `scale`, `m · g` for the others
 * (a copy of `g` when `m` is 1).
 */
export function divideByScale(
  grads: TensorRecord,
  scale: TensorRecord,
  epsilon: number,
  multiplier = 1,
): TensorRecord {
  return tf.tidy(() => {
    const out: TensorRecord = {};
    for (const [name, g] of Object.entries(grads)) {
      const s = scale[name];
      const u = s === undefined ? g : tf.div(g, tf.maximum(s, epsilon));
      out[name] = multiplier !== 1 ? tf.mul(u, multiplier) : s === undefined ? g.clone() : u;
    }
    return out;
  });
}

/**
 * The refresh rule of the γ cache: γ is recomputed on every step when
 * `refreshEvery` is 1, else on the steps whose count is a multiple of
 * `refreshEvery` (0, k, 2k, …: a schedule of the step count alone, so a
 * restored state refreshes where the original would have), and on any step
 * where nothing is cached (a fresh state).
 */
export function needsRefresh(refreshEvery: number, state: PathNormState): boolean {
  return (
    refreshEvery === 1 || state.count % refreshEvery === 0 || Object.keys(state.scale).length === 0
  );
}

/** How {@link pathNormUpdate} ends a step (one per caller: scaleByPathNorm, pathSgd, PathSgdOptimizer). */
export interface PathNormStep {
  /** The name in error messages, e.g. `'scaleByPathNorm.update'`. */
  fn: string;
  /**
   * What the scaled gradient is multiplied by: 1 for {@link scaleByPathNorm},
   * −lr for a Path-SGD step. On a fresh γ it is folded into the γ pass.
   */
  multiplier: number;
  /**
   * Throws to refuse the step, before the state is taken over (the caller's
   * state stays usable); gets the gradients and the updates.
   * @default the updates must be finite ({@link checkFiniteSteps})
   */
  verify?: (grads: TensorRecord, updates: TensorRecord) => void;
}

/**
 * One step of the path scaling: `m·g / max(γ, ε)` for every gradient of a
 * parameter of `spec` (`m·g` for other names), γ fresh from `params` or
 * from the state's cache ({@link needsRefresh}). Takes over `state` as a
 * {@link GradientTransformation} does, unless `step.verify` (or the default
 * finiteness check) throws; then `state` is left as it was. Parameters and
 * gradients are not checked here.
 */
export function pathNormUpdate(
  spec: NetSpec,
  opts: ResolvedPathNormOptions,
  grads: TensorRecord,
  state: PathNormState,
  params: TensorRecord,
  step: PathNormStep,
): [TensorRecord, PathNormState] {
  const cache = opts.refreshEvery > 1;
  const refresh = needsRefresh(opts.refreshEvery, state);
  let scale: TensorRecord = {};
  let out: TensorRecord;
  if (!cache) out = freshStep(spec, params, grads, opts, step.multiplier);
  else {
    scale = refresh ? computeScaling(spec, params, opts.inputSize) : state.scale;
    out = divideByScale(grads, scale, opts.epsilon, step.multiplier);
  }
  try {
    if (step.verify !== undefined) step.verify(grads, out);
    else checkFiniteSteps(step.fn, grads, out, 'update', opts.epsilon);
  } catch (e) {
    tf.dispose(out);
    if (cache && refresh) tf.dispose(scale);
    throw e;
  }
  if (scale !== state.scale) tf.dispose(state.scale);
  return [out, { count: state.count + 1, scale }];
}

/**
 * `m·g / max(γ, ε)` with γ fresh from `params`, computed as
 * `g / max(γ/m, ε/|m|)` (a min for m < 0) with `1/m` folded into the
 * backward pass, as long as ε/|m| stays a normal float32; else the pass
 * gives γ and m multiplies after. A single-position `linear` layer's γ is an
 * outer product `a·bᵀ` ({@link computeScalingFactored}); its step is
 * `g·diag(1/a)·diag(1/b)`, never building the k×n γ, when the floor cannot
 * bite (every |a_i·b_j| ≥ the floor: min |a|, min |b| ≥ √floor), else
 * `g / max(a·bᵀ, floor)`.
 */
function freshStep(
  spec: NetSpec,
  params: TensorRecord,
  grads: TensorRecord,
  opts: ResolvedPathNormOptions,
  m: number,
): TensorRecord {
  const fold = m !== 0 && opts.epsilon / Math.abs(m) >= MIN_EPSILON;
  const factor = fold ? 1 / m : 1;
  const after = fold ? 1 : m;
  const floor = opts.epsilon * Math.abs(factor);
  const { gammas, factors } = computeScalingFactored(spec, params, opts.inputSize, factor);
  try {
    const factoredOk = new Set<string>();
    const names = Object.keys(factors);
    if (names.length > 0) {
      // a ≥ 0 (values of the pass); b has the sign of the factor: min |b| is −max b when it is < 0
      const minAbs = (t: tf.Tensor, sign: number) => (sign > 0 ? tf.min(t) : tf.neg(tf.max(t)));
      const mins = tf.tidy(() =>
        tf.stack(names.flatMap((n) => [minAbs(factors[n]!.a, 1), minAbs(factors[n]!.b, factor)])),
      );
      const v = mins.dataSync();
      mins.dispose();
      const root = Math.sqrt(floor);
      names.forEach((n, i) => {
        if (v[2 * i]! >= root && v[2 * i + 1]! >= root) factoredOk.add(n);
      });
    }
    const clamp = (s: tf.Tensor) => (factor > 0 ? tf.maximum(s, floor) : tf.minimum(s, -floor));
    return tf.tidy(() => {
      const out: TensorRecord = {};
      for (const [p, g] of Object.entries(grads)) {
        const f = factors[p];
        const s = gammas[p];
        let u: tf.Tensor;
        if (f !== undefined && factoredOk.has(p)) {
          u = tf.mul(tf.mul(g, tf.reciprocal(f.a)), tf.reciprocal(f.b));
        } else if (f !== undefined) u = tf.div(g, clamp(tf.matMul(f.a, f.b)));
        else if (s !== undefined) u = tf.div(g, clamp(s));
        else {
          out[p] = m === 1 ? g.clone() : tf.mul(g, m); // not a parameter of the network
          continue;
        }
        out[p] = after === 1 ? u : tf.mul(u, after);
      }
      return out;
    });
  } finally {
    tf.dispose(gammas);
    for (const f of Object.values(factors)) tf.dispose([f.a, f.b]);
  }
}

/**
 * The Path-SGD rescaling as a gradient transformation: divides the gradient
 * of every parameter of `model.spec` by its γ_in·γ_out ({@link pathScaling}),
 * computed from the current `params` given to `update` (required). Gradients
 * of names outside the network pass through unchanged. Chain it with
 * {@link scaleByLearningRate} for Path-SGD, with {@link trace} in between for
 * momentum ({@link pathSgd} does both). γ is recomputed every step, or every
 * `refreshEvery` steps ({@link PathNormOptions}); a fresh γ of a `linear` layer
 * that sees one position in the pass (every layer of an MLP) is used in
 * factored form, `g·diag(1/a)·diag(1/b)` with `γ = a·bᵀ`, so its k×n γ is
 * never built. An update holding NaN or ±∞ (a NaN gradient, an overflow) is
 * refused with a SegValueError before the state is taken over.
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
      return pathNormUpdate(spec, opts, updates, state, params, {
        fn: `${fn}.update`,
        multiplier: 1,
      });
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
