// Data-set experiment worker: trains one method's network on the training
// images (checkpointing, resuming), then scores it on the test images.
import { initBackend } from '@seg/tensor';
import { exposeTasks } from '@seg/tensor/worker';
import { restore } from '../../src/dataset/trainer.js';
import {
  createEncoderDecoder,
  type DatasetMethod,
  type DatasetTrainOptions,
  datasetLoss,
  evaluateOnDataset,
  predictExample,
  trainOnDataset,
} from '../../src/index.js';
import { checkpointMeta, loadCheckpoint, loadDataset, saveCheckpoint } from './io.js';

const ready = initBackend({ backend: 'wasm' });

/** What the driver asks of one run. */
export interface MethodTask {
  method: DatasetMethod;
  trainDir: string;
  trainNames: string[];
  testDir: string;
  testNames: string[];
  /** The network's encoder channels and seed. */
  channels: number[];
  netSeed: number;
  train: Omit<DatasetTrainOptions, 'method' | 'onStep' | 'checkpoint' | 'resume' | 'solver'>;
  /** λ of the training-set regularized loss (ADM's). */
  lossLambda: number;
  /** Record the training-set loss (on `curveImages` training images) every `curveEvery` steps; 0: never. */
  curveEvery: number;
  curveImages: number;
  /** Checkpoint file (resumed from when it matches these settings), or '' for none. */
  checkpointPath: string;
  checkpointEvery: number;
  graphCutLambda: number;
  /** Stop (with a checkpoint) after this many steps, without scoring: a pre-training run. */
  stopAt?: number;
  /** Test images whose predictions (0/1, full size) are returned for the figure. */
  figureNames?: string[];
  /** Start from this checkpoint (a pce pre-training run's) when there is none of this run. */
  initFrom?: { path: string; meta: unknown };
  /** Images scored as well, beside `testNames` (which are then the validation images). */
  finalDir?: string;
  finalNames?: string[];
}

/** A curve point: the training-set loss `partialCE + λ·potts` at any λ. */
export interface CurvePoint {
  steps: number;
  partialCE: number;
  potts: number;
}

/** Scores of one image set. */
export interface SetScores {
  iou: number;
  iouGraphCut: number;
  iouDenseCrf: number | null;
  perImage: Record<string, number>;
}

export interface MethodResult {
  method: DatasetMethod;
  /** False for a pre-training run (`stopAt`): nothing below is scored. */
  scored: boolean;
  iou: number;
  iouGraphCut: number;
  iouDenseCrf: number | null;
  perImage: Record<string, number>;
  /** Training-set regularized loss at `lossLambda`, all training images, and its terms. */
  trainLoss: number;
  trainPartialCE: number;
  trainPotts: number;
  /** Training wall time (this run's, plus the resumed checkpoint's). */
  trainSec: number;
  evalSec: number;
  yStepSec: number;
  steps: number;
  resumedFrom: number;
  curve: CurvePoint[];
  /** The scores on `finalNames`, when given. */
  final: SetScores | null;
  params: number;
  /** Predictions on `figureNames`: 1 object, 0 background, full size. */
  figure: Record<string, Uint8Array>;
}

