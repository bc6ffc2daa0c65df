/**
 * One network trained on a data set of scribbled images (the setting of
 * Tang et al. 2018 and Marin et al. 2019): minibatches of random crops, and
 * per method the loss of each gradient step —
 * - `'pce'`: partial cross-entropy on the scribbles;
 * - `'gd-grid'`: pCE + (λ/N)·R(S), R the bilinear relaxation of the grid CRF;
 * - `'gd-dense'`: pCE + (λ/N)·R(S), R the dense CRF loss;
 * - `'adm'`: after `pretrainSteps` pCE steps, per batch a Y-step (the
 *   grid-CRF Potts energy under the current network, seeds hard) then one
 *   θ-step on pCE + μ·CE(S, Y) (the paper's schedule: proposals at every
 *   forward pass);
 * - `'full'`: cross-entropy to the full masks, the upper bound.
 */
import {
  type DenseLossOptions,
  denseCrfLoss,
  gridCrfLoss,
  gridWeights,
  partialCrossEntropy,
  proposalCrossEntropy,
} from '@seg/losses';
import {
  assertInt,
  assertNumber,
  labelMap,
  type RgbImage,
  Rng,
  SegValueError,
  segAdam,
} from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { colorCosts } from '../graphcut/interactive.js';
import { histogramCosts } from '../net/colour-histogram.js';
import { buildProposalProblem, inlineSolver, type ProposalSolver } from '../proposals/y-step.js';
import { checkOptions } from '../validate.js';
import {
  type Batch,
  checkExamples,
  cropLabels,
  type DatasetExample,
  resizeExample,
  sampleBatch,
} from './data.js';
import { datasetInput, type EncoderDecoder } from './network.js';

/** The training methods of {@link trainOnDataset}. */
export type DatasetMethod = 'pce' | 'gd-grid' | 'gd-dense' | 'adm' | 'full';

/** The methods, in the order the experiment reports them. */
export const DATASET_METHODS: readonly DatasetMethod[] = [
  'pce',
  'gd-grid',
  'gd-dense',
  'adm',
  'full',
];

/** What {@link trainOnDataset} reports after each logged step. */
export interface DatasetStepInfo {
  method: DatasetMethod;
  /** Gradient steps done. */
  step: number;
  /** The loss of this step's batch (before the step). */
  loss: number;
  /** Its partial cross-entropy term (the full CE for `'full'`). */
  partialCE: number;
  /** Whether this step was a pCE pre-training step. */
  pretraining: boolean;
  /** Since the start of this call, ms (Y-steps included). */
  elapsedMs: number;
  /** Y-step time of this step, ms (ADM). */
  yStepMs: number;
}

/** A saved training state (plain data, structured-clone safe). */
export interface DatasetCheckpoint {
  method: DatasetMethod;
  /** Gradient steps done. */
  step: number;
  params: Record<string, { shape: number[]; data: Float32Array }>;
  optimizer: { name: string; shape: number[]; data: Float32Array }[];
  /** The logged steps so far. */
  history: DatasetStepInfo[];
}

/**
 * Early stopping of {@link trainOnDataset} on a score of the network, higher
 * is better (for example the mean IoU of `evaluateOnDataset` on validation
 * images). Scores are taken after the pre-training steps only.
 */
export interface DatasetEarlyStopping {
  /** Score every `every` gradient steps (counted from the start of training). */
  every: number;
  /** The network's score now (higher is better); may be async. */
  score: () => number | Promise<number>;
  /** Scores in a row without an improvement larger than `minDelta` before stopping. @default 3 */
  patience?: number;
  /** @default 1e-4 */
  minDelta?: number;
  /** When training ends (stopped or not), put back the parameters of the best score. @default true */
  restoreBest?: boolean;
}

