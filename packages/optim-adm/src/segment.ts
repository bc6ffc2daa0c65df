/**
 * One call to segment one image from its scribbles (the interactive
 * setting): a network trained on this image alone by ADM, by gradient
 * descent on a regularized loss, or on partial CE alone; or the classic
 * graph cut. Used by the CLI (`seg segment`) and the web demo.
 */

import { segmentationBackbone } from '@seg/dense-conv';
import {
  assertInt,
  assertNumber,
  type LabelMap,
  labelMap,
  type ProbMap,
  type RgbImage,
  SegShapeError,
  SegValueError,
} from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { cleanUpCut, cleanUpProblem } from './full-size.js';
import { interactiveGraphCut } from './graphcut/interactive.js';
import { checkMemory, type SegmentMethod } from './memory.js';
import { createPixelNet, inputChannels, type SegNet, segNetFromModel } from './net/network.js';
import { downscaleImage, downscaleSeeds, reducedSize, upscaleProbs } from './net/resample.js';
import { keepSeedConnected } from './proposals/connectivity.js';
import { MAX_POTTS_WEIGHT } from './proposals/potts-problem.js';
import { fullSizeWeight, inlineSolver, type ProposalSolver } from './proposals/y-step.js';
import { type AdmIterationInfo, trainAdm } from './train/adm.js';
import { type GdIterationInfo, trainGradientDescent } from './train/gd.js';
import type { ScribbleMarginOptions } from './train/margin.js';
import {
  checkCallback,
  checkImage,
  checkOptions,
  checkSeeds,
  type ScribbleMap,
  scribbleSeeds,
} from './validate.js';

export type { SegmentMethod } from './memory.js';

/** The defaults of one network method of {@link segmentImage} (see {@link SEGMENT_DEFAULTS}). */
export interface NetworkMethodDefaults {
  /** Default of `options.lambda`. */
  readonly lambda: number;
  /** λ the network trains with: `'lambda'`, the method's λ; 0, partial CE alone. */
  readonly trainLambda: 'lambda' | 0;
  /** λ of the reported regularized loss (grid Potts; GD's `lossLambda`): `'lambda'` or a fixed weight. */
  readonly reportLambda: 'lambda' | number;
  /** λ of the clean-up Y-step of `output: 'proposal'` (ADM: divided by μ): `'lambda'` or a fixed weight. */
  readonly outputLambda: 'lambda' | number;
  /** Default of `options.colorModel`. */
  readonly colorModel: number;
  /** Default of `options.iterations`. */
  readonly iterations: number;
}

/**
 * The per-method defaults of {@link segmentImage}, chosen on GrabCut-50
 * (5-fold selection, both scribble sets; see the package README). The code
 * reads them from here: the options' docs point to this table.
 *
 * | method     | λ    | trains with λ | reported λ | clean-up λ | colorModel | iterations |
 * | ---------- | ---- | ------------- | ---------- | ---------- | ---------- | ---------- |
 * | 'adm'      | 5    | λ             | λ          | λ (/ μ)    | 10         | 3          |
 * | 'gd-grid'  | 0.5  | λ             | λ          | λ          | 3          | 10         |
 * | 'gd-dense' | 0.02 | λ             | 5          | 5          | 3          | 10         |
 * | 'pce'      | 0.5  | 0             | 5          | λ          | 10         | 10         |
 * | 'graphcut' | 50   | (one cut)     |            |            |            |            |
 *
 * ADM's 3 iterations (proposal refreshes) come from a 5-fold selection over
 * {3, 4, 5, 6, 8, 10} on GrabCut-50, both scribble sets (3 on four folds,
 * 10 on one; held out 0.756 / 0.915 against 0.754 / 0.917 for 10 on all
 * images): as good, in 25 network steps instead of 60.
 */
