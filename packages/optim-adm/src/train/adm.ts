/**
 * ADM for regularized losses (Marin, Tang, Ben Ayed, Boykov, CVPR 2019):
 * minimise `pCE(S_θ) + (λ/N)·R(Y) + μ·mean_p CE(Y_p, S_θ,p)` by alternating
 * a discrete Y-step (a Potts energy, solved exactly for K = 2) and θ-steps
 * of gradient descent on `pCE + μ·CE(S_θ, Y)`.
 */
import { partialCrossEntropy, pottsEnergy, proposalCrossEntropy } from '@seg/losses';
import { assertInt, assertIntRange, assertNumber, labelMap, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { colorCosts } from '../graphcut/interactive.js';
import type { SegNet } from '../net/network.js';
import { downscaleSeeds, upscaleProbs } from '../net/resample.js';
import { keepSeedConnected } from '../proposals/connectivity.js';
import {
  buildProposalProblem,
  energyWithSeeds,
  fullSizeWeight,
  inlineSolver,
  MIN_PROB,
  type ProposalSolver,
} from '../proposals/y-step.js';
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
  type TrainerRun,
  type TrainingExample,
  withTrainerRun,
} from './common.js';

/** What ADM reports after every iteration (means over the examples). */
export interface AdmIterationInfo {
  trainer: 'adm';
  /** 0-based iteration just finished. */
  iteration: number;
  iterations: number;
  /** θ-steps taken so far. */
  steps: number;
  /** Partial cross-entropy on the seeds, after the θ-steps. */
  partialCE: number;
  /** `mean_p CE(Y_p, S_p)` to the current proposals, after the θ-steps. */
  proposalCE: number;
  /** `R(Y)`: contrast-sensitive Potts energy of the proposals (not divided by N). */
  proposalPotts: number;
  /** The Y-step energy of the proposals: `Σ_p −log S_p[Y_p] + (λ/μ)·R(Y)` under the S it was solved for. */
  energy: number;
  /** ADM objective `pCE + (λ/N)·R(Y) + μ·CE(Y, S)` right after the Y-step (θ not yet moved). */
  objectiveAfterYStep: number;
  /** ADM objective after the θ-steps. */
  objective: number;
  /** `R(argmax S)` of the network. */
  potts: number;
  /** The regularized loss of the network: `pCE + (λ/N)·R(argmax S)`. */
  regularizedLoss: number;
  /** Fraction of pixels whose proposal label changed at this Y-step. */
  proposalChange: number;
  timings: Timings;
  /** Since the start of this call, ms. */
  elapsedMs: number;
}

/** Options of {@link trainAdm}. */
export interface AdmOptions extends TrainerBaseOptions {
  /** Weight of the per-pixel Potts term. @default 5 */
  lambda?: number;
  /** Weight of the proposal cross-entropy. @default 1 */
  mu?: number;
  /** Seeds in the Y-step: hard constraints or a penalty. @default 'hard' */
  seeds?: 'hard' | 'soft';
  /** Penalty per soft seed on another label. @default 100 */
  seedPenalty?: number;
  /** Gradient steps on partial CE alone before the first Y-step (the paper starts from a pCE model). @default 10 */
  pretrainSteps?: number;
  /**
   * Unary of the first Y-step: `'network'`, −log S of the network after the
   * pCE pre-training (the paper's start); `'color'`, the classic
   * scribble colour-histogram model −log P(colour | label) (K = 2 only),
   * i.e. ADM started from the interactive graph cut; `'both'`, their sum
   * −log S − log P(colour | label) (K = 2 only).
   * @default 'network'
   */
  /** (`'colour'`: the deprecated spelling of `'color'`, accepted for one release.) */
  init?: 'network' | 'color' | 'both' | 'colour';
  /**
   * Potts weight per pixel of the Y-step on examples with a `full`
   * resolution, in place of λ there.
   * @default `fullSizeWeight(λ, full.width, image.width)` = λ · full.width / image.width, the training grid's balance
   */
  fullLambda?: number;
  /**
   * Labels whose proposal regions must hold one of their seeds: after each
   * Y-step, every 8-connected region of such a label without a seed of it
   * takes its neighbours' label ({@link keepSeedConnected}). E.g. `[1]` in
   * interactive segmentation: no object islands away from the object's
   * scribbles. The reported Y-step energy is that of the kept proposals.
   * @default [] (the plain Potts proposals)
   */
  seedConnected?: readonly number[];
  /** Solves the Y-step problems (one per example); e.g. `createSolverPool({ size: 2 })`. @default in this thread */
  solver?: ProposalSolver;
  /** Called after every iteration; return `false` to stop. */
  onIteration?: (info: AdmIterationInfo) => void | boolean | Promise<void | boolean>;
  checkpoint?: CheckpointOptions<AdmIterationInfo>;
  /** Continue from a checkpoint of this trainer. */
  resume?: TrainerCheckpoint<AdmIterationInfo>;
}