/** Options of {@link trainOnDataset}. */
export interface DatasetTrainOptions {
  method: DatasetMethod;
  /** Gradient steps in all, pre-training included. @default 1000 */
  steps?: number;
  /** First steps on pCE alone (`'gd-grid'`, `'gd-dense'`, `'adm'`). @default 0 for GD, steps/2 for ADM */
  pretrainSteps?: number;
  /** Crops per batch. @default 8 */
  batchSize?: number;
  /** Crop `[height, width]`, multiples of 8. @default [64, 64] */
  crop?: [number, number];
  /** Scale: the shorter image side in network pixels (see `networkSize`). @default 80 */
  shortSide?: number;
  /** Scale jitter factor (see `sampleBatch`). @default 1.25 */
  jitter?: number;
  /** Random horizontal flips. @default true */
  flip?: boolean;
  /** Adam's learning rate. @default 1e-3 */
  learningRate?: number;
  /** Weight of the regularizer per pixel (grid CRF: Potts weight; dense: the dense loss's). @default 5 */
  lambda?: number;
  /** ADM: weight of CE(S, Y). @default 1 */
  mu?: number;
  /** Grid neighbourhood (GD grid and the Y-step). @default 8 */
  connectivity?: 4 | 8;
  /** Options of the dense CRF loss (`'gd-dense'`). @default the loss's defaults */
  dense?: Omit<DenseLossOptions, 'reduction'>;
  /** ADM: who solves the Y-steps (e.g. `poolSolver(await createSolverPool({ size: 2 }))`). @default this thread */
  solver?: ProposalSolver;
  /**
   * ADM: where the Y-step is solved. `'crop'`: on each training crop, with
   * the crop's scribbles; `'image'`: on each crop's whole image at the
   * network's scale (`shortSide`, no jitter, no flip), with all its
   * scribbles and the context beyond the crop, its proposal then taken into
   * the crop as the truth is ({@link cropLabels}; the crop's own scribbles
   * kept). On the horses at 1200 steps, three seeds, `'image'` gave the
   * better test IoU (package README, "ADM's Y-step on whole images").
   * @default 'image'
   */
  proposals?: 'crop' | 'image';
  /**
   * ADM with `proposals: 'image'`: weight of a colour model in the Y-step,
   * which then minimises `μ·CE(Y, S) + γ·Σ_p C_p(Y_p) + λ·R(Y)`, C the
   * image's own scribble colour costs (`colorCosts`, 16³-bin histograms at
   * the network's scale), as the classic interactive cut's unary. 0: the
   * paper's Y-step. @default 0
   */
  colorWeight?: number;
  /**
   * ADM with `colorWeight > 0`: where the colour model's histograms come
   * from. `'scribbles'`: the image's scribbled pixels, fixed; `'proposals'`:
   * after an image's first Y-step, all its pixels as labelled by its last
   * proposal (the scribbles in it hard), re-estimated at each of its Y-steps,
   * as GrabCut re-estimates its colour models from its last segmentation
   * (Rother et al., SIGGRAPH 2004). Not checkpointed: a resumed run starts
   * again from the scribbles. @default 'scribbles'
   */
  colorModel?: 'scribbles' | 'proposals';
  /** Seed of the crops, scales and flips (step t uses a generator seeded by (seed, t), so a resumed run samples alike). @default 0 */
  seed?: number;
  /** Report (and keep in the history) every `logEvery` steps. @default 10 */
  logEvery?: number;
  /** Called with each logged step; return `false` to stop. */
  onStep?: (info: DatasetStepInfo) => void | boolean | Promise<void | boolean>;
  /**
   * Stop when a score of the network stops improving (see
   * {@link DatasetEarlyStopping}); a resumed run starts its count afresh.
   * @default none
   */
  earlyStopping?: DatasetEarlyStopping;
  /** Save every `every` steps (and at the end). */
  checkpoint?: {
    every: number;
    /** Receives the checkpoint; may be async (the run waits for it). */
    save(cp: DatasetCheckpoint): void | Promise<void>;
  };
  /**
   * Continue from a checkpoint of the same method, or, for `'gd-grid'`,
   * `'gd-dense'` and `'adm'`, from a `'pce'` checkpoint taken within their
   * `pretrainSteps` (same other options): their pre-training is exactly
   * those steps, so one pCE run can start them all.
   */
  resume?: DatasetCheckpoint;
}

/** What {@link trainOnDataset} returns. */
export interface DatasetTrainResult {
  history: DatasetStepInfo[];
  steps: number;
  /** Wall time of this call, ms. */
  elapsedMs: number;
  /** Total Y-step time of this call, ms (ADM). */
  yStepMs: number;
  /** With `earlyStopping`: every score taken, and the best (whose parameters the network holds when `restoreBest`). */
  scores?: { step: number; score: number }[];
  best?: { step: number; score: number };
}