export const SEGMENT_DEFAULTS: {
  readonly graphcut: { readonly lambda: number };
} & { readonly [M in Exclude<SegmentMethod, 'graphcut'>]: NetworkMethodDefaults } = {
  adm: {
    lambda: 5,
    trainLambda: 'lambda',
    reportLambda: 'lambda',
    outputLambda: 'lambda',
    colorModel: 10,
    iterations: 3,
  },
  'gd-grid': {
    lambda: 0.5,
    trainLambda: 'lambda',
    reportLambda: 'lambda',
    outputLambda: 'lambda',
    colorModel: 3,
    iterations: 10,
  },
  'gd-dense': {
    lambda: 0.02,
    trainLambda: 'lambda',
    reportLambda: 5,
    outputLambda: 5,
    colorModel: 3,
    iterations: 10,
  },
  pce: {
    lambda: 0.5,
    trainLambda: 0,
    reportLambda: 5,
    outputLambda: 'lambda',
    colorModel: 10,
    iterations: 10,
  },
  graphcut: { lambda: 50 },
};

/** Options of {@link segmentImage}. */
export interface SegmentOptions {
  /** @default 'adm' */
  method?: SegmentMethod;
  /**
   * Regularizer weight. ADM and GD: the per-pixel λ of `regularizedLoss`;
   * 'pce': only the clean-up's; 'graphcut': the classic λ. Default per
   * method: {@link SEGMENT_DEFAULTS}. At most {@link MAX_POTTS_WEIGHT} (1e30);
   * seeds hold as hard constraints for every λ.
   */
  lambda?: number;
  /** ADM: weight of the proposal cross-entropy. @default 1 */
  mu?: number;
  /** @default 8 */
  connectivity?: 4 | 8;
  /** Longest side of the resolution the network trains at (the image is reduced by area averaging, never enlarged). @default 120 */
  maxSide?: number;
  /** Outer iterations (ADM: proposal refreshes). Default per method: {@link SEGMENT_DEFAULTS} (ADM 3, the others 10). */
  iterations?: number;
  /** Gradient steps per iteration. @default 5 */
  stepsPerIteration?: number;
  /** Adam's learning rate. @default 0.01 */
  learningRate?: number;
  /** Scale of the x, y input channels (0: colour only). @default 0 */
  coordScale?: number;
  /**
   * Scale of the input channels holding each pixel's geodesic distance to
   * the object and the background scribbles (0: off; see `networkInput`).
   * Chosen on GrabCut-50 from {0, 1, 3}.
   * @default 3
   */
  seedDistance?: number;
  /** Colour weight of that geodesic distance. @default 10 */
  geodesicGamma?: number;
  /**
   * Scale of the input channels holding each pixel's colour log-likelihood
   * under each label's scribbles, relative to their mean (0: off; see `networkInput`).
   * Chosen on GrabCut-50 from {0, 3, 10} per method: default {@link SEGMENT_DEFAULTS}.
   */
  colorModel?: number;
  /** @deprecated Renamed `colorModel` (one spelling in the API); read when `colorModel` is absent, for one release. */
  colourModel?: number;
  /** Seed of the network's initial weights, an integer in [0, 2³²). @default 1 */
  seed?: number;
  /**
   * The network methods only: adds the large-margin term of `@seg/losses`
   * on the scribbled pixels' features (see the trainers' `margin` option).
   * @default false
   */
  margin?: ScribbleMarginOptions | false;
  /** Hidden channels of the per-image network. @default 16 */
  width?: number;
  /**
   * The network trained: `'pixel'`, {@link pixelNetSpec} (receptive field
   * 7 px); `'backbone'`, @seg/dense-conv's `segmentationBackbone` (two
   * conv–pool stages, receptive field 20 px) in its dense form.
   * @default 'pixel'
   */
  network?: 'pixel' | 'backbone';
  /**
   * Start from these parameters instead of a random initialisation (e.g. a
   * network trained on other images' scribbles, `net.model.params`); names
   * and shapes must be those of `network`'s parameters. They are copied.
   */
  initialParams?: Record<string, tf.Tensor>;
  /** ADM: seeds hard or soft in the Y-step. @default 'hard' */
  seeds?: 'hard' | 'soft';
  /**
   * ADM: unary of the first Y-step (see `AdmOptions.init`): 'both' adds the
   * network's −log S and the scribbles' colour cost, 'color' starts from
   * the classic cut. 'both' was every fold's pick in a 5-fold selection on
   * GrabCut-50 (40 tuning images per fold, both scribble sets).
   * @default 'both'
   */
  /** (`'colour'`: the deprecated spelling of `'color'`, accepted for one release.) */
  init?: 'network' | 'color' | 'both' | 'colour';
  /**
   * ADM: where the Y-step is solved. `'train'`: on the reduced training grid;
   * `'full'`: at the image's full size, on the network's upsampled
   * probabilities with the full image's contrast weights and the original
   * scribbles (its proposal carried down by majority for the θ-steps).
   * @default 'full'
   */
  proposals?: 'train' | 'full';
  /** ADM with `proposals: 'full'`: the Potts weight there (see `AdmOptions.fullLambda`). */
  fullLambda?: number;
  /**
   * The object is connected to its scribbles: object regions (8-connected)
   * holding no object scribble become background, in ADM's Y-steps
   * (`AdmOptions.seedConnected`) and in the returned labels of every
   * network method ({@link keepSeedConnected}). Chosen on GrabCut-50 for
   * every network method.
   * @default true
   */
  seedConnected?: boolean;
  /** ADM: partial-CE steps before the first Y-step. @default 10 */
  pretrainSteps?: number;
  /** ADM: solver of the Y-step (e.g. a pool). @default this thread */
  solver?: ProposalSolver;
  /** Dense CRF loss options for 'gd-dense' (σ_rgb 15, σ_xy 100 px of the full image). */
  sigmaRgb?: number;
  sigmaXy?: number;
  /**
   * What `labels` are: `'network'`, the argmax of the network's upsampled
   * probabilities; `'proposal'`, one more Y-step at full resolution on them
   * (unary −log S, hard seeds, contrast-sensitive Potts at the full-size
   * weight of the method's clean-up λ, {@link SEGMENT_DEFAULTS}, divided by
   * μ for ADM: a graph-cut clean-up). Chosen on GrabCut-50 for every network
   * method.
   * @default 'proposal'
   */
  output?: 'network' | 'proposal';
  /**
   * Memory budget in bytes, checked before any work: an image whose
   * estimated peak ({@link estimateSegmentBytes}: a measured number of bytes
   * a pixel per method, 225–270, plus a fixed base) is larger throws a
   * {@link MemoryBudgetError}. `Infinity` turns the check off. The model
   * counts the network at the default `maxSide` (120) in its base: a much
   * larger `maxSide` trains at more pixels and takes more than estimated.
   * @default DEFAULT_SEGMENT_MAX_BYTES (4 GiB)
   */
  maxBytes?: number;
  /** Called after every iteration with the trainer's report. */
  onProgress?: (info: AdmIterationInfo | GdIterationInfo) => void;
}

