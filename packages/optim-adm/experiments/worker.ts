// Experiment worker: segments one GrabCut-like image per task.

import { gridWeights } from '@seg/losses';
import { initBackend, labelMap } from '@seg/tensor';
import { exposeTasks } from '@seg/tensor/worker';
import { objectIoU, regularizedLoss, type SegmentOptions, segmentImage } from '../src/index.js';
import { downscaleImage, downscaleSeeds } from '../src/net/resample.js';
import { loadGrabCut } from '../src/node/index.js';

const ready = initBackend({ backend: 'wasm' });

export interface TaskResult {
  name: string;
  iou: number;
  /** Final regularized loss at λ_eval, on the training resolution. */
  loss: number | null;
  /**
   * The same loss of the ground-truth mask carried down to the training grid
   * (one-hot; the 128 band counted as object): what any optimizer of this
   * loss would have to beat to return the true segmentation.
   */
  gtLoss: number | null;
  ms: number;
  /** Regularized loss (λ_eval) after each iteration, with the steps taken. */
  curve: { steps: number; loss: number; ms: number }[];
}

async function run(
  dir: string,
  name: string,
  set: number,
  opts: SegmentOptions,
  lambdaEval: number,
): Promise<TaskResult> {
  await ready;
  const [ex] = loadGrabCut(dir, { scribbles: set, names: [name] });
  const { image, seeds, mask } = ex!;
  const t0 = performance.now();
  const r = await segmentImage(image, seeds, opts);
  const ms = performance.now() - t0;
  let loss: number | null = null;
  let gtLoss: number | null = null;
  if (r.trainProbs) {
    const { width: w, height: h } = r.trainProbs;
    const small = downscaleImage(image, w, h);
    const smallSeeds = downscaleSeeds(seeds, w, h, 2);
    const lossOptions = {
      lambda: lambdaEval,
      weights: gridWeights(small, { connectivity: opts.connectivity ?? 8 }),
    };
    loss = regularizedLoss(r.trainProbs, smallSeeds, small, lossOptions).total;
    if (mask) {
      const truth = labelMap(
        mask.width,
        mask.height,
        Int32Array.from(mask.data, (v) => (v >= 128 ? 1 : 0)),
      );
      const t = downscaleSeeds(truth, w, h, 2).data;
      const oneHot = new Float32Array(2 * w * h);
      for (let q = 0; q < w * h; q++) oneHot[2 * q + t[q]!] = 1;
      gtLoss = regularizedLoss(
        { width: w, height: h, numLabels: 2, data: oneHot },
        smallSeeds,
        small,
        lossOptions,
      ).total;
    }
  }
  const curve = r.history.map((i) => {
    const N = (r.trainSize?.[0] ?? 1) * (r.trainSize?.[1] ?? 1);
    return { steps: i.steps, loss: i.partialCE + (lambdaEval * i.potts) / N, ms: i.elapsedMs };
  });
  return { name, iou: mask ? objectIoU(r.labels, mask) : Number.NaN, loss, gtLoss, ms, curve };
}

void exposeTasks({ run });