/**
 * Trains `net` in place on the scribbled `examples` by `options.method`.
 *
 * @example
 * const net = createEncoderDecoder({ seed: 1 });
 * await trainOnDataset(net, train, { method: 'adm', steps: 800, lambda: 5 });
 * const { iou } = evaluateOnDataset(net, test, { shortSide: 80 });
 */
export async function trainOnDataset(
  net: EncoderDecoder,
  examples: readonly DatasetExample[],
  options: DatasetTrainOptions,
): Promise<DatasetTrainResult> {
  const fn = 'trainOnDataset';
  const o = checkOptions(fn, options);
  const s = settings(fn, o);
  checkExamples(fn, examples, s.method !== 'full');
  if (s.method === 'full' && examples.some((e) => e.mask === null)) {
    throw new SegValueError(`${fn}: method 'full' needs every example's mask`);
  }
  const K = net.numClasses;
  const vars = net.variables();
  const optimizer = segAdam(s.lr);
  // crops are drawn afresh: no crop's Y-step problem comes twice, no graph is
  // worth keeping; whole images come back, each with its own graph
  const solver = o.solver ?? inlineSolver(s.proposals === 'image' ? {} : { keepBytes: 0 });
  const wholes = new Map<number, WholeImage>();
  const history: DatasetStepInfo[] = [];
  let first = 0;
  if (o.resume) {
    // the pCE pre-training of GD and ADM is a 'pce' run's first steps, alike
    const fromPretraining =
      o.resume.method === 'pce' && s.method !== 'full' && o.resume.step <= s.pretrain;
    if (o.resume.method !== s.method && !fromPretraining) {
      throw new SegValueError(
        `${fn}: options.resume is a '${o.resume.method}' checkpoint at step ${o.resume.step}, expected '${s.method}' (or 'pce' within the ${s.pretrain} pre-training steps)`,
      );
    }
    await restore(fn, net, optimizer, o.resume);
    first = o.resume.step;
    history.push(...o.resume.history);
  }
  const t0 = performance.now();
  let yTotal = 0;
  const early = s.earlyStopping ? new EarlyStop(fn, s.earlyStopping, net) : null;
  const result = (steps: number): DatasetTrainResult => ({
    history,
    steps,
    elapsedMs: performance.now() - t0,
    yStepMs: yTotal,
    ...(early ? early.finish(fn, net) : {}),
  });
  try {
    for (let step = first; step < s.steps; step++) {
      const rng = new Rng(s.seed * 100_003 + step);
      const indices = Array.from({ length: s.batchSize }, () => rng.int(examples.length));
      const batch = sampleBatch(examples, indices, rng, s.batchOptions);
      const pretraining = s.method !== 'pce' && s.method !== 'full' && step < s.pretrain;
      const ty = performance.now();
      const proposals =
        s.method === 'adm' && !pretraining
          ? s.proposals === 'image'
            ? await wholeImageYStep(net, examples, batch, indices, wholes, s, solver, K)
            : await yStep(net, batch, s, solver, K)
          : null;
      const yMs = performance.now() - ty;
      yTotal += yMs;
      const { loss, pce } = gradientStep(net, optimizer, vars, batch, s, pretraining, proposals);
      const done = step + 1;
      const log = done % s.logEvery === 0 || done === s.steps;
      let stop = false;
      if (log) {
        const info: DatasetStepInfo = {
          method: s.method,
          step: done,
          loss,
          partialCE: pce,
          pretraining,
          elapsedMs: performance.now() - t0,
          yStepMs: yMs,
        };
        history.push(info);
        stop = (await o.onStep?.(info)) === false;
      }
      if (early && !pretraining && done % early.every === 0) {
        stop = (await early.scoreAt(done)) || stop;
      }
      if (o.checkpoint && (done % o.checkpoint.every === 0 || done === s.steps || stop)) {
        await o.checkpoint.save({
          method: s.method,
          step: done,
          ...(await snapshot(net, optimizer)),
          history: history.slice(),
        });
      }
      if (stop) return result(done);
    }
  } finally {
    optimizer.dispose();
  }
  return result(Math.max(first, s.steps));
}