/** What {@link segmentImage} returns. */
export interface SegmentResult {
  /** 1 object / 0 background (K = 2), at the image's full size. */
  labels: LabelMap;
  /** The network's probabilities, upsampled to full size (not for 'graphcut'). */
  probs?: ProbMap;
  /** Per-iteration reports (empty for 'graphcut'). */
  history: (AdmIterationInfo | GdIterationInfo)[];
  /** Size the network trained at. */
  trainSize?: [number, number];
  /** The network's probabilities at that size (before upsampling). */
  trainProbs?: ProbMap;
  ms: number;
}

const METHODS: readonly SegmentMethod[] = ['adm', 'gd-grid', 'gd-dense', 'pce', 'graphcut'];

/**
 * Segments an image from its scribbles. For the network methods a small
 * fully convolutional net (RGB + x, y input, {@link pixelNetSpec}) is
 * trained from scratch on this image at a reduced resolution (`maxSide`),
 * and its probabilities are upsampled bilinearly to the full image. Needs
 * `await initBackend()` first (except 'graphcut'). Runs in Node and in a
 * Web Worker.
 *
 * @param seeds 1 object, 0 background, -1 unlabelled; both labels must be present.
 *
 * @example
 * await initBackend();
 * const { labels, history } = await segmentImage(image, seeds, {
 *   method: 'adm', onProgress: (i) => console.log(i.iteration, i.regularizedLoss),
 * });
 */
