/**
 * Scoring a data-set network on images it has not seen, without their
 * scribbles: the argmax of its probabilities brought to full resolution,
 * optionally cleaned up by one graph cut or a dense CRF; and the
 * regularized loss it reaches on its (scribbled) training images.
 */
import { denseCrf } from '@seg/crf-solvers';
import { gridWeights } from '@seg/losses';
import { assertNumber, labelMap, type ProbMap, rgbImage } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { objectIoU } from '../metrics/iou.js';
import { regularizedLoss } from '../metrics/regularized-loss.js';
import { upscaleProbs } from '../net/resample.js';
import { buildProposalProblem, MIN_PROB, solvePotts } from '../proposals/y-step.js';
import { argmax } from '../train/common.js';
import { checkOptions } from '../validate.js';
import { checkExamples, type DatasetExample, resizeExample } from './data.js';
import { datasetInput, type EncoderDecoder } from './network.js';

/**
 * The network's probabilities on the whole image at its scale
 * (`resizeExample`): `small` (w·h·K), and bilinearly upsampled to the
 * image's full size (`full`).
 */
export function predictExample(
  net: EncoderDecoder,
  ex: DatasetExample,
  shortSide: number,
): { small: ProbMap; full: ProbMap } {
  const r = resizeExample(ex, shortSide);
  const t = tf.tidy(() => tf.softmax(net.forward(datasetInput(r.rgb, 1, r.height, r.width))));
  const data = t.dataSync() as Float32Array;
  t.dispose();
  const small: ProbMap = { width: r.width, height: r.height, numLabels: net.numClasses, data };
  return { small, full: upscaleProbs(small, ex.image.width, ex.image.height) };
}

/** Options of {@link evaluateOnDataset}. */
export interface EvaluateOptions {
  /** The scale the network was trained at (`shortSide` of the trainer). @default 80 */
  shortSide?: number;
  /** Potts weight per pixel of the graph-cut clean-up at full resolution (contrast-sensitive, 8-connected). @default 10 */
  graphCutLambda?: number;
  /** Also run the dense-CRF clean-up (pydensecrf's default kernels, 5 iterations). @default true */
  denseCrf?: boolean;
}

/** Per-image and mean object IoU of {@link evaluateOnDataset}. */
export interface DatasetScores {
  names: string[];
  /** The network's argmax at full resolution. */
  network: number[];
  /** After one graph cut on −log S with the image's contrast weights. */
  graphCut: number[];
  /** After dense-CRF mean field on −log S (empty when `denseCrf` is false). */
  denseCrf: number[];
  mean: { network: number; graphCut: number; denseCrf: number | null };
}

/**
 * Object IoU of `net` on each example with a mask (its scribbles unused):
 * the argmax of the full-size probabilities, and two clean-ups of them.
 *
 * @example
 * const scores = evaluateOnDataset(net, test, { shortSide: 80 });
 * console.log(scores.mean.network, scores.mean.graphCut);
 */
export function evaluateOnDataset(
  net: EncoderDecoder,
  examples: readonly DatasetExample[],
  options: EvaluateOptions = {},
): DatasetScores {
  const fn = 'evaluateOnDataset';
  const o = checkOptions(fn, options);
  checkExamples(fn, examples, false);
  const shortSide = o.shortSide ?? 80;
  assertNumber(fn, 'options.shortSide', shortSide, 1);
  const gcLambda = o.graphCutLambda ?? 10;
  assertNumber(fn, 'options.graphCutLambda', gcLambda, 0);
  const withCrf = o.denseCrf ?? true;
  const out: DatasetScores = {
    names: [],
    network: [],
    graphCut: [],
    denseCrf: [],
    mean: { network: 0, graphCut: 0, denseCrf: null },
  };
  const K = net.numClasses;
  for (const ex of examples) {
    if (!ex.mask) continue;
    const { width: W, height: H } = ex.image;
    const { full } = predictExample(net, ex, shortSide);
    out.names.push(ex.name);
    out.network.push(objectIoU(labelMap(W, H, argmax(full.data, K)), ex.mask));
    const { edges } = gridWeights(ex.image, { connectivity: 8 });
    const problem = buildProposalProblem(
      {
        probs: full.data,
        width: W,
        height: H,
        numLabels: K,
        weights: edges,
        seeds: new Int32Array(W * H).fill(-1),
      },
      { pottsWeight: gcLambda },
    );
    out.graphCut.push(objectIoU(labelMap(W, H, solvePotts(problem)), ex.mask));
    if (withCrf) {
      const unary = new Float32Array(full.data.length);
      for (let i = 0; i < unary.length; i++)
        unary[i] = -Math.log(Math.max(full.data[i]!, MIN_PROB));
      const { labels } = denseCrf({ image: ex.image, unary, numLabels: K });
      out.denseCrf.push(objectIoU(labelMap(W, H, labels), ex.mask));
    }
  }
  const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN);
  out.mean = {
    network: mean(out.network),
    graphCut: mean(out.graphCut),
    denseCrf: withCrf ? mean(out.denseCrf) : null,
  };
  return out;
}

/**
 * The regularized loss `pCE(S) + (λ/N)·R(argmax S)` of the network on each
 * scribbled example, seen whole at its scale (scribbles and image resampled
 * as in training; 8-connected contrast weights of the resampled image), and
 * its mean: the quantity GD and ADM lower, compared at one λ.
 */
export function datasetLoss(
  net: EncoderDecoder,
  examples: readonly DatasetExample[],
  lambda: number,
  shortSide = 80,
): { mean: number; partialCE: number; potts: number } {
  const fn = 'datasetLoss';
  checkExamples(fn, examples, false);
  assertNumber(fn, 'lambda', lambda, 0);
  assertNumber(fn, 'shortSide', shortSide, 1);
  let total = 0;
  let pce = 0;
  let potts = 0;
  for (const ex of examples) {
    const r = resizeExample(ex, shortSide);
    const { small } = predictExample(net, ex, shortSide);
    const image = { width: r.width, height: r.height, data: r.rgb };
    const l = regularizedLoss(
      small,
      labelMap(r.width, r.height, r.seeds),
      rgbImage(
        r.width,
        r.height,
        Uint8Array.from(r.rgb, (v) => Math.round(v)),
      ),
      { lambda, weights: gridWeights(image, { connectivity: 8 }) },
    );
    total += l.total;
    pce += l.partialCE;
    potts += l.potts / (r.width * r.height);
  }
  const n = examples.length;
  return { mean: total / n, partialCE: pce / n, potts: potts / n };
}