/** The state of {@link DatasetEarlyStopping} in one {@link trainOnDataset} call. */
class EarlyStop {
  readonly every: number;
  private readonly score: () => number | Promise<number>;
  private readonly patience: number;
  private readonly minDelta: number;
  private readonly restoreBest: boolean;
  private readonly scores: { step: number; score: number }[] = [];
  private best: { step: number; score: number } | null = null;
  private bestParams: DatasetCheckpoint['params'] | null = null;
  private bad = 0;

  constructor(
    private readonly fn: string,
    o: Required<Pick<DatasetEarlyStopping, 'every' | 'score'>> & DatasetEarlyStopping,
    private readonly net: EncoderDecoder,
  ) {
    this.every = o.every;
    this.score = o.score;
    this.patience = o.patience ?? 3;
    this.minDelta = o.minDelta ?? 1e-4;
    this.restoreBest = o.restoreBest ?? true;
  }

  /** Scores the network after `step` steps; true when it is time to stop. */
  async scoreAt(step: number): Promise<boolean> {
    const score = await this.score();
    if (typeof score !== 'number' || !Number.isFinite(score)) {
      throw new SegValueError(
        `${this.fn}: options.earlyStopping.score() returned ${String(score)}, expected a finite number`,
      );
    }
    this.scores.push({ step, score });
    if (this.best === null || score > this.best.score + this.minDelta) {
      this.best = { step, score };
      this.bad = 0;
      if (this.restoreBest) this.bestParams = paramsCopy(this.net);
      return false;
    }
    this.bad += 1;
    return this.bad >= this.patience;
  }

  /** The scores and the best, the network set back to the best's parameters (`restoreBest`). */
  finish(fn: string, net: EncoderDecoder): Pick<DatasetTrainResult, 'scores' | 'best'> {
    if (this.bestParams) restoreParams(fn, net, this.bestParams);
    return { scores: this.scores, ...(this.best ? { best: this.best } : {}) };
  }
}

/** A copy of the network's parameters as plain arrays. */
function paramsCopy(net: EncoderDecoder): DatasetCheckpoint['params'] {
  const params: DatasetCheckpoint['params'] = {};
  for (const [name, v] of Object.entries(net.params())) {
    params[name] = { shape: v.shape.slice(), data: Float32Array.from(v.dataSync()) };
  }
  return params;
}