async function run(task: MethodTask): Promise<MethodResult> {
  await ready;
  const train = loadDataset(task.trainDir, task.trainNames);
  const test = loadDataset(task.testDir, task.testNames);
  const net = createEncoderDecoder({ channels: task.channels, seed: task.netSeed });
  const shortSide = task.train.shortSide ?? 80;
  const meta = checkpointMeta(task);
  const resume =
    (task.checkpointPath ? loadCheckpoint(task.checkpointPath, meta) : null) ??
    (task.initFrom ? loadCheckpoint(task.initFrom.path, task.initFrom.meta) : null);
  if (task.initFrom && !resume)
    throw new Error(`experiment:dataset: no usable pre-training checkpoint ${task.initFrom.path}`);
  const curveSet = train.filter(
    (_, i) => i % Math.max(1, Math.floor(train.length / task.curveImages)) === 0,
  );
  const curve: CurvePoint[] = [];
  const point = (steps: number): CurvePoint => {
    const l = datasetLoss(net, curveSet, task.lossLambda, shortSide);
    return { steps, partialCE: l.partialCE, potts: l.potts };
  };
  const prevSec = resume?.history.at(-1)?.elapsedMs ?? 0;
  let curveMs = 0;
  try {
    // the curve's first points: the end of the pre-training this run started
    // from, and the step a run resumes at (the points are not checkpointed)
    if (task.curveEvery > 0 && resume && task.stopAt === undefined) {
      const init = task.initFrom ? loadCheckpoint(task.initFrom.path, task.initFrom.meta) : null;
      if (init && init.step < resume.step) {
        await restore('experiment:dataset', net, null, init);
        curve.push(point(init.step));
      }
      await restore('experiment:dataset', net, null, resume);
      curve.push(point(resume.step));
    }
    // a pre-training run whose checkpoint is already there has nothing to do
    const done = task.stopAt !== undefined && resume !== null && resume.step >= task.stopAt;
    const r = done
      ? { history: resume.history, steps: resume.step, elapsedMs: 0, yStepMs: 0 }
      : await trainOnDataset(net, train, {
          ...task.train,
          method: task.method,
          ...(resume ? { resume } : {}),
          ...(task.checkpointPath
            ? {
                checkpoint: {
                  every: task.checkpointEvery,
                  save: (cp) => saveCheckpoint(task.checkpointPath, cp, meta),
                },
              }
            : {}),
          onStep: (info) => {
            if (task.stopAt !== undefined && info.step >= task.stopAt) return false;
            if (task.curveEvery > 0 && info.step % task.curveEvery === 0) {
              const tc = performance.now();
              curve.push(point(info.step));
              curveMs += performance.now() - tc;
            }
          },
        });
    if (task.stopAt !== undefined) {
      return {
        method: task.method,
        scored: false,
        iou: Number.NaN,
        iouGraphCut: Number.NaN,
        iouDenseCrf: null,
        perImage: {},
        trainLoss: Number.NaN,
        trainPartialCE: Number.NaN,
        trainPotts: Number.NaN,
        trainSec: (prevSec + r.elapsedMs - curveMs) / 1000,
        evalSec: 0,
        yStepSec: r.yStepMs / 1000,
        steps: r.steps,
        resumedFrom: resume?.step ?? 0,
        curve,
        final: null,
        params: net.numParams(),
        figure: {},
      };
    }
    const te = performance.now();
    const scores = evaluateOnDataset(net, test, {
      shortSide,
      graphCutLambda: task.graphCutLambda,
    });
    const finalSet = task.finalNames ? loadDataset(task.finalDir!, task.finalNames) : null;
    const finalScores = finalSet
      ? evaluateOnDataset(net, finalSet, { shortSide, graphCutLambda: task.graphCutLambda })
      : null;
    const loss = datasetLoss(net, train, task.lossLambda, shortSide);
    const evalSec = (performance.now() - te) / 1000;
    const figure: Record<string, Uint8Array> = {};
    for (const ex of (finalSet ?? test).filter((e) => task.figureNames?.includes(e.name))) {
      const { full } = predictExample(net, ex, shortSide);
      figure[ex.name] = Uint8Array.from({ length: full.width * full.height }, (_, p) =>
        full.data[2 * p + 1]! > full.data[2 * p]! ? 1 : 0,
      );
    }
    return {
      method: task.method,
      scored: true,
      iou: scores.mean.network,
      iouGraphCut: scores.mean.graphCut,
      iouDenseCrf: scores.mean.denseCrf,
      perImage: Object.fromEntries(scores.names.map((n, i) => [n, scores.network[i]!])),
      trainLoss: loss.mean,
      trainPartialCE: loss.partialCE,
      trainPotts: loss.potts,
      // the curve's evaluations are not training time
      trainSec: (prevSec + r.elapsedMs - curveMs) / 1000,
      evalSec,
      yStepSec: r.yStepMs / 1000,
      steps: r.steps,
      resumedFrom: resume?.step ?? 0,
      curve,
      final: finalScores
        ? {
            iou: finalScores.mean.network,
            iouGraphCut: finalScores.mean.graphCut,
            iouDenseCrf: finalScores.mean.denseCrf,
            perImage: Object.fromEntries(
              finalScores.names.map((n, i) => [n, finalScores.network[i]!]),
            ),
          }
        : null,
      params: net.numParams(),
      figure,
    };
  } finally {
    net.dispose();
  }
}

void exposeTasks({ run });
