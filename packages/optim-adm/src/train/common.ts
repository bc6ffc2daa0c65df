/**
 * What the two trainers share: the option checks, the prepared images, the
 * optimizer's lifetime and the gradient step ({@link checkTrainer},
 * {@link withTrainerRun}), early stopping and checkpoints ({@link trainingLoop}).
 */
import { type GridWeights, gridWeights } from '@seg/losses';
import {
  assertInt,
  assertNumber,
  type LabelMap,
  type RgbImage,
  Rng,
  SegShapeError,
  SegValueError,
  segAdam,
} from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { checkNet, networkInput, type SegNet } from '../net/network.js';
import {
  checkCallback,
  checkConnectivity,
  checkImage,
  checkOptions,
  checkSeeds,
} from '../validate.js';
import { forwardWithMargin, type ScribbleMarginOptions, scribbleMargin } from './margin.js';

/** One training image at the resolution the network sees, with its scribbles (-1 unlabelled). */
export interface TrainingExample {
  image: RgbImage;
  seeds: LabelMap;
  /**
   * ADM only: the same image and scribbles at a finer resolution (e.g. the
   * original of a reduced `image`). When given, the Y-step is solved at this
   * resolution on the network's bilinearly upsampled probabilities, with this
   * image's contrast weights and these seeds, and its proposal is carried
   * down to `image`'s grid by majority for the θ-steps.
   */
  full?: { image: RgbImage; seeds: LabelMap };
}

/** An image ready for training: its tensors and its grid weights. */
export interface PreparedExample {
  image: RgbImage;
  seeds: LabelMap;
  /** The finer resolution of the Y-step, if any, with its grid weights. */
  full?: { image: RgbImage; seeds: LabelMap; weights: GridWeights };
  input: tf.Tensor4D;
  seedTensor: tf.Tensor3D;
  imageTensor: tf.Tensor4D;
  weights: GridWeights;
  numPixels: number;
}

/** Checks examples and builds their tensors (dispose with {@link disposePrepared}). */
export function prepareExamples(
  fn: string,
  examples: TrainingExample | TrainingExample[],
  numClasses: number,
  connectivity: 4 | 8,
  input: { coordScale: number; seedDistance: number; geodesicGamma: number; colorModel: number },
): PreparedExample[] {
  const list = Array.isArray(examples) ? examples : [examples];
  if (list.length === 0)
    throw new SegValueError(`${fn}: examples is empty, expected at least one image`);
  list.forEach((ex, i) => {
    const at = list.length > 1 ? `examples[${i}]: ` : '';
    if (!ex || typeof ex !== 'object') {
      throw new SegValueError(
        `${fn}: ${list.length > 1 ? `examples[${i}]` : 'examples'} is ${String(ex)}, expected { image, seeds }`,
      );
    }
    try {
      checkImage(fn, ex.image);
      checkSeeds(fn, ex.seeds, ex.image.width, ex.image.height, numClasses, false);
    } catch (e) {
      if (at && e instanceof Error) e.message = e.message.replace(`${fn}: `, `${fn}: ${at}`);
      throw e;
    }
    if (!ex.seeds.data.some((v) => v >= 0)) {
      throw new SegValueError(`${fn}: ${at}seeds are empty, expected at least one scribbled pixel`);
    }
    if (ex.full !== undefined) {
      try {
        checkImage(fn, ex.full.image);
        checkSeeds(fn, ex.full.seeds, ex.full.image.width, ex.full.image.height, numClasses, false);
      } catch (e) {
        if (e instanceof Error) e.message = e.message.replace(`${fn}: `, `${fn}: ${at}full: `);
        throw e;
      }
      if (ex.full.image.width < ex.image.width || ex.full.image.height < ex.image.height) {
        throw new SegShapeError(
          `${fn}: ${at}full.image is ${ex.full.image.width}×${ex.full.image.height}, expected at least the training image's ${ex.image.width}×${ex.image.height}`,
        );
      }
    }
  });
  return list.map(({ image, seeds, full }) => {
    const { width: w, height: h } = image;
    const img = new Float32Array(image.data);
    return {
      image,
      seeds,
      ...(full
        ? {
            full: {
              image: full.image,
              seeds: full.seeds,
              weights: gridWeights(full.image, { connectivity }),
            },
          }
        : {}),
      input: networkInput(image, { ...input, seeds, numClasses }),
      seedTensor: tf.tensor3d(seeds.data, [1, h, w], 'int32'),
      imageTensor: tf.tensor4d(img, [1, h, w, 3], 'float32'),
      weights: gridWeights(image, { connectivity }),
      numPixels: w * h,
    };
  });
}