/** The options of {@link trainOnDataset}, checked, with their defaults. */
function settings(fn: string, o: DatasetTrainOptions) {
  const method = o.method;
  if (!DATASET_METHODS.includes(method)) {
    throw new SegValueError(
      `${fn}: options.method is ${JSON.stringify(method)}, expected one of ${DATASET_METHODS.join(', ')}`,
    );
  }
  const steps = o.steps ?? 1000;
  assertInt(fn, 'options.steps', steps, 0);
  const pretrain = o.pretrainSteps ?? (method === 'adm' ? Math.floor(steps / 2) : 0);
  assertInt(fn, 'options.pretrainSteps', pretrain, 0);
  const batchSize = o.batchSize ?? 8;
  assertInt(fn, 'options.batchSize', batchSize, 1);
  const crop = o.crop ?? [64, 64];
  if (!Array.isArray(crop) || crop.length !== 2) {
    throw new SegValueError(
      `${fn}: options.crop is ${JSON.stringify(crop)}, expected [height, width]`,
    );
  }
  const shortSide = o.shortSide ?? 80;
  assertNumber(fn, 'options.shortSide', shortSide, 1);
  const lr = o.learningRate ?? 1e-3;
  assertNumber(fn, 'options.learningRate', lr, 0);
  const lambda = o.lambda ?? 5;
  assertNumber(fn, 'options.lambda', lambda, 0);
  const mu = o.mu ?? 1;
  assertNumber(fn, 'options.mu', mu, 0);
  if (!(mu > 0)) throw new SegValueError(`${fn}: options.mu is 0, expected a positive number`);
  const connectivity = o.connectivity ?? 8;
  if (connectivity !== 4 && connectivity !== 8) {
    throw new SegValueError(
      `${fn}: options.connectivity is ${String(connectivity)}, expected 4 or 8`,
    );
  }
  const seed = o.seed ?? 0;
  assertInt(fn, 'options.seed', seed, 0);
  const proposals = o.proposals ?? 'image';
  if (proposals !== 'crop' && proposals !== 'image') {
    throw new SegValueError(
      `${fn}: options.proposals is ${JSON.stringify(proposals)}, expected 'crop' or 'image'`,
    );
  }
  const colorWeight = o.colorWeight ?? 0;
  assertNumber(fn, 'options.colorWeight', colorWeight, 0);
  const colorModel = o.colorModel ?? 'scribbles';
  if (colorModel !== 'scribbles' && colorModel !== 'proposals') {
    throw new SegValueError(
      `${fn}: options.colorModel is ${JSON.stringify(colorModel)}, expected 'scribbles' or 'proposals'`,
    );
  }
  const logEvery = o.logEvery ?? 10;
  assertInt(fn, 'options.logEvery', logEvery, 1);
  if (o.checkpoint !== undefined) {
    if (!o.checkpoint || typeof o.checkpoint.save !== 'function') {
      throw new SegValueError(`${fn}: options.checkpoint.save is not a function`);
    }
    assertInt(fn, 'options.checkpoint.every', o.checkpoint.every, 1);
  }
  if (o.onStep !== undefined && typeof o.onStep !== 'function') {
    throw new SegValueError(`${fn}: options.onStep is ${typeof o.onStep}, expected a function`);
  }
  const es = o.earlyStopping;
  if (es !== undefined) {
    if (es === null || typeof es !== 'object') {
      throw new SegValueError(`${fn}: options.earlyStopping is ${String(es)}, expected an object`);
    }
    assertInt(fn, 'options.earlyStopping.every', es.every, 1);
    if (typeof es.score !== 'function') {
      throw new SegValueError(
        `${fn}: options.earlyStopping.score is ${typeof es.score}, expected a function`,
      );
    }
    if (es.patience !== undefined) assertInt(fn, 'options.earlyStopping.patience', es.patience, 1);
    if (es.minDelta !== undefined)
      assertNumber(fn, 'options.earlyStopping.minDelta', es.minDelta, 0);
  }
  const batchOptions = {
    crop,
    shortSide,
    ...(o.jitter !== undefined ? { jitter: o.jitter } : {}),
    ...(o.flip !== undefined ? { flip: o.flip } : {}),
  };
  return {
    method,
    steps,
    pretrain,
    batchSize,
    batchOptions,
    lr,
    lambda,
    mu,
    connectivity,
    dense: o.dense ?? {},
    earlyStopping: es,
    seed,
    logEvery,
    proposals,
    colorWeight,
    colorModel,
  };
}

type Settings = ReturnType<typeof settings>;

/**
 * ADM's Y-step on a batch: the network's probabilities (no tape), then per
 * crop the Potts problem `Σ −log S_p[Y_p] + (λ/μ)·Σ w_pq [Y_p ≠ Y_q]` with the
 * crop's contrast weights and its scribbles hard, solved by `solver`.
 */
async function yStep(
  net: EncoderDecoder,
  batch: Batch,
  s: Settings,
  solver: ProposalSolver,
  K: number,
): Promise<Int32Array> {
  const { n, height: h, width: w } = batch;
  const probs = tf.tidy(() => tf.softmax(net.forward(datasetInput(batch.rgb, n, h, w))));
  const S = (await probs.data()) as Float32Array;
  probs.dispose();
  const N = h * w;
  const problems = Array.from({ length: n }, (_, b) => {
    const image = { width: w, height: h, data: batch.rgb.subarray(b * N * 3, (b + 1) * N * 3) };
    const { edges } = gridWeights(image, { connectivity: s.connectivity });
    return buildProposalProblem(
      {
        probs: S.subarray(b * N * K, (b + 1) * N * K),
        width: w,
        height: h,
        numLabels: K,
        weights: edges,
        seeds: batch.seeds.slice(b * N, (b + 1) * N),
      },
      { pottsWeight: s.lambda / s.mu, seeds: 'hard' },
    );
  });
  const solved = await solver.solve(problems);
  const out = new Int32Array(n * N);
  solved.forEach((y, b) => {
    out.set(y, b * N);
  });
  return out;
}

