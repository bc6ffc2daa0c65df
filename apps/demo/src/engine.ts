// The demo's segmentation session, run in the Web Worker (and in Node by the
// tests). It is @seg/optim-adm's segmentImage taken apart so that the page
// gets what segmentImage does not give: the network stays alive between
// runs (a refinement continues training it, Adam's moments included, with
// the new strokes), a mask after every iteration, a stop between
// iterations, and K > 2 labels (α-expansion Y-steps).
import { gridWeights } from '@seg/losses';
import {
  colorCosts,
  createPixelNet,
  downscaleImage,
  downscaleSeeds,
  fullSizeWeight,
  type GrayMask,
  inlineSolver,
  interactiveGraphCut,
  keepSeedConnected,
  networkInput,
  objectIoU,
  proposalProblem,
  reducedSize,
  SEGMENT_DEFAULTS,
  type SegNet,
  solvePotts,
  trainAdm,
  trainGradientDescent,
  upscaleProbs,
} from '@seg/optim-adm';
import { type LabelMap, type RgbImage, segAdam } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';

/** The methods the demo offers. */
export type Method = 'adm' | 'gd-grid' | 'gd-dense' | 'pce' | 'graphcut';

/** A method's main parameters (segmentImage's defaults when absent). */
export interface MethodParams {
  /** Regularizer weight λ (adm 5, gd-grid 0.5, gd-dense 0.02, graphcut 50; pce: none). */
  lambda?: number;
  /** Outer iterations of a fresh run. @default segmentImage's per method (ADM 3, the others 10) */
  iterations?: number;
  /** Outer iterations of a refinement. @default 2 */
  refineIterations?: number;
  /** Gradient steps per iteration. @default 5 */
  stepsPerIteration?: number;
  /** Adam's learning rate. @default 0.01 */
  learningRate?: number;
  /** Longest side the network trains at. @default 120 */
  maxSide?: number;
}

/** One run. */
export interface RunRequest {
  /** Identifies the image: a refinement needs the same one. */
  imageKey: string;
  image: RgbImage;
  /** 0 … K−1, −1 unlabelled; every label has seeds. */
  seeds: LabelMap;
  numLabels: number;
  method: Method;
  params: MethodParams;
  /** Continue from the current network when it fits (same image, method, labels); else a fresh run. */
  refine: boolean;
}

/** What the page is told after every iteration. */
export interface IterationReport {
  iteration: number;
  iterations: number;
  /** Loss terms by name (for the chart). */
  terms: Record<string, number>;
  /** The network's labels, upsampled to the full image (0 … K−1). */
  labels: Uint8Array;
}

/** The end of a run. */
export interface RunResult {
  labels: Uint8Array;
  /** False when the run was stopped. */
  completed: boolean;
  /** True when it continued an existing network. */
  refined: boolean;
  iterations: number;
}

const DEFAULT_LAMBDA: Record<Method, number> = {
  adm: 5,
  'gd-grid': 0.5,
  'gd-dense': 0.02,
  pce: 0,
  graphcut: 50,
};

/** The network input options segmentImage uses per method. */
function inputOptions(method: Method) {
  return {
    coordScale: 0,
    seedDistance: 3,
    colorModel: method === 'adm' || method === 'pce' ? 10 : 3,
  };
}

/** The trained network a refinement continues from. */
interface Trained {
  imageKey: string;
  method: Method;
  numLabels: number;
  maxSide: number;
  net: SegNet;
  optimizer: tf.Optimizer;
}

/** A segmentation session: one network kept between runs. */
export class Session {
  private trained: Trained | null = null;
  private weightsCache: { image: RgbImage; edges: readonly Float32Array[] } | null = null;
  /**
   * Solves the Y-steps and the clean-up cut, keeping their graphs: within a
   * run each Y-step re-solves the last one's graph from its flow, and the
   * clean-up (the same problem for ADM) too.
   */
  private readonly solver = inlineSolver();

  /** Whether a refinement of `req` would continue the current network. */
  canRefine(req: Pick<RunRequest, 'imageKey' | 'method' | 'numLabels' | 'params'>): boolean {
    const t = this.trained;
    return (
      t !== null &&
      req.method !== 'graphcut' &&
      t.imageKey === req.imageKey &&
      t.method === req.method &&
      t.numLabels === req.numLabels &&
      t.maxSide === (req.params.maxSide ?? 120)
    );
  }

  /** Forgets the network and the kept graphs. */
  dispose(): void {
    if (this.trained) {
      this.trained.net.dispose();
      this.trained.optimizer.dispose();
    }
    this.trained = null;
    void this.solver.close?.();
  }