/** Disposes the tensors of {@link prepareExamples}. */
export function disposePrepared(list: PreparedExample[]): void {
  for (const p of list) tf.dispose([p.input, p.seedTensor, p.imageTensor]);
}

/** Softmax probabilities of the network on each example, as typed arrays (h·w·K). */
export function predictProbs(net: SegNet, list: PreparedExample[]): Float32Array[] {
  return list.map((p) => {
    const s = tf.tidy(() => tf.softmax(net.forward(p.input)));
    const d = s.dataSync() as Float32Array;
    s.dispose();
    return d;
  });
}

/** Timings of one iteration, in milliseconds. */
export interface Timings {
  /** Y-step (proposals), ADM only. */
  yStepMs: number;
  /** The θ-steps. */
  thetaMs: number;
  /** Forward pass and loss terms for the report. */
  evalMs: number;
  totalMs: number;
}

/** Early stopping on the monitored objective. */
export interface EarlyStopping {
  /** Iterations without an improvement larger than `minDelta` before stopping. @default 3 */
  patience?: number;
  /** @default 1e-4 */
  minDelta?: number;
}

/** A saved training state: parameters, optimizer slots, proposals, history. Plain data (structured-clone safe). */
export interface TrainerCheckpoint<H = unknown> {
  trainer: 'adm' | 'gd';
  /** Iterations completed. */
  iteration: number;
  /** θ-steps (gradient steps) taken. */
  steps: number;
  params: Record<string, { shape: number[]; data: Float32Array }>;
  optimizer: { name: string; shape: number[]; data: Float32Array }[];
  /** ADM: the last proposals, one per example. */
  proposals?: Int32Array[];
  history: H[];
  best: number;
  badIterations: number;
}

/** Checkpointing options. */
export interface CheckpointOptions<H> {
  /** Save after every `every` iterations. @default 1 */
  every?: number;
  /** Called with each checkpoint; a returned promise is awaited before training goes on. */
  save(checkpoint: TrainerCheckpoint<H>): void | Promise<void>;
}