/** What {@link trainAdm} returns. */
export interface AdmResult {
  history: AdmIterationInfo[];
  /** The last proposals, one per example, on the training grid. */
  proposals: Int32Array[];
  /** The last proposals at the `full` resolution, for the examples that have one. */
  fullProposals: (Int32Array | undefined)[];
  /** The network's probabilities at the end, h·w·K per example. */
  probs: Float32Array[];
  stoppedEarly: boolean;
  steps: number;
}

/**
 * Trains `net` by ADM on one or more images with scribbles (at the
 * resolution the network sees). The network is modified in place.
 *
 * @example
 * const net = createPixelNet({ seed: 1 });
 * const { history, probs } = await trainAdm(net, { image, seeds }, {
 *   lambda: 5, mu: 1, iterations: 20, stepsPerIteration: 5,
 *   onIteration: (i) => console.log(i.iteration, i.objective, i.timings.yStepMs),
 * });
 */
export async function trainAdm(
  net: SegNet,
  examples: TrainingExample | TrainingExample[],
  options: AdmOptions = {},
): Promise<AdmResult> {
  const fn = 'trainAdm';
  const { options: o, base } = checkTrainer(fn, net, options, 5);
  const K = net.numClasses;
  const adm = admSettings(fn, o, base.lambda, K);
  return withTrainerRun(fn, net, examples, o, base, async (run) => {
    const { list } = run;
    const solver = o.solver ?? inlineSolver();
    let proposals: Int32Array[] = list.map((p) => new Int32Array(p.numPixels).fill(-1));
    const fullProposals: (Int32Array | undefined)[] = list.map(() => undefined);
    let probs: Float32Array[] = [];
    const iteration = async (it: number) => {
      const t0 = performance.now();
      // the first Y-step may take the classic colour model as its unary
      const colour = adm.init !== 'network' && it === 0 && !o.resume ? adm.init : null;
      const probsAtY = probs.slice();
      const energies = new Array<number>(list.length).fill(0);
      let changed = 0;
      let total = 0;
      let yMs = 0;
      let thetaMs = 0;
      let fresh = true;
      for (const batch of base.batches(list.length)) {
        const ty = performance.now();
        // the probabilities of this batch under the current θ
        if (!fresh) {
          const now = predictProbs(
            net,
            batch.map((i) => list[i]!),
          );
          batch.forEach((i, j) => {
            probsAtY[i] = now[j]!;
          });
        }
        // Y-step
        const problems = batch.map((i) => yProblem(list[i]!, probsAtY[i]!, colour, K, adm));
        const solved = await solver.solve(problems);
        batch.forEach((i, j) => {
          const p = list[i]!;
          const y = keepConnected(p, solved[j]!, adm.seedConnected);
          energies[i] = energyWithSeeds(problems[j]!, y);
          fullProposals[i] = p.full ? y : undefined;
          const next = onTrainingGrid(p, y, K);
          const old = proposals[i]!;
          for (let q = 0; q < next.length; q++) if (next[q] !== old[q]) changed++;
          total += next.length;
          proposals[i] = next;
        });
        const t1 = performance.now();
        yMs += t1 - ty;
        // θ-steps on this batch
        thetaSteps(
          run,
          batch.map((i) => list[i]!),
          batch.map((i) => proposals[i]!),
          base.steps,
          adm.mu,
        );
        thetaMs += performance.now() - t1;
        fresh = false;
      }
      const energy = mean(energies);
      // each example's Y-step against the probabilities it was solved for
      const before = objectiveTerms(list, probsAtY, proposals, K, base.lambda, adm.mu);
      const t2 = performance.now();
      probs = predictProbs(net, list);
      const after = objectiveTerms(list, probs, proposals, K, base.lambda, adm.mu);
      const t3 = performance.now();
      const info: AdmIterationInfo = {
        trainer: 'adm',
        iteration: it,
        iterations: base.iterations,
        steps: run.counter.steps,
        partialCE: after.partialCE,
        proposalCE: after.proposalCE,
        proposalPotts: after.proposalPotts,
        energy,
        objectiveAfterYStep: before.objective,
        objective: after.objective,
        potts: after.potts,
        regularizedLoss: after.regularizedLoss,
        proposalChange: changed / total,
        timings: { yStepMs: yMs, thetaMs, evalMs: t3 - t2, totalMs: t3 - t0 },
        elapsedMs: t3 - run.start,
      };
      return { info, monitor: info.objective };
    };
    const { history, stoppedEarly } = await run.loop('adm', o, {
      start: () => {
        // the paper starts from a model trained on partial cross-entropy
        for (let s = 0; s < adm.pretrain; s++) {
          run.step(list, (z, p, _j, withMargin) =>
            withMargin(partialCrossEntropy(z, p.seedTensor, { reduction: 'mean' })),
          );
        }
        probs = predictProbs(net, list);
      },
      resumed: (cp) => {
        if (cp.proposals) proposals = cp.proposals.map((p) => Int32Array.from(p));
        probs = predictProbs(net, list);
      },
      iteration,
      checkpointExtra: () => ({ proposals: proposals.map((p) => Int32Array.from(p)) }),
    });
    return { history, proposals, fullProposals, probs, stoppedEarly, steps: run.counter.steps };
  });
}

