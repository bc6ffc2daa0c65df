/**
 * Learning the output embedding ψ by contrastive learning on the training
 * outputs alone (Yang, Labeau and d'Alché-Buc, arXiv 2411.11682; §6 of
 * methods.md): two augmented views of each output, NT-Xent between them.
 */
import { optionsObject, Rng, SegShapeError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import {
  checkEmbedding,
  checkFunction,
  checkVariables,
  intOption,
  positiveOption,
} from './check.js';
import { normalizeRows, ntXent } from './nt-xent.js';

/**
 * A trainable map from a batch of items to raw embeddings (not yet unit
 * norm). Output encoders take `readonly Y[]`; surrogate models take a
 * `tf.Tensor` of input features.
 *
 * @example
 * const encoder: StructuredEncoder<readonly number[][]> = {
 *   variables: [w],
 *   apply: (ys) => tf.matMul(tf.tensor2d(ys as number[][]), w),
 * };
 */
export interface StructuredEncoder<T> {
  /** The weights the trainers update (in place, by `tf.Variable.assign`). */
  readonly variables: readonly tf.Variable[];
  /** `[n,d]` float32 raw embeddings of the `n` items of `batch`, differentiable in `variables`. */
  apply(batch: T): tf.Tensor2D;
}

/** Options of {@link trainOutputEmbedding}. */
export interface ContrastiveOptions<Y> {
  /** A random view of `y` (node dropping, edge perturbation, masking...); must not modify `y`. */
  augment: (y: Y, rng: Rng) => Y;
  /** Passes over the outputs. @default 20 */
  epochs?: number;
  /** Items per step (two views each); a last batch with fewer than 2 items is skipped. @default 128 */
  batchSize?: number;
  /** NT-Xent temperature. @default 0.2 */
  temperature?: number;
  /** Adam step size. @default 1e-3 */
  learningRate?: number;
  /** Seed of the batch order and of the augmentations. @default 0 */
  seed?: number;
  /** Called after every epoch with its mean loss. */
  onEpoch?: (epoch: number, loss: number) => void;
}

/** What {@link trainOutputEmbedding} and {@link fitSurrogate} return. */
export interface TrainingReport {
  /** Mean loss of each epoch. */
  losses: number[];
  /** Wall-clock time, ms. */
  ms: number;
}

/**
 * Trains `encoder` (in place) so that `ψ(y) = encoder(y)/‖encoder(y)‖` maps
 * two augmented views of an output close together and apart from the other
 * outputs of the batch (NT-Xent, Adam). The learned loss is then
 * `Δ(y, y') = 2 − 2⟨ψ(y), ψ(y')⟩` ({@link learnedLoss}).
 *
 * @param encoder the output encoder; its `variables` are updated.
 * @param outputs the training outputs (at least 2).
 * @returns the mean NT-Xent loss per epoch.
 * @throws SegValueError / SegRangeError on bad options, SegShapeError if the
 * encoder returns the wrong number of rows.
 *
 * @example
 * const report = trainOutputEmbedding(graphEncoder, trainGraphs, { augment, epochs: 30, seed: 1 });
 * const psi = embedOutputs(graphEncoder, trainGraphs); // [n,d], unit rows
 */
export function trainOutputEmbedding<Y>(
  encoder: StructuredEncoder<readonly Y[]>,
  outputs: readonly Y[],
  options: ContrastiveOptions<Y>,
): TrainingReport {
  const fn = 'trainOutputEmbedding';
  options = optionsObject(fn, options);
  checkFunction(fn, 'encoder.apply', encoder?.apply);
  const vars = checkVariables(fn, 'encoder.variables', encoder.variables);
  if (!Array.isArray(outputs) || outputs.length < 2) {
    throw new SegShapeError(
      `${fn}: outputs has ${Array.isArray(outputs) ? outputs.length : String(outputs)} items, expected an array of at least 2`,
    );
  }
  checkFunction(fn, 'options.augment', options.augment);
  const epochs = intOption(fn, 'epochs', options.epochs, 20);
  const batchSize = intOption(fn, 'batchSize', options.batchSize, 128, 2);
  const tau = positiveOption(fn, 'temperature', options.temperature, 0.2);
  const lr = positiveOption(fn, 'learningRate', options.learningRate, 1e-3);
  const rng = new Rng(options.seed ?? 0);
  const t0 = performance.now();
  const optimizer = tf.train.adam(lr);
  const losses: number[] = [];
  try {
    for (let e = 0; e < epochs; e++) {
      const order = rng.permutation(outputs.length);
      let sum = 0;
      let steps = 0;
      for (let s = 0; s + 2 <= order.length; s += batchSize) {
        const idx = order.subarray(s, Math.min(order.length, s + batchSize));
        const v1 = Array.from(idx, (i) => options.augment(outputs[i]!, rng));
        const v2 = Array.from(idx, (i) => options.augment(outputs[i]!, rng));
        const cost = optimizer.minimize(
          () => {
            const z1 = encoder.apply(v1);
            const z2 = encoder.apply(v2);
            checkEmbedding(fn, 'encoder.apply(batch)', z1, idx.length);
            return ntXent(z1, z2, tau);
          },
          true,
          vars,
        );
        sum += cost!.dataSync()[0]!;
        cost!.dispose();
        steps++;
      }
      losses.push(sum / steps);
      options.onEpoch?.(e, sum / steps);
    }
  } finally {
    optimizer.dispose();
  }
  return { losses, ms: performance.now() - t0 };
}

/**
 * The unit-norm embeddings `ψ(y)` of `outputs`, computed in batches.
 *
 * @param encoder an output encoder (e.g. trained by {@link trainOutputEmbedding}).
 * @param outputs the items to embed (at least 1).
 * @param batchSize items per call of `encoder.apply`. @default 512
 * @returns `[n,d]` float32, unit rows; the caller disposes it.
 * @throws SegShapeError on an empty list or if the encoder returns the wrong number of rows.
 *
 * @example
 * const psi = embedOutputs(graphEncoder, candidates);
 */
export function embedOutputs<Y>(
  encoder: StructuredEncoder<readonly Y[]>,
  outputs: readonly Y[],
  batchSize = 512,
): tf.Tensor2D {
  const fn = 'embedOutputs';
  checkFunction(fn, 'encoder.apply', encoder?.apply);
  if (!Array.isArray(outputs) || outputs.length < 1) {
    throw new SegShapeError(
      `${fn}: outputs has ${Array.isArray(outputs) ? outputs.length : String(outputs)} items, expected a non-empty array`,
    );
  }
  batchSize = intOption(fn, 'batchSize', batchSize, 512);
  return tf.tidy(() => {
    const parts: tf.Tensor2D[] = [];
    for (let s = 0; s < outputs.length; s += batchSize) {
      const batch = outputs.slice(s, s + batchSize);
      const z = encoder.apply(batch);
      checkEmbedding(fn, 'encoder.apply(batch)', z, batch.length);
      parts.push(normalizeRows(z));
    }
    return parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
  });
}
