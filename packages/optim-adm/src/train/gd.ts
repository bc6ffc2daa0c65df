/**
 * The baseline of Marin et al.: plain gradient descent on the regularized
 * loss `pCE + (λ/N)·R(S)` with R a relaxed grid CRF (Potts) or the dense CRF
 * (Tang et al. 2018), same networks and step budget as ADM.
 */
import {
  type DenseLossOptions,
  denseCrfLoss,
  type GridRelaxation,
  gridCrfLoss,
  partialCrossEntropy,
  pottsEnergy,
} from '@seg/losses';
import { assertNumber, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import type { SegNet } from '../net/network.js';
import {
  argmax,
  type CheckpointOptions,
  checkTrainer,
  type PreparedExample,
  partialCE,
  predictProbs,
  type Timings,
  type TrainerBaseOptions,
  type TrainerCheckpoint,
  type TrainingExample,
  withTrainerRun,
} from './common.js';

/** What gradient descent reports after every iteration (means over the examples). */
export interface GdIterationInfo {
  trainer: 'gd';
  iteration: number;
  iterations: number;
  steps: number;
  /** Partial cross-entropy on the seeds. */
  partialCE: number;
  /** `λ/N` times the relaxed regularizer of the last step (before it). */
  regularizer: number;
  /** The loss minimised, `partialCE + regularizer`, at the last step. */
  loss: number;
  /** `R(argmax S)`: discrete Potts energy of the network's labels. */
  potts: number;
  /** `pCE + (λ_grid/N)·R(argmax S)`, λ_grid = `options.lossLambda` (default `lambda`). */
  regularizedLoss: number;
  timings: Timings;
  elapsedMs: number;
}

/** Options of {@link trainGradientDescent}. */
export interface GdOptions extends TrainerBaseOptions {
  /** Weight of the relaxed regularizer, per pixel. 0 = partial CE alone. @default 5 */
  lambda?: number;
  /** @default 'grid' */
  regularizer?: 'grid' | 'dense';
  /** Relaxation of the grid CRF. @default 'bilinear' */
  relaxation?: GridRelaxation;
  /** Options of the dense CRF loss (σ_rgb, σ_xy, scale, method). */
  dense?: Omit<DenseLossOptions, 'reduction'>;
  /** λ of the reported regularized loss (grid Potts), so that runs compare on one scale. @default lambda */
  lossLambda?: number;
  /** Called after every iteration; return `false` to stop. */
  onIteration?: (info: GdIterationInfo) => void | boolean | Promise<void | boolean>;
  checkpoint?: CheckpointOptions<GdIterationInfo>;
  resume?: TrainerCheckpoint<GdIterationInfo>;
}

/** What {@link trainGradientDescent} returns. */
export interface GdResult {
  history: GdIterationInfo[];
  probs: Float32Array[];
  stoppedEarly: boolean;
  steps: number;
}

/**
 * Trains `net` by gradient descent on `pCE + (λ/N)·R(S)` (R the relaxed grid
 * CRF or the dense CRF loss of @seg/losses), in place.
 *
 * @example
 * const { history } = await trainGradientDescent(net, { image, seeds }, { lambda: 5, regularizer: 'grid' });
 */
export async function trainGradientDescent(
  net: SegNet,
  examples: TrainingExample | TrainingExample[],
  options: GdOptions = {},
): Promise<GdResult> {
  const fn = 'trainGradientDescent';
  const { options: o, base } = checkTrainer(fn, net, options, 5);
  const { lambda, connectivity, iterations, steps: perIt } = base;
  const kind = o.regularizer ?? 'grid';
  if (kind !== 'grid' && kind !== 'dense') {
    throw new SegValueError(
      `${fn}: options.regularizer is ${JSON.stringify(kind)}, expected 'grid' or 'dense'`,
    );
  }
  const relaxation = o.relaxation ?? 'bilinear';
  const lossLambda = o.lossLambda ?? lambda;
  assertNumber(fn, 'options.lossLambda', lossLambda, 0);
  const K = net.numClasses;
  /** `R(S)` of one example, relaxed: the grid CRF or the dense CRF loss. */
  const relaxedR = (S: tf.Tensor4D, p: PreparedExample) =>
    kind === 'grid'
      ? gridCrfLoss(S, p.imageTensor, { connectivity, relaxation, reduction: 'sum' })
      : denseCrfLoss(S, p.imageTensor, { ...o.dense, reduction: 'sum' });
  return withTrainerRun(fn, net, examples, o, base, async (run) => {
    const { list } = run;
    let probs: Float32Array[] = [];
    const iteration = async (it: number) => {
      const t1 = performance.now();
      // each batch's regularizer and loss at its last step, weighted by its size
      const last = { reg: 0, loss: 0 };
      for (const batch of base.batches(list.length)) {
        const sub = batch.map((i) => list[i]!);
        for (let s = 0; s < perIt; s++) {
          const keep = s === perIt - 1;
          let regSum: tf.Tensor | null = null;
          let regT: tf.Tensor | null = null;
          // pCE + (λ/N)·R(S) on each example
          const lossT = run.step(
            sub,
            (z, p, j, withMargin) => {
              if (j === 0) regSum = tf.scalar(0);
              const pce = withMargin(partialCrossEntropy(z, p.seedTensor, { reduction: 'mean' }));
              if (lambda === 0) return pce;
              const rw = tf.mul(lambda / p.numPixels, relaxedR(tf.softmax(z), p));
              regSum = tf.add(regSum!, rw);
              return tf.add(pce, rw);
            },
            keep,
            () => {
              if (keep) regT = tf.keep(tf.div(regSum!, sub.length));
            },
          );
          if (keep) {
            const share = sub.length / list.length;
            last.reg += share * ((regT as tf.Tensor | null)?.dataSync()[0] ?? 0);
            last.loss += share * lossT!.dataSync()[0]!;
            tf.dispose([regT as tf.Tensor | null, lossT].filter((t): t is tf.Tensor => t !== null));
          }
        }
      }
      const t2 = performance.now();
      probs = predictProbs(net, list);
      let pce = 0;
      let potts = 0;
      let rl = 0;
      list.forEach((p, i) => {
        const c = partialCE(probs[i]!, p.seeds.data, K);
        const r = pottsEnergy(
          { width: p.image.width, height: p.image.height, data: argmax(probs[i]!, K) },
          p.weights,
        );
        pce += c;
        potts += r;
        rl += c + (lossLambda * r) / p.numPixels;
      });
      const n = list.length;
      const t3 = performance.now();
      const info: GdIterationInfo = {
        trainer: 'gd',
        iteration: it,
        iterations,
        steps: run.counter.steps,
        partialCE: pce / n,
        regularizer: last.reg,
        loss: last.loss,
        potts: potts / n,
        regularizedLoss: rl / n,
        timings: { yStepMs: 0, thetaMs: t2 - t1, evalMs: t3 - t2, totalMs: t3 - t1 },
        elapsedMs: t3 - run.start,
      };
      return { info, monitor: info.loss };
    };
    const { history, stoppedEarly } = await run.loop('gd', o, { iteration });
    if (probs.length === 0) probs = predictProbs(net, list);
    return { history, probs, stoppedEarly, steps: run.counter.steps };
  });
}
