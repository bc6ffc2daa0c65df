import type * as tf from '@tensorflow/tfjs-core';

/** Tensors keyed by parameter name (`fc1/weight`, ...): parameters, gradients or updates. */
export type TensorRecord = Record<string, tf.Tensor>;

/**
 * An optax-style gradient transformation: a pair of pure-looking functions
 * over explicit state, with every tensor keyed by parameter name.
 *
 * Ownership (tfjs needs one): `init` returns a new state the caller owns.
 * `update(updates, state, params)` never disposes `updates` or `params`; it
 * takes over `state` (tensors of it that the new state does not carry are
 * disposed, so never reuse a state after passing it in) and returns new
 * update tensors and the new state, both owned by the caller. Dispose a
 * state with `tf.dispose(state)`.
 */
export interface GradientTransformation<S extends tf.TensorContainer = tf.TensorContainer> {
  /** The initial state for these parameters. */
  init(params: TensorRecord): S;
  /** Transforms `updates` (first the gradients); `params` are the current parameter values. */
  update(updates: TensorRecord, state: S, params?: TensorRecord): [TensorRecord, S];
}

/** A learning rate as a function of the step count (0 at the first update). */
export type Schedule = (step: number) => number;