/** An example at the network's scale, with what its every Y-step needs. */
interface WholeImage {
  example: DatasetExample;
  /** The image, its scribbles (and truth) at the network's scale. */
  at: Batch;
  /** Its contrast weights there. */
  weights: readonly Float32Array[];
  /** The image there as bytes (the colour histograms' bins), when the Y-step has a colour model. */
  bytes: RgbImage | null;
  /** Its colour costs there (N×K), when the Y-step has a colour model: of its scribbles, then of its last proposal with `colorModel: 'proposals'`. */
  colors: Float32Array | null;
}

/** Example `i` at the network's scale, made on first use. */
function wholeImage(
  examples: readonly DatasetExample[],
  i: number,
  wholes: Map<number, WholeImage>,
  s: Settings,
  K: number,
): WholeImage {
  const known = wholes.get(i);
  if (known) return known;
  const example = examples[i]!;
  const at = resizeExample(example, s.batchOptions.shortSide);
  const image = { width: at.width, height: at.height, data: at.rgb };
  const bytes = s.colorWeight > 0 ? { ...image, data: Uint8Array.from(at.rgb, Math.round) } : null;
  const whole = {
    example,
    at,
    weights: gridWeights(image, { connectivity: s.connectivity }).edges,
    bytes,
    colors: bytes ? colorCosts(bytes, labelMap(at.width, at.height, at.seeds), K) : null,
  };
  wholes.set(i, whole);
  return whole;
}

/**
 * ADM's Y-step on the whole images of a batch's crops (`proposals: 'image'`):
 * per distinct image, the network's probabilities on all of it at the
 * network's scale and the Potts problem there (its contrast weights, all its
 * scribbles hard); each crop then takes its window of its image's proposal,
 * its own scribbles kept.
 */
async function wholeImageYStep(
  net: EncoderDecoder,
  examples: readonly DatasetExample[],
  batch: Batch,
  indices: readonly number[],
  wholes: Map<number, WholeImage>,
  s: Settings,
  solver: ProposalSolver,
  K: number,
): Promise<Int32Array> {
  const distinct = [...new Set(indices)];
  const images = distinct.map((i) => wholeImage(examples, i, wholes, s, K));
  const problems = [];
  for (const img of images) {
    const { width: w, height: h } = img.at;
    const probs = tf.tidy(() => tf.softmax(net.forward(datasetInput(img.at.rgb, 1, h, w))));
    const S = (await probs.data()) as Float32Array;
    probs.dispose();
    const problem = buildProposalProblem(
      { probs: S, width: w, height: h, numLabels: K, weights: img.weights, seeds: img.at.seeds },
      { pottsWeight: s.lambda / s.mu, seeds: 'hard' },
    );
    if (img.colors) {
      // the problem is μ-scaled: unary −log S + (γ/μ)·C, Potts λ/μ
      const g = s.colorWeight / s.mu;
      for (let i = 0; i < problem.unary.length; i++) problem.unary[i]! += g * img.colors[i]!;
    }
    problems.push(problem);
  }
  const solved = await solver.solve(problems);
  if (s.colorWeight > 0 && s.colorModel === 'proposals') {
    images.forEach((img, j) => {
      const { width: w, height: h } = img.at;
      img.colors = histogramCosts(img.bytes!, labelMap(w, h, solved[j]!), K);
    });
  }
  const { n, height: h, width: w } = batch;
  const out = new Int32Array(n * h * w);
  indices.forEach((i, b) => {
    const j = distinct.indexOf(i);
    const { at, example } = images[j]!;
    const { width: W, height: H } = example.image;
    cropLabels(solved[j]!, at.width, at.height, W, H, batch.windows[b]!, w, h, b, out);
  });
  for (let o = 0; o < out.length; o++) if (batch.seeds[o]! >= 0) out[o] = batch.seeds[o]!;
  return out;
}