/** ADM's own options, checked (the common ones are in `baseOptions`). */
interface AdmSettings {
  lambda: number;
  mu: number;
  seeds: 'hard' | 'soft';
  seedPenalty: number;
  fullLambda: number | undefined;
  pretrain: number;
  init: 'network' | 'color' | 'both';
  seedConnected: readonly number[];
}

/** Reads and checks ADM's own options (after the common ones). */
function admSettings(fn: string, options: AdmOptions, lambda: number, K: number): AdmSettings {
  const mu = options.mu ?? 1;
  assertNumber(fn, 'options.mu', mu, 0);
  if (!(mu > 0)) throw new SegValueError(`${fn}: options.mu is 0, expected a positive number`);
  const seeds = options.seeds ?? 'hard';
  if (seeds !== 'hard' && seeds !== 'soft') {
    throw new SegValueError(
      `${fn}: options.seeds is ${JSON.stringify(seeds)}, expected 'hard' or 'soft'`,
    );
  }
  const seedPenalty = options.seedPenalty ?? 100;
  assertNumber(fn, 'options.seedPenalty', seedPenalty, 0);
  if (options.fullLambda !== undefined)
    assertNumber(fn, 'options.fullLambda', options.fullLambda, 0);
  const pretrain = options.pretrainSteps ?? 10;
  assertInt(fn, 'options.pretrainSteps', pretrain, 0);
  const init = options.init === 'colour' ? 'color' : (options.init ?? 'network');
  if (init !== 'network' && init !== 'color' && init !== 'both') {
    throw new SegValueError(
      `${fn}: options.init is ${JSON.stringify(init)}, expected 'network', 'color' or 'both'`,
    );
  }
  if (init !== 'network' && K !== 2) {
    throw new SegValueError(
      `${fn}: options.init is '${init}', which needs 2 classes; the network has ${K}`,
    );
  }
  const seedConnected = options.seedConnected ?? [];
  if (!Array.isArray(seedConnected)) {
    throw new SegValueError(
      `${fn}: options.seedConnected is ${typeof seedConnected}, expected an array of labels`,
    );
  }
  assertIntRange(fn, 'options.seedConnected', seedConnected, 0, K - 1);
  const solver = options.solver as Partial<ProposalSolver> | undefined;
  if (solver !== undefined && typeof solver?.solve !== 'function') {
    throw new SegValueError(
      `${fn}: options.solver has no solve(problems), expected a ProposalSolver (inlineSolver or poolSolver)`,
    );
  }
  return {
    lambda,
    mu,
    seeds,
    seedPenalty,
    fullLambda: options.fullLambda,
    pretrain,
    init,
    seedConnected,
  };
}

/**
 * The Y-step problem of one example under its probabilities `S0` (on the
 * training grid): at the `full` resolution when it has one (S upsampled),
 * with the unary −log S, or the colour model in its place (`'color'`) or
 * added (`'both'`).
 */