export async function segmentImage(
  image: RgbImage,
  seeds: LabelMap,
  options: SegmentOptions = {},
): Promise<SegmentResult> {
  const fn = 'segmentImage';
  const t0 = performance.now();
  options = checkOptions(fn, options);
  const method = options.method ?? 'adm';
  if (!METHODS.includes(method)) {
    throw new SegValueError(
      `${fn}: options.method is ${JSON.stringify(method)}, expected one of ${METHODS.join(', ')}`,
    );
  }
  checkImage(fn, image);
  checkMemory(fn, image.width, image.height, method, options.maxBytes);
  checkSeeds(fn, seeds, image.width, image.height, 2, true);
  if (options.lambda !== undefined)
    assertNumber(fn, 'options.lambda', options.lambda, 0, MAX_POTTS_WEIGHT);
  if (method === 'graphcut') {
    const labels = interactiveGraphCut(image, seeds, {
      lambda: options.lambda ?? SEGMENT_DEFAULTS.graphcut.lambda,
      connectivity: options.connectivity ?? 8,
    });
    return { labels, history: [], ms: performance.now() - t0 };
  }
  if (options.fullLambda !== undefined)
    assertNumber(fn, 'options.fullLambda', options.fullLambda, 0, MAX_POTTS_WEIGHT);
  checkCallback(fn, 'options.onProgress', options.onProgress);
  const maxSide = options.maxSide ?? 120;
  assertInt(fn, 'options.maxSide', maxSide, 8);
  const seed = options.seed ?? 1;
  assertInt(fn, 'options.seed', seed, 0, 2 ** 32 - 1);
  const [w, h] = reducedSize(image.width, image.height, maxSide);
  const small = downscaleImage(image, w, h);
  const smallSeeds = downscaleSeeds(seeds, w, h, 2);
  const proposals = options.proposals ?? 'full';
  if (proposals !== 'train' && proposals !== 'full') {
    throw new SegValueError(
      `${fn}: options.proposals is ${JSON.stringify(proposals)}, expected 'train' or 'full'`,
    );
  }
  const fullProposals = method === 'adm' && proposals === 'full';
  const example = {
    image: small,
    seeds: smallSeeds,
    ...(fullProposals ? { full: { image, seeds } } : {}),
  };
  const connected = options.seedConnected ?? true;
  const output = options.output ?? 'proposal';
  if (output !== 'network' && output !== 'proposal') {
    throw new SegValueError(
      `${fn}: options.output is ${JSON.stringify(output)}, expected 'network' or 'proposal'`,
    );
  }
  if (typeof connected !== 'boolean') {
    throw new SegValueError(
      `${fn}: options.seedConnected is ${JSON.stringify(connected)}, expected true or false`,
    );
  }
  const network = options.network ?? 'pixel';
  if (network !== 'pixel' && network !== 'backbone') {
    throw new SegValueError(
      `${fn}: options.network is ${JSON.stringify(network)}, expected 'pixel' or 'backbone'`,
    );
  }
  const net =
    network === 'pixel'
      ? createPixelNet({
          numClasses: 2,
          seed,
          ...(options.width !== undefined ? { width: options.width } : {}),
        })
      : segNetFromModel(
          segmentationBackbone({ numClasses: 2, inChannels: inputChannels(2), seed }).patch,
          'dense',
        );
  if (options.initialParams !== undefined) {
    try {
      copyParams(fn, options.initialParams, net);
    } catch (e) {
      net.dispose();
      throw e;
    }
  }
  const defaults = SEGMENT_DEFAULTS[method];
  const lambda = options.lambda ?? defaults.lambda;
  const orLambda = (v: 'lambda' | number) => (v === 'lambda' ? lambda : v);
  const common = {
    connectivity: options.connectivity ?? 8,
    iterations: options.iterations ?? defaults.iterations,
    stepsPerIteration: options.stepsPerIteration ?? 5,
    learningRate: options.learningRate ?? 0.01,
    coordScale: options.coordScale ?? 0,
    seedDistance: options.seedDistance ?? 3,
    ...(options.geodesicGamma !== undefined ? { geodesicGamma: options.geodesicGamma } : {}),
    colorModel: options.colorModel ?? options.colourModel ?? defaults.colorModel,
    onIteration: options.onProgress
      ? (i: AdmIterationInfo | GdIterationInfo) => void options.onProgress!(i)
      : undefined,
    ...(options.margin ? { margin: options.margin } : {}),
  };
  let probs: Float32Array;
  let history: (AdmIterationInfo | GdIterationInfo)[];
  // ADM's Y-steps and its clean-up share one graph: the inline solver keeps it (for this call only)
  const solver = method === 'adm' ? (options.solver ?? inlineSolver()) : undefined;
  try {
    if (method === 'adm') {
      const r = await trainAdm(net, example, {
        ...common,
        lambda: orLambda(defaults.trainLambda),
        mu: options.mu ?? 1,
        seeds: options.seeds ?? 'hard',
        init: options.init ?? 'both',
        pretrainSteps: options.pretrainSteps ?? 10,
        ...(solver ? { solver } : {}),
        ...(options.fullLambda !== undefined ? { fullLambda: options.fullLambda } : {}),
        ...(connected ? { seedConnected: [1] } : {}),
      });
      probs = r.probs[0]!;
      history = r.history;
    } else {
      const scale = w / image.width;
      const r = await trainGradientDescent(net, example, {
        ...common,
        lambda: orLambda(defaults.trainLambda),
        regularizer: method === 'gd-dense' ? 'dense' : 'grid',
        lossLambda: orLambda(defaults.reportLambda),
        dense: { sigmaRgb: options.sigmaRgb ?? 15, sigmaXy: (options.sigmaXy ?? 100) * scale },
      });
      probs = r.probs[0]!;
      history = r.history;
    }
  } finally {
    net.dispose();
  }
  const full = upscaleProbs(
    { width: w, height: h, numLabels: 2, data: probs },
    image.width,
    image.height,
  );
  let out: Int32Array;
  if (output === 'proposal') {
    const weight =
      options.fullLambda ?? fullSizeWeight(orLambda(defaults.outputLambda), image.width, w);
    const { connectivity } = common;
    if (method === 'adm') {
      const mu = options.mu ?? 1;
      const problem = cleanUpProblem(image, seeds, full.data, weight / mu, connectivity);
      out = (await solver!.solve([problem]))[0]!;
    } else {
      out = cleanUpCut(image, seeds, full.data, weight, connectivity);
    }
  } else {
    out = new Int32Array(image.width * image.height);
    for (let p = 0; p < out.length; p++) out[p] = full.data[2 * p + 1]! > full.data[2 * p]! ? 1 : 0;
  }
  if (connected) out = keepSeedConnected(out, image.width, image.height, seeds.data, [1]);
  return {
    labels: labelMap(image.width, image.height, out),
    probs: full,
    history,
    trainSize: [w, h],
    trainProbs: { width: w, height: h, numLabels: 2, data: probs },
    ms: performance.now() - t0,
  };
}