/** One Adam step on the batch's loss for the method; returns the loss and its pCE term. */
function gradientStep(
  net: EncoderDecoder,
  optimizer: tf.Optimizer,
  vars: tf.Variable[],
  batch: Batch,
  s: Settings,
  pretraining: boolean,
  proposals: Int32Array | null,
): { loss: number; pce: number } {
  const { n, height: h, width: w } = batch;
  const N = h * w;
  let pceT: tf.Tensor | null = null;
  const cost = tf.tidy((): tf.Scalar => {
    const x = datasetInput(batch.rgb, n, h, w);
    const seeds = tf.tensor3d(batch.seeds, [n, h, w], 'int32');
    const truth =
      s.method === 'full' && batch.truth ? tf.tensor3d(batch.truth, [n, h, w], 'int32') : null;
    const ys = proposals ? tf.tensor3d(proposals, [n, h, w], 'int32') : null;
    const img =
      s.method.startsWith('gd') && !pretraining ? tf.tensor4d(batch.rgb, [n, h, w, 3]) : null;
    return optimizer.minimize(
      () => {
        const z = net.forward(x);
        if (truth) {
          const ce = proposalCrossEntropy(z, truth, { reduction: 'mean' });
          pceT = tf.keep(ce.clone());
          return ce as tf.Scalar;
        }
        const pce = partialCrossEntropy(z, seeds, { reduction: 'mean' }) as tf.Scalar;
        pceT = tf.keep(pce.clone());
        if (pretraining || s.method === 'pce') return pce;
        if (ys)
          return tf.add(pce, tf.mul(s.mu, proposalCrossEntropy(z, ys, { reduction: 'mean' })));
        const S = tf.softmax(z);
        const reg =
          s.method === 'gd-grid'
            ? gridCrfLoss(S, img!, {
                connectivity: s.connectivity,
                relaxation: 'bilinear',
                reduction: 'mean',
              })
            : denseCrfLoss(S, img!, { ...s.dense, reduction: 'mean' });
        return tf.add(pce, tf.mul(s.lambda / N, reg)) as tf.Scalar;
      },
      true,
      vars,
    )!;
  });
  const loss = cost.dataSync()[0]!;
  const pce = (pceT as tf.Tensor | null)?.dataSync()[0] ?? 0;
  tf.dispose([cost, pceT as tf.Tensor | null].filter((t): t is tf.Tensor => t !== null));
  return { loss, pce };
}

/** Copies the parameters and Adam's slots into plain arrays. */
async function snapshot(
  net: EncoderDecoder,
  optimizer: tf.Optimizer,
): Promise<Pick<DatasetCheckpoint, 'params' | 'optimizer'>> {
  const params: DatasetCheckpoint['params'] = {};
  for (const [name, v] of Object.entries(net.params())) {
    params[name] = { shape: v.shape.slice(), data: Float32Array.from(await v.data()) };
  }
  const named = await optimizer.getWeights();
  const opt = await Promise.all(
    named.map(async ({ name, tensor }) => ({
      name,
      shape: tensor.shape.slice(),
      data: Float32Array.from(await tensor.data()),
    })),
  );
  return { params, optimizer: opt };
}

/** Restores parameters (and Adam's slots, if any) from a checkpoint. */
export async function restore(
  fn: string,
  net: EncoderDecoder,
  optimizer: tf.Optimizer | null,
  cp: Pick<DatasetCheckpoint, 'params' | 'optimizer'>,
): Promise<void> {
  restoreParams(fn, net, cp.params);
  if (optimizer && cp.optimizer.length > 0) {
    const named = cp.optimizer.map(({ name, shape, data }) => ({
      name,
      tensor: tf.tensor(data, shape, 'float32'),
    }));
    await optimizer.setWeights(named);
    tf.dispose(named.map((t) => t.tensor));
  }
}

/** Sets the network's parameters to saved ones (every name and shape checked). */
function restoreParams(fn: string, net: EncoderDecoder, params: DatasetCheckpoint['params']): void {
  for (const [name, v] of Object.entries(net.params())) {
    const saved = params[name];
    if (
      !saved ||
      saved.shape.length !== v.shape.length ||
      saved.shape.some((d, i) => d !== v.shape[i])
    ) {
      throw new SegValueError(
        `${fn}: the checkpoint has no parameter '${name}' of shape [${v.shape}]`,
      );
    }
    tf.tidy(() => v.assign(tf.tensor(saved.data, saved.shape, 'float32')));
  }
}