function yProblem(
  p: PreparedExample,
  S0: Float32Array,
  colour: 'color' | 'both' | null,
  K: number,
  adm: AdmSettings,
) {
  const at = p.full ?? p;
  const { width: W, height: H } = at.image;
  const S =
    p.full === undefined
      ? S0
      : upscaleProbs({ width: p.image.width, height: p.image.height, numLabels: K, data: S0 }, W, H)
          .data;
  const weight =
    p.full === undefined
      ? adm.lambda
      : (adm.fullLambda ?? fullSizeWeight(adm.lambda, W, p.image.width));
  const pr = buildProposalProblem(
    {
      probs: S,
      width: W,
      height: H,
      numLabels: K,
      weights: at.weights.edges,
      seeds: at.seeds.data,
    },
    { pottsWeight: weight / adm.mu, seeds: adm.seeds, seedPenalty: adm.seedPenalty },
  );
  if (colour) {
    const u = colorCosts(at.image, at.seeds);
    // swap −log S for the colour cost ('color') or add it ('both'), keeping any soft-seed penalty
    const dropNetwork = colour === 'color' ? 1 : 0;
    for (let q = 0; q < u.length; q++) {
      pr.unary[q] = pr.unary[q]! + dropNetwork * Math.log(Math.max(S[q]!, MIN_PROB)) + u[q]!;
    }
  }
  return pr;
}

/** A solved proposal with `seedConnected`'s regions kept (on the Y-step's grid). */
function keepConnected(
  p: PreparedExample,
  y: Int32Array,
  seedConnected: readonly number[],
): Int32Array {
  if (seedConnected.length === 0) return y;
  const at = p.full ?? p;
  return keepSeedConnected(y, at.image.width, at.image.height, at.seeds.data, seedConnected);
}

/** A proposal of the Y-step's grid on the training grid (by majority from the `full` one). */
function onTrainingGrid(p: PreparedExample, y: Int32Array, K: number): Int32Array {
  if (!p.full) return y;
  return downscaleSeeds(
    labelMap(p.full.image.width, p.full.image.height, y),
    p.image.width,
    p.image.height,
    K,
  ).data;
}

/** The θ-steps: gradient steps on `pCE + μ·CE(S_θ, Y)` over a batch and its proposals. */
function thetaSteps(
  run: TrainerRun,
  batch: PreparedExample[],
  proposals: Int32Array[],
  steps: number,
  mu: number,
): void {
  const yTensors = batch.map((p, j) =>
    tf.tensor3d(proposals[j]!, [1, p.image.height, p.image.width], 'int32'),
  );
  try {
    for (let s = 0; s < steps; s++) {
      run.step(batch, (z, p, j, withMargin) =>
        withMargin(
          tf.add(
            partialCrossEntropy(z, p.seedTensor, { reduction: 'mean' }),
            tf.mul(mu, proposalCrossEntropy(z, yTensors[j]!, { reduction: 'mean' })),
          ),
        ),
      );
    }
  } finally {
    tf.dispose(yTensors);
  }
}

function mean(v: number[]): number {
  return v.reduce((a, b) => a + b, 0) / v.length;
}

/** The ADM objective's terms, means over the examples. */
export function objectiveTerms(
  list: PreparedExample[],
  probs: Float32Array[],
  proposals: Int32Array[],
  K: number,
  lambda: number,
  mu: number,
) {
  const acc = {
    partialCE: 0,
    proposalCE: 0,
    proposalPotts: 0,
    potts: 0,
    objective: 0,
    regularizedLoss: 0,
  };
  list.forEach((p, i) => {
    const S = probs[i]!;
    const Y = proposals[i]!;
    const N = p.numPixels;
    const pce = partialCE(S, p.seeds.data, K);
    let ce = 0;
    for (let q = 0; q < N; q++) ce -= Math.log(Math.max(S[q * K + Y[q]!]!, MIN_PROB));
    ce /= N;
    const { width, height } = p.image;
    const rY = pottsEnergy({ width, height, data: Y }, p.weights);
    const rS = pottsEnergy({ width, height, data: argmax(S, K) }, p.weights);
    acc.partialCE += pce;
    acc.proposalCE += ce;
    acc.proposalPotts += rY;
    acc.potts += rS;
    acc.objective += pce + (lambda * rY) / N + mu * ce;
    acc.regularizedLoss += pce + (lambda * rS) / N;
  });
  const n = list.length;
  for (const k of Object.keys(acc) as (keyof typeof acc)[]) acc[k] /= n;
  return acc;
}