/** Options both trainers take. */
export interface TrainerBaseOptions {
  /** Weight of the per-pixel Potts term (see `regularizedLoss`). */
  lambda?: number;
  /** @default 8 */
  connectivity?: 4 | 8;
  /** Outer iterations. @default 20 */
  iterations?: number;
  /** Gradient steps per iteration (ADM: θ-steps per proposal refresh). @default 5 */
  stepsPerIteration?: number;
  /** A tfjs optimizer (tf.train.sgd / adam / momentum, or a Path-SGD optimizer). @default segAdam(learningRate) (@seg/tensor: tf.train.adam's updates bit for bit, in one pass a variable) */
  optimizer?: tf.Optimizer;
  /** Learning rate of the default Adam. @default 0.01 */
  learningRate?: number;
  /** Scale of the coordinate channels of the input. @default 1 */
  coordScale?: number;
  /** Scale of the seed-distance channels of the input (0: off; see `networkInput`). @default 0 */
  seedDistance?: number;
  /** Colour weight of the geodesic seed distance. @default 10 */
  geodesicGamma?: number;
  /** Scale of the colour-model channels of the input (0: off; see `networkInput`). @default 0 */
  colorModel?: number;
  /** @deprecated Renamed `colorModel` (one spelling in the API); read when `colorModel` is absent, for one release. */
  colourModel?: number;
  /**
   * Examples per gradient step (ADM: per Y-step and its θ-steps). Smaller
   * than the number of examples, every iteration is one pass over them in
   * shuffled batches (`batchSeed`), each taking `stepsPerIteration` steps;
   * the report after an iteration covers every example.
   * @default every example (one batch, in order)
   */
  batchSize?: number;
  /** Seed of the batch shuffling. @default 0 */
  batchSeed?: number;
  earlyStopping?: EarlyStopping | false;
  /**
   * Adds the large-margin term of `@seg/losses` (Nguyen et al., arXiv
   * 2405.18499) to every gradient step's loss: on the penultimate features
   * of the scribbled pixels, with the network's output layer (a 1×1
   * convolution, as in `pixelNetSpec`) as the linear classifier, and
   * object / background centroids kept by momentum over the run.
   * @default off
   */
  margin?: ScribbleMarginOptions | false;
}

/** The common options, read and checked by {@link baseOptions}. */
export type BaseOptions = ReturnType<typeof baseOptions>;

/**
 * The prelude of both trainers: checks `options` (an object or undefined),
 * the network, and the options both trainers take (λ defaulting to
 * `defaultLambda`).
 */
export function checkTrainer<O extends TrainerBaseOptions>(
  fn: string,
  net: SegNet,
  options: O | undefined,
  defaultLambda: number,
): { options: O; base: BaseOptions } {
  const o = checkOptions(fn, options);
  checkNet(fn, net);
  return { options: o, base: baseOptions(fn, o, defaultLambda) };
}

/** One training run of a trainer, from {@link withTrainerRun}. */
export interface TrainerRun {
  readonly net: SegNet;
  /** The prepared examples (disposed when the run ends). */
  readonly list: PreparedExample[];
  readonly optimizer: tf.Optimizer;
  /** Gradient steps taken (the checkpoints and reports count them). */
  readonly counter: { steps: number };
  /** `performance.now()` when the run started, for `elapsedMs`. */
  readonly start: number;
  /**
   * One gradient step on the mean over `examples` of `loss` (differentiable,
   * in the optimizer's tape); `loss` gets the logits and `withMargin`, which
   * adds the large-margin term of the example when the `margin` option is
   * on (the identity otherwise). `afterMean` runs in the tape after the
   * mean. With `returnCost`, returns the loss (the caller disposes it).
   */
  step(
    examples: PreparedExample[],
    loss: (
      logits: tf.Tensor4D,
      p: PreparedExample,
      j: number,
      withMargin: (t: tf.Tensor) => tf.Tensor,
    ) => tf.Tensor,
    returnCost?: boolean,
    afterMean?: () => void,
  ): tf.Scalar | null;
  /** The outer loop of {@link trainingLoop} over this run. */
  loop<H>(
    trainer: TrainerCheckpoint['trainer'],
    options: LoopOptions<H>,
    hooks: TrainerHooks<H>,
  ): Promise<{ history: H[]; stoppedEarly: boolean }>;
}

/**
 * The lifetime of a training run around a trainer's `body`: the margin term,
 * the prepared examples and the optimizer (`options.optimizer`, or an Adam
 * of `learningRate` owned by the run), all released when `body` ends,
 * whether it returns or throws.
 */
