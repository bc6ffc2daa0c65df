import { optionsObject } from '@seg/tensor';
/** Partial cross-entropy on scribble seeds (Tang et al., ECCV 2018, §1 of methods.md). */
import type * as tf from '@tensorflow/tfjs-core';
import {
  checkReduction,
  checkScores,
  checkShape,
  type ReductionOptions,
  readFinite,
  readLabels,
} from '../validate.js';
import { weightedCrossEntropy } from './weighted.js';

/**
 * Partial cross-entropy of the seeds: per example
 * `L_pCE = −(1/|Ω_L|) Σ_{p∈Ω_L} log softmax(logits_p)[y_p]`, with a stable
 * log-softmax.
 *
 * An example with no seed gives 0 (and a zero gradient) and is left out of
 * the `'mean'` reduction, which divides by the number of examples that have
 * seeds (0 if none has any).
 *
 * @param logits `[N,H,W,K]` float32 scores (before the softmax).
 * @param seeds `[N,H,W]` int32 labels in `[0, K-1]`, `-1` for unlabelled.
 * @returns `[N]` per example, or a scalar with `reduction: 'mean' | 'sum'`.
 * @throws SegShapeError on shape or dtype mismatches, SegValueError on a
 * non-finite logit, SegRangeError on a label outside `[-1, K-1]`.
 *
 * @example
 * const loss = partialCrossEntropy(logits, seeds, { reduction: 'mean' });
 */
export function partialCrossEntropy(
  logits: tf.Tensor,
  seeds: tf.Tensor,
  options: ReductionOptions = {},
): tf.Tensor {
  const fn = 'partialCrossEntropy';
  options = optionsObject(fn, options);
  const reduction = checkReduction(fn, options.reduction);
  const dims = checkScores(fn, 'logits', logits);
  checkShape(fn, 'seeds', seeds, [dims.n, dims.h, dims.w], ['int32']);
  const labels = readLabels(fn, 'seeds', seeds, dims.k);
  const z = readFinite(fn, 'logits', logits);
  return weightedCrossEntropy(logits, z, dims, labels, null, reduction);
}
