/**
 * The surrogate regression of Yang, Labeau and d'Alché-Buc (arXiv
 * 2411.11682; §6 of methods.md): `min_W Σ_i ‖h_W(x_i) − ψ(y_i)‖²`.
 */
import { assertLiveTensor, optionsObject, Rng, SegShapeError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import {
  checkEmbedding,
  checkFunction,
  checkMatrix,
  checkVariables,
  intOption,
  positiveOption,
} from './check.js';
import type { StructuredEncoder, TrainingReport } from './embedding.js';

/** Options of {@link fitSurrogate}. */
export interface SurrogateOptions {
  /** Passes over the data. @default 50 */
  epochs?: number;
  /** Examples per Adam step. @default 64 */
  batchSize?: number;
  /** Adam step size. @default 1e-3 */
  learningRate?: number;
  /** Seed of the batch order. @default 0 */
  seed?: number;
  /** Called after every epoch with its mean loss (mean over examples of ‖h(x) − t‖²). */
  onEpoch?: (epoch: number, loss: number) => void;
}

/**
 * Fits `model` (in place, Adam on shuffled mini-batches) to
 * `min Σ_i ‖model(x_i) − t_i‖²`, with `t_i = ψ(y_i)` the embeddings of the
 * training outputs (or any regression target, e.g. one-hot codes for a
 * fixed Hamming loss).
 *
 * @param model the input model `h`; its `variables` are updated.
 * @param inputs `[n, ...]` input features (rows are gathered into batches).
 * @param targets `[n,d]` float32 targets.
 * @returns the mean loss per epoch.
 * @throws SegShapeError when the row counts differ or the model's output is not `[b,d]`.
 *
 * @example
 * fitSurrogate(smilesNet, features, embedOutputs(graphEncoder, trainGraphs), { epochs: 60 });
 * const h = smilesNet.apply(testFeatures); // then decodeCandidates / decodeGradient
 */
export function fitSurrogate(
  model: StructuredEncoder<tf.Tensor>,
  inputs: tf.Tensor,
  targets: tf.Tensor,
  options: SurrogateOptions = {},
): TrainingReport {
  const fn = 'fitSurrogate';
  options = optionsObject(fn, options);
  checkFunction(fn, 'model.apply', model?.apply);
  const vars = checkVariables(fn, 'model.variables', model.variables);
  const [n, d] = checkMatrix(fn, 'targets', targets);
  assertLiveTensor(fn, 'inputs', inputs);
  if (inputs.rank < 1 || inputs.shape[0] !== n) {
    throw new SegShapeError(
      `${fn}: inputs has ${inputs.shape[0]} rows, expected ${n} like targets`,
    );
  }
  const epochs = intOption(fn, 'epochs', options.epochs, 50);
  const batchSize = intOption(fn, 'batchSize', options.batchSize, 64);
  const lr = positiveOption(fn, 'learningRate', options.learningRate, 1e-3);
  const rng = new Rng(options.seed ?? 0);
  const t0 = performance.now();
  const optimizer = tf.train.adam(lr);
  const losses: number[] = [];
  try {
    for (let e = 0; e < epochs; e++) {
      const order = rng.permutation(n);
      let sum = 0;
      for (let s = 0; s < n; s += batchSize) {
        const idx = order.subarray(s, Math.min(n, s + batchSize));
        const cost = optimizer.minimize(
          () => {
            const ii = tf.tensor1d(idx, 'int32');
            const out = model.apply(tf.gather(inputs, ii));
            const m = checkEmbedding(fn, 'model.apply(batch)', out, idx.length);
            if (m !== d) {
              throw new SegShapeError(
                `${fn}: model.apply(batch) has ${m} columns, expected ${d} like targets`,
              );
            }
            const diff = tf.sub(out, tf.gather(targets, ii));
            return tf.div(tf.sum(tf.square(diff)), idx.length) as tf.Scalar;
          },
          true,
          vars,
        );
        sum += cost!.dataSync()[0]! * idx.length;
        cost!.dispose();
      }
      losses.push(sum / n);
      options.onEpoch?.(e, sum / n);
    }
  } finally {
    optimizer.dispose();
  }
  return { losses, ms: performance.now() - t0 };
}