export async function withTrainerRun<R>(
  fn: string,
  net: SegNet,
  examples: TrainingExample | TrainingExample[],
  options: TrainerBaseOptions,
  base: BaseOptions,
  body: (run: TrainerRun) => Promise<R>,
): Promise<R> {
  const margin = scribbleMargin(fn, net, options.margin);
  const list = prepareExamples(fn, examples, net.numClasses, base.connectivity, base.input);
  const ownOptimizer = options.optimizer === undefined;
  const optimizer = options.optimizer ?? segAdam(base.lr);
  const vars = net.model.variables();
  const counter = { steps: 0 };
  const run: TrainerRun = {
    net,
    list,
    optimizer,
    counter,
    start: performance.now(),
    step(sub, loss, returnCost = false, afterMean) {
      const cost = optimizer.minimize(
        () => {
          const total = meanOver(sub, (p, j) => {
            const { logits, term } = forwardWithMargin(net, margin, p);
            return loss(logits, p, j, (t) => (term ? tf.add(t, term) : t));
          });
          afterMean?.();
          return total;
        },
        returnCost,
        vars,
      );
      margin?.update();
      counter.steps++;
      return cost;
    },
    loop: (trainer, loopOptions, hooks) =>
      trainingLoop(
        fn,
        trainer,
        net,
        optimizer,
        {
          iterations: base.iterations,
          es: base.es,
          batches: base.batches,
          numExamples: list.length,
          counter,
        },
        loopOptions,
        hooks,
      ),
  };
  try {
    return await body(run);
  } finally {
    margin?.dispose();
    disposePrepared(list);
    if (ownOptimizer) optimizer.dispose();
  }
}

/** Reads and checks the common options. */
export function baseOptions(fn: string, o: TrainerBaseOptions, defaultLambda: number) {
  const lambda = o.lambda ?? defaultLambda;
  assertNumber(fn, 'options.lambda', lambda, 0);
  const connectivity = checkConnectivity(fn, o.connectivity ?? 8);
  const iterations = o.iterations ?? 20;
  assertInt(fn, 'options.iterations', iterations, 0);
  const steps = o.stepsPerIteration ?? 5;
  assertInt(fn, 'options.stepsPerIteration', steps, 1);
  const lr = o.learningRate ?? 0.01;
  assertNumber(fn, 'options.learningRate', lr, 0);
  const coordScale = o.coordScale ?? 1;
  assertNumber(fn, 'options.coordScale', coordScale, 0);
  const seedDistance = o.seedDistance ?? 0;
  assertNumber(fn, 'options.seedDistance', seedDistance, 0);
  const geodesicGamma = o.geodesicGamma ?? 10;
  assertNumber(fn, 'options.geodesicGamma', geodesicGamma, 0);
  const colorModel = o.colorModel ?? o.colourModel ?? 0;
  assertNumber(fn, 'options.colorModel', colorModel, 0);
  const input = { coordScale, seedDistance, geodesicGamma, colorModel };
  if (o.optimizer !== undefined && !(o.optimizer instanceof tf.Optimizer)) {
    throw new SegValueError(`${fn}: options.optimizer is not a tf.Optimizer`);
  }
  const es = o.earlyStopping
    ? { patience: o.earlyStopping.patience ?? 3, minDelta: o.earlyStopping.minDelta ?? 1e-4 }
    : null;
  if (es) {
    assertInt(fn, 'options.earlyStopping.patience', es.patience, 1);
    assertNumber(fn, 'options.earlyStopping.minDelta', es.minDelta, 0);
  }
  if (o.batchSize !== undefined) assertInt(fn, 'options.batchSize', o.batchSize, 1);
  const batchSeed = o.batchSeed ?? 0;
  assertNumber(fn, 'options.batchSeed', batchSeed);
  checkTrainerCallbacks(fn, o as TrainerCallbacks);
  const batches = batcher(o.batchSize, new Rng(batchSeed));
  return { lambda, connectivity, iterations, steps, lr, input, es, batches };
}

/** The callbacks of both trainers' options, checked by {@link baseOptions}. */
interface TrainerCallbacks {
  onIteration?: unknown;
  checkpoint?: { every?: number; save?: unknown };
}

