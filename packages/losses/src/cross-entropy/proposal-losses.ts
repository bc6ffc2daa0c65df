import { optionsObject } from '@seg/tensor';
/**
 * The network term of ADM (Marin et al., CVPR 2019, §2 of methods.md): the
 * cross-entropy between the network's softmax and the latent segmentation
 * (proposals) of the Y-step, hard (labels) or soft (distributions).
 */
import * as tf from '@tensorflow/tfjs-core';
import { reduceLoss } from '../reduce.js';
import {
  checkReduction,
  checkScores,
  checkShape,
  type ReductionOptions,
  readFinite,
  readLabels,
  readProbs,
} from '../validate.js';
import { readMask, weightedCrossEntropy } from './weighted.js';

/** Options of {@link proposalCrossEntropy} and {@link proposalKlDivergence}. */
export interface ProposalLossOptions extends ReductionOptions {
  /**
   * `[N,H,W]` non-negative pixel weights (float32, int32 or bool), e.g. 0 on
   * pixels the proposal should not constrain. Default: every pixel weighs 1.
   */
  mask?: tf.Tensor;
}

/**
 * Cross-entropy to hard proposals, per example
 * `−Σ_p m_p log softmax(logits_p)[Y_p] / Σ_p m_p` over the pixels with
 * `Y_p ≥ 0` (a proposal may leave pixels out with -1). An example whose
 * total weight is 0 gives 0 and is left out of the `'mean'` reduction.
 *
 * @param logits `[N,H,W,K]` float32 scores.
 * @param proposals `[N,H,W]` int32 labels in `[0, K-1]` (or -1: ignored).
 * @returns `[N]`, or a scalar with `reduction: 'mean' | 'sum'`.
 *
 * @example
 * // θ-step of ADM: pCE + μ·CE(S, Y)
 * const loss = tf.add(partialCrossEntropy(z, seeds, { reduction: 'mean' }),
 *   tf.mul(1.5, proposalCrossEntropy(z, proposals, { reduction: 'mean' })));
 */
export function proposalCrossEntropy(
  logits: tf.Tensor,
  proposals: tf.Tensor,
  options: ProposalLossOptions = {},
): tf.Tensor {
  const fn = 'proposalCrossEntropy';
  options = optionsObject(fn, options);
  const reduction = checkReduction(fn, options.reduction);
  const dims = checkScores(fn, 'logits', logits);
  checkShape(fn, 'proposals', proposals, [dims.n, dims.h, dims.w], ['int32']);
  const labels = readLabels(fn, 'proposals', proposals, dims.k);
  const mask = readMask(fn, options.mask, dims);
  const z = readFinite(fn, 'logits', logits);
  return weightedCrossEntropy(logits, z, dims, labels, mask, reduction);
}

/**
 * KL divergence from soft proposals `T` to the network's softmax `S`, per
 * example `Σ_p m_p Σ_k T_p[k] (log T_p[k] − log S_p[k]) / Σ_p m_p` (with
 * `0·log 0 = 0`). Its gradient in the logits is `m_p (S_p − T_p) / Σ m`, the
 * same as the cross-entropy to `T`, which differs from it by the constant
 * entropy of `T`. An example whose total weight is 0 gives 0 and is left out
 * of the `'mean'` reduction.
 *
 * @param logits `[N,H,W,K]` float32 scores.
 * @param targets `[N,H,W,K]` float32 probabilities (each pixel on the simplex).
 * @returns `[N]`, or a scalar with `reduction: 'mean' | 'sum'`.
 *
 * @example
 * const loss = proposalKlDivergence(logits, softProposals, { reduction: 'mean' });
 */
export function proposalKlDivergence(
  logits: tf.Tensor,
  targets: tf.Tensor,
  options: ProposalLossOptions = {},
): tf.Tensor {
  const fn = 'proposalKlDivergence';
  options = optionsObject(fn, options);
  const reduction = checkReduction(fn, options.reduction);
  const dims = checkScores(fn, 'logits', logits);
  checkShape(fn, 'targets', targets, [dims.n, dims.h, dims.w, dims.k], ['float32']);
  const t = readProbs(fn, 'targets', targets, dims);
  const mask = readMask(fn, options.mask, dims);
  readFinite(fn, 'logits', logits);
  const { n, h, w, k } = dims;
  const hw = h * w;
  // weights[p*K + k] = m_p T_p[k] / M_n; the entropy part Σ m T log T / M_n is a constant.
  const weights = new Float32Array(n * hw * k);
  const negEntropy = new Float32Array(n);
  let present = 0;
  for (let b = 0; b < n; b++) {
    let total = 0;
    for (let p = b * hw; p < (b + 1) * hw; p++) total += mask ? mask[p]! : 1;
    if (total <= 0) continue;
    present++;
    let ent = 0;
    for (let p = b * hw; p < (b + 1) * hw; p++) {
      const m = (mask ? mask[p]! : 1) / total;
      if (m === 0) continue;
      for (let c = 0; c < k; c++) {
        const v = t[p * k + c]!;
        weights[p * k + c] = m * v;
        if (v > 0) ent += m * v * Math.log(v);
      }
    }
    negEntropy[b] = ent;
  }
  return tf.tidy(() => {
    const cross = tf.neg(
      tf.sum(tf.mul(tf.tensor4d(weights, [n, h, w, k]), tf.logSoftmax(logits)), [1, 2, 3]),
    );
    const perExample = tf.add(cross, tf.tensor1d(negEntropy)) as tf.Tensor1D;
    return reduceLoss(perExample, reduction, present);
  });
}