  /**
   * Runs one segmentation. `onIteration` is awaited after every iteration;
   * resolving to false stops the run (the network keeps what it learnt).
   */
  async run(
    req: RunRequest,
    onIteration: (r: IterationReport) => Promise<boolean>,
  ): Promise<RunResult> {
    const { image, seeds, numLabels: K, method, params } = req;
    const lambda = params.lambda ?? DEFAULT_LAMBDA[method];
    if (method === 'graphcut')
      return {
        labels: this.cut(image, seeds, K, lambda),
        completed: true,
        refined: false,
        iterations: 0,
      };
    const maxSide = params.maxSide ?? 120;
    const refined = req.refine && this.canRefine(req);
    if (!refined) {
      this.dispose();
      this.trained = {
        imageKey: req.imageKey,
        method,
        numLabels: K,
        maxSide,
        net: createPixelNet({ numClasses: K, seed: 1, width: 16 }),
        optimizer: segAdam(params.learningRate ?? 0.01),
      };
    }
    const { net, optimizer } = this.trained!;
    const [w, h] = reducedSize(image.width, image.height, maxSide);
    const small = downscaleImage(image, w, h);
    const smallSeeds = downscaleSeeds(seeds, w, h, K);
    const inputOpts = inputOptions(method);
    const input = networkInput(small, { ...inputOpts, seeds: smallSeeds, numClasses: K });
    const iterations = refined
      ? (params.refineIterations ?? 2)
      : (params.iterations ?? SEGMENT_DEFAULTS[method].iterations);
    const connected = Array.from({ length: K - 1 }, (_, k) => k + 1);
    let stopped = false;
    const report = async (iteration: number, terms: Record<string, number>): Promise<boolean> => {
      const probs = predict(net, input);
      const full = upscaleProbs(
        { width: w, height: h, numLabels: K, data: probs },
        image.width,
        image.height,
      );
      const go = await onIteration({
        iteration,
        iterations,
        terms,
        labels: argmaxLabels(full.data, K),
      });
      if (!go) stopped = true;
      return go;
    };
    const common = {
      iterations,
      stepsPerIteration: params.stepsPerIteration ?? 5,
      optimizer,
      ...inputOpts,
    };
    try {
      if (method === 'adm') {
        await trainAdm(
          net,
          { image: small, seeds: smallSeeds, full: { image, seeds } },
          {
            ...common,
            lambda,
            mu: 1,
            seeds: 'hard',
            init: K === 2 ? 'both' : 'network',
            pretrainSteps: refined ? 0 : 10,
            seedConnected: connected,
            solver: this.solver,
            onIteration: (i) =>
              report(i.iteration, {
                'partial CE': i.partialCE,
                'proposal CE': i.proposalCE,
                'ADM objective': i.objective,
                'regularized loss': i.regularizedLoss,
              }),
          },
        );
      } else {
        const scale = w / image.width;
        await trainGradientDescent(
          net,
          { image: small, seeds: smallSeeds },
          {
            ...common,
            lambda: method === 'pce' ? 0 : lambda,
            regularizer: method === 'gd-dense' ? 'dense' : 'grid',
            lossLambda: method === 'gd-grid' ? lambda : 5,
            dense: { sigmaRgb: 15, sigmaXy: 100 * scale },
            onIteration: (i) =>
              report(
                i.iteration,
                method === 'pce'
                  ? { 'partial CE': i.partialCE, 'regularized loss': i.regularizedLoss }
                  : {
                      'partial CE': i.partialCE,
                      regularizer: i.regularizer,
                      loss: i.loss,
                      'regularized loss': i.regularizedLoss,
                    },
              ),
          },
        );
      }
      // segmentImage's output: one full-size Y-step on the network's probabilities
      const probs = predict(net, input);
      const full = upscaleProbs(
        { width: w, height: h, numLabels: K, data: probs },
        image.width,
        image.height,
      );
      const cleanLambda = method === 'gd-dense' ? 5 : method === 'pce' ? 0.5 : lambda;
      const problem = proposalProblem(
        full.data,
        image.width,
        image.height,
        K,
        this.edges(image),
        seeds.data,
        { pottsWeight: fullSizeWeight(cleanLambda, image.width, w) },
      );
      const [labels] = await this.solver.solve([problem]);
      const kept = keepSeedConnected(labels!, image.width, image.height, seeds.data, connected);
      return { labels: Uint8Array.from(kept), completed: !stopped, refined, iterations };
    } finally {
      input.dispose();
    }
  }

  /** The classic cut: colour histograms of the scribbles + contrast-sensitive Potts, min cut (K = 2) or α-expansion. */
  private cut(image: RgbImage, seeds: LabelMap, K: number, lambda: number): Uint8Array {
    if (K === 2) return Uint8Array.from(interactiveGraphCut(image, seeds, { lambda }).data);
    const weights = this.edges(image).map((e) => {
      const o = new Float32Array(e.length);
      for (let i = 0; i < e.length; i++) o[i] = lambda * e[i]!;
      return o;
    });
    const labels = solvePotts({
      width: image.width,
      height: image.height,
      numLabels: K,
      unary: colorCosts(image, seeds, K),
      weights,
      seeds: seeds.data,
    });
    return Uint8Array.from(labels);
  }

  /** The full image's 8-connected contrast weights (kept for the last image). */
  private edges(image: RgbImage): readonly Float32Array[] {
    if (this.weightsCache?.image === image) return this.weightsCache.edges;
    const edges = gridWeights(image, { connectivity: 8 }).edges;
    this.weightsCache = { image, edges };
    return edges;
  }
}

/** Softmax probabilities of the network, h·w·K. */
function predict(net: SegNet, input: tf.Tensor4D): Float32Array {
  const s = tf.tidy(() => tf.softmax(net.forward(input)));
  const d = s.dataSync() as Float32Array;
  s.dispose();
  return d;
}

/** Per-pixel argmax of N·K probabilities. */
export function argmaxLabels(probs: Float32Array, K: number): Uint8Array {
  const n = probs.length / K;
  const out = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    let b = 0;
    for (let k = 1; k < K; k++) if (probs[p * K + k]! > probs[p * K + b]!) b = k;
    out[p] = b;
  }
  return out;
}

/** Object IoU (label 1) against a GrabCut mask (255 object, 0 background, 128 ignored). */
export function maskIoU(labels: Uint8Array, width: number, height: number, mask: GrayMask): number {
  return objectIoU({ width, height, data: Int32Array.from(labels) }, mask);
}
