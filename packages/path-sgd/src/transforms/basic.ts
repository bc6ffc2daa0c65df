import { assertNumber, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { checkSameShape } from '../model.js';
import type { GradientTransformation, Schedule, TensorRecord } from './types.js';

/** Options of {@link trace}. */
export interface TraceOptions {
  /** Decay of the running trace, in [0, 1). */
  decay: number;
  /** Nesterov's variant: return `g + decay·trace` instead of the trace. @default false */
  nesterov?: boolean;
}

/** State of {@link trace}: one trace tensor per parameter. */
export interface TraceState {
  trace: TensorRecord;
  [key: string]: tf.TensorContainer;
}

/**
 * Momentum (optax's `trace`): `t ← g + decay·t`, returns `t` (or
 * `g + decay·t` with Nesterov). The trace starts at zero.
 *
 * @example
 * const sgdMomentum = chain(trace({ decay: 0.9 }), scaleByLearningRate(0.01));
 */
export function trace(options: TraceOptions): GradientTransformation<TraceState> {
  const fn = 'trace';
  if (options === null || typeof options !== 'object') {
    throw new SegValueError(`${fn}: options is ${String(options)}, expected { decay }`);
  }
  const { decay, nesterov = false } = options;
  assertNumber(fn, 'options.decay', decay, 0, 1);
  if (typeof nesterov !== 'boolean') {
    throw new SegValueError(
      `${fn}: options.nesterov is ${JSON.stringify(nesterov)}, expected true or false`,
    );
  }
  return {
    init: (params) =>
      tf.tidy(() => {
        const t: TensorRecord = {};
        for (const [name, p] of Object.entries(params)) t[name] = tf.zerosLike(p);
        return { trace: t };
      }),
    update(updates, state) {
      const result = tf.tidy(() => {
        const t: TensorRecord = {};
        const out: TensorRecord = {};
        for (const [name, g] of Object.entries(updates)) {
          const old = state.trace[name];
          const next = old === undefined ? g.clone() : tf.add(g, tf.mul(old, decay));
          t[name] = next;
          out[name] = nesterov ? tf.add(g, tf.mul(next, decay)) : next.clone();
        }
        return { t, out };
      });
      for (const [name, old] of Object.entries(state.trace)) {
        if (result.t[name] === undefined) result.t[name] = old;
        else old.dispose();
      }
      return [result.out, { trace: result.t }];
    },
  };
}

/** Momentum with `decay` (the same transform as {@link trace}). */
export function momentum(decay: number, nesterov = false): GradientTransformation<TraceState> {
  return trace({ decay, nesterov });
}

/** State of {@link scaleByLearningRate}: the step count (for schedules). */
export interface CountState {
  count: number;
  [key: string]: tf.TensorContainer;
}

/**
 * Multiplies updates by `−lr` (a descent step), `lr` a number or a
 * {@link Schedule} of the step count (0 at the first update).
 *
 * @example
 * const decayed = scaleByLearningRate((step) => 0.1 / (1 + step / 1000));
 */
export function scaleByLearningRate(
  learningRate: number | Schedule,
): GradientTransformation<CountState> {
  const fn = 'scaleByLearningRate';
  checkLearningRate(fn, learningRate);
  return {
    init: () => ({ count: 0 }),
    update(updates, state) {
      const lr = learningRateAt(`${fn}.update`, learningRate, state.count);
      const out = tf.tidy(() => {
        const o: TensorRecord = {};
        for (const [name, u] of Object.entries(updates)) o[name] = tf.mul(u, -lr);
        return o;
      });
      return [out, { count: state.count + 1 }];
    },
  };
}

/** Throws unless `learningRate` is a number ≥ 0 or a {@link Schedule}. */
export function checkLearningRate(fn: string, learningRate: number | Schedule): void {
  if (typeof learningRate === 'number') assertNumber(fn, 'learningRate', learningRate, 0);
  else if (typeof learningRate !== 'function') {
    throw new SegValueError(
      `${fn}: learningRate is ${String(learningRate)}, expected a number or a schedule (step) => number`,
    );
  }
}

/** The learning rate at step `count` (a schedule's value is checked: a finite number ≥ 0). */
export function learningRateAt(fn: string, learningRate: number | Schedule, count: number): number {
  if (typeof learningRate === 'number') return learningRate;
  const lr = learningRate(count);
  assertNumber(fn, `learningRate(${count})`, lr, 0);
  return lr;
}

/**
 * Applies transformations in order, each to the updates of the one before;
 * the state is the array of their states. Intermediate updates are disposed.
 *
 * @example
 * const pathSgdMomentum = chain(scaleByPathNorm(model), trace({ decay: 0.9 }), scaleByLearningRate(1e-2));
 */
export function chain(
  ...transforms: GradientTransformation[]
): GradientTransformation<tf.TensorContainer[]> {
  transforms.forEach((t, i) => {
    if (t === null || typeof t !== 'object' || typeof t.update !== 'function') {
      throw new SegValueError(`chain: transforms[${i}] is not a gradient transformation`);
    }
  });
  return {
    init: (params) => transforms.map((t) => t.init(params)),
    update(updates, state, params) {
      if (!Array.isArray(state) || state.length !== transforms.length) {
        throw new SegValueError(
          `chain.update: state has length ${Array.isArray(state) ? state.length : 'none'}, expected ${transforms.length}`,
        );
      }
      let current = updates;
      const next: tf.TensorContainer[] = [];
      transforms.forEach((t, i) => {
        const [u, s] = t.update(current, state[i]!, params);
        if (current !== updates) tf.dispose(current);
        current = u;
        next.push(s);
      });
      if (current === updates) current = tf.tidy(() => mapRecord(updates, (u) => u.clone()));
      return [current, next];
    },
  };
}

/** Throws unless `record` is a record of tensors. */
function checkRecord(fn: string, arg: string, record: unknown): void {
  if (record === null || typeof record !== 'object') {
    throw new SegValueError(`${fn}: ${arg} is ${String(record)}, expected a record of tensors`);
  }
  for (const [name, t] of Object.entries(record as Record<string, unknown>)) {
    if (!(t instanceof tf.Tensor))
      throw new SegValueError(`${fn}: ${arg}['${name}'] is not a tensor`);
  }
}

/**
 * Throws unless `targets` and `updates` are records of tensors and every
 * update names an entry of `targets` (else: "updates has 'x', which
 * `missing`") of the same shape.
 */
function checkUpdates(
  fn: string,
  targets: TensorRecord,
  targetsArg: string,
  updates: TensorRecord,
  missing: string,
): void {
  checkRecord(fn, targetsArg, targets);
  checkRecord(fn, 'updates', updates);
  for (const [name, u] of Object.entries(updates)) {
    const t = targets[name];
    if (t === undefined) throw new SegValueError(`${fn}: updates has '${name}', which ${missing}`);
    checkSameShape(fn, `updates['${name}']`, u, t.shape);
  }
}

function mapRecord(r: TensorRecord, f: (t: tf.Tensor, name: string) => tf.Tensor): TensorRecord {
  const out: TensorRecord = {};
  for (const [name, t] of Object.entries(r)) out[name] = f(t, name);
  return out;
}

/**
 * `params + updates`, as new tensors (optax's `apply_updates`); a parameter
 * with no update is copied. Runs in `tf.tidy`; the caller owns the result.
 * An update for a name not in `params`, or of another shape than its
 * parameter, throws (it is never broadcast).
 */
export function applyUpdates(params: TensorRecord, updates: TensorRecord): TensorRecord {
  checkUpdates('applyUpdates', params, 'params', updates, 'is not in params');
  return tf.tidy(() =>
    mapRecord(params, (p, name) => {
      const u = updates[name];
      return u === undefined ? p.clone() : tf.add(p, u);
    }),
  );
}

/**
 * `v.assign(v + update)` for every variable that has an update: the
 * in-place form of {@link applyUpdates} for `tf.Variable` parameters.
 */
export function assignUpdates(variables: Record<string, tf.Variable>, updates: TensorRecord): void {
  checkUpdates('assignUpdates', variables, 'variables', updates, 'is not a variable');
  for (const [name, u] of Object.entries(updates)) {
    const v = variables[name]!;
    tf.tidy(() => {
      v.assign(tf.add(v, u));
    });
  }
}