/** Checks `onIteration` and `checkpoint` (before training starts, not at the first iteration). */
function checkTrainerCallbacks(fn: string, o: TrainerCallbacks): void {
  checkCallback(fn, 'options.onIteration', o.onIteration);
  const cp = o.checkpoint;
  if (cp === undefined) return;
  if (cp === null || typeof cp !== 'object') {
    throw new SegValueError(
      `${fn}: options.checkpoint is ${String(cp)}, expected { save, every? }`,
    );
  }
  if (typeof cp.save !== 'function') {
    throw new SegValueError(
      `${fn}: options.checkpoint.save is ${typeof cp.save}, expected a function`,
    );
  }
  if (cp.every !== undefined) assertInt(fn, 'options.checkpoint.every', cp.every, 1);
}

/**
 * The batches of one pass over `n` examples: all of them in order when
 * `size` is absent or at least `n`, else a fresh shuffle cut into batches of
 * `size` (the last one may be smaller).
 */
export function batcher(size: number | undefined, rng: Rng): (n: number) => number[][] {
  return (n) => {
    if (size === undefined || size >= n) return [Array.from({ length: n }, (_, i) => i)];
    const order = Array.from(rng.permutation(n));
    const out: number[][] = [];
    for (let i = 0; i < n; i += size) out.push(order.slice(i, i + size));
    return out;
  };
}