/**
 * The seeds of a scribble map coded 0 unlabelled, 1 object, 2 background
 * (GrabCut's scribble sets): a LabelMap of 1 object, 0 background, -1
 * unlabelled, as {@link segmentImage} takes. Any other value (a 0/255 map,
 * a palette or colour PNG read as luma, 7, 200) throws a SegValueError
 * that lists the values found, instead of being silently left unlabelled.
 *
 * @param what how the message names the map, e.g. its file. @default 'scribbles'
 * @example
 * const seeds = seedsFromScribbles(readGray('scribbles-1/teddy.png'));
 */
export function seedsFromScribbles(scribbles: ScribbleMap, what = 'scribbles'): LabelMap {
  return scribbleSeeds('seedsFromScribbles', scribbles, what);
}

function copyParams(fn: string, from: Record<string, tf.Tensor>, net: SegNet): void {
  const params = net.model.params;
  if (from === null || typeof from !== 'object') {
    throw new SegValueError(
      `${fn}: options.initialParams is ${String(from)}, expected a record of tensors by parameter name`,
    );
  }
  for (const [name, v] of Object.entries(params)) {
    const t = from[name];
    if (!(t instanceof tf.Tensor)) {
      throw new SegValueError(
        `${fn}: options.initialParams has no '${name}', expected a tensor of shape [${v.shape}]`,
      );
    }
    if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
      throw new SegShapeError(
        `${fn}: options.initialParams['${name}'] has shape [${t.shape}], expected [${v.shape}]`,
      );
    }
  }
  for (const name of Object.keys(from)) {
    if (!(name in params)) {
      throw new SegValueError(
        `${fn}: options.initialParams has '${name}', which the network does not have (it has ${Object.keys(params).join(', ')})`,
      );
    }
  }
  for (const [name, v] of Object.entries(params)) v.assign(from[name]!);
}