/** Copies the parameters and the optimizer's slots into a checkpoint's plain arrays. */
async function snapshot(
  net: SegNet,
  optimizer: tf.Optimizer,
): Promise<Pick<TrainerCheckpoint, 'params' | 'optimizer'>> {
  const params: TrainerCheckpoint['params'] = {};
  for (const [name, v] of Object.entries(net.model.params)) {
    params[name] = { shape: v.shape.slice(), data: (await v.data()) as Float32Array };
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

/** Restores parameters and optimizer slots from a checkpoint. */
async function restore(
  fn: string,
  net: SegNet,
  optimizer: tf.Optimizer,
  cp: TrainerCheckpoint,
): Promise<void> {
  for (const [name, v] of Object.entries(net.model.params)) {
    const saved = cp.params[name];
    if (
      !saved ||
      saved.shape.length !== v.shape.length ||
      saved.shape.some((s, i) => s !== v.shape[i])
    ) {
      throw new SegValueError(
        `${fn}: options.resume has no parameter '${name}' of shape [${v.shape}]`,
      );
    }
    tf.tidy(() => v.assign(tf.tensor(saved.data, saved.shape, 'float32')));
  }
  if (cp.optimizer.length > 0) {
    const named = cp.optimizer.map(({ name, shape, data }) => ({
      name,
      tensor: tf.tensor(data, shape, 'float32'),
    }));
    await optimizer.setWeights(named);
    tf.dispose(named.map((n) => n.tensor));
  }
}

/** Tracks the best objective for early stopping. */
function earlyStop(
  es: { patience: number; minDelta: number } | null,
  state: { best: number; badIterations: number },
  value: number,
): boolean {
  if (value < state.best - (es?.minDelta ?? 0)) {
    state.best = value;
    state.badIterations = 0;
  } else {
    state.badIterations++;
  }
  return es !== null && state.badIterations >= es.patience;
}

/** Mean partial cross-entropy of probabilities on the seeds (0 without seeds). */
export function partialCE(probs: Float32Array, seeds: Int32Array, K: number): number {
  let s = 0;
  let n = 0;
  for (let p = 0; p < seeds.length; p++) {
    const y = seeds[p]!;
    if (y < 0) continue;
    s -= Math.log(Math.max(probs[p * K + y]!, 1e-12));
    n++;
  }
  return n > 0 ? s / n : 0;
}

/** Per-pixel argmax of h·w·K probabilities. */
export function argmax(probs: Float32Array, K: number): Int32Array {
  const n = probs.length / K;
  const out = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    let b = 0;
    for (let k = 1; k < K; k++) if (probs[p * K + k]! > probs[p * K + b]!) b = k;
    out[p] = b;
  }
  return out;
}

/** The options of a trainer that {@link trainingLoop} reads. */
export interface LoopOptions<H> {
  checkpoint?: CheckpointOptions<H>;
  resume?: TrainerCheckpoint<H>;
  onIteration?: (info: H) => void | boolean | Promise<void | boolean>;
}

/** What {@link trainingLoop} asks of a trainer. */
export interface TrainerHooks<H> {
  /** On a fresh start (not a resume), before the first iteration. */
  start?(): void;
  /** After the shared state is restored from a checkpoint of this trainer. */
  resumed?(checkpoint: TrainerCheckpoint<H>): void;
  /** Runs iteration `it`: its report, and the value early stopping watches. */
  iteration(it: number): Promise<{ info: H; monitor: number }>;
  /** What only this trainer keeps in a checkpoint. */
  checkpointExtra?(): Pick<TrainerCheckpoint<H>, 'proposals'>;
}

/**
 * The outer loop both trainers share: resuming, the iterations, early
 * stopping, checkpoints and the `onIteration` callback. `counter.steps`
 * counts the gradient steps (the trainer's hooks add to it).
 */
export async function trainingLoop<H>(
  fn: string,
  trainer: TrainerCheckpoint['trainer'],
  net: SegNet,
  optimizer: tf.Optimizer,
  run: {
    iterations: number;
    es: { patience: number; minDelta: number } | null;
    batches: (n: number) => number[][];
    numExamples: number;
    counter: { steps: number };
  },
  options: LoopOptions<H>,
  hooks: TrainerHooks<H>,
): Promise<{ history: H[]; stoppedEarly: boolean }> {
  const history: H[] = [];
  const state = { best: Number.POSITIVE_INFINITY, badIterations: 0 };
  let first = 0;
  const cp = options.resume;
  if (cp) {
    if (cp.trainer !== trainer)
      throw new SegValueError(
        `${fn}: options.resume is a '${cp.trainer}' checkpoint, expected '${trainer}'`,
      );
    await restore(fn, net, optimizer, cp);
    first = cp.iteration;
    run.counter.steps = cp.steps;
    history.push(...cp.history);
    state.best = cp.best;
    state.badIterations = cp.badIterations;
    hooks.resumed?.(cp);
  } else {
    hooks.start?.();
  }
  // the batch order of the iterations already done, so a resumed run shuffles alike
  for (let k = 0; k < first; k++) run.batches(run.numExamples);
  for (let it = first; it < run.iterations; it++) {
    const { info, monitor } = await hooks.iteration(it);
    history.push(info);
    const stop = earlyStop(run.es, state, monitor);
    const every = options.checkpoint?.every ?? 1;
    if (options.checkpoint && ((it + 1 - first) % every === 0 || it + 1 === run.iterations)) {
      await options.checkpoint.save({
        trainer,
        iteration: it + 1,
        steps: run.counter.steps,
        ...(await snapshot(net, optimizer)),
        ...hooks.checkpointExtra?.(),
        history: history.slice(),
        best: state.best,
        badIterations: state.badIterations,
      });
    }
    const verdict = options.onIteration ? await options.onIteration(info) : undefined;
    if (verdict === false || stop) return { history, stoppedEarly: it + 1 < run.iterations };
  }
  return { history, stoppedEarly: false };
}

/** Mean over examples of a scalar loss (inside the optimizer's tape). */
export function meanOver(
  list: PreparedExample[],
  f: (p: PreparedExample, i: number) => tf.Tensor,
): tf.Scalar {
  let acc: tf.Tensor | null = null;
  list.forEach((p, i) => {
    const v = f(p, i);
    acc = acc ? tf.add(acc, v) : v;
  });
  return tf.div(acc!, list.length) as tf.Scalar;
}
