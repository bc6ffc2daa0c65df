// Data-set experiment worker: trains one method's network on the training
// images (checkpointing, resuming), then scores it on the test images.
import { initBackend } from '@seg/tensor';
import { exposeTasks } from '@seg/tensor/worker';
import {
  createEncoderDecoder,
  type DatasetMethod,
  type DatasetTrainOptions,
  datasetLoss,
  evaluateOnDataset,
  trainOnDataset,
} from '../../src/index.js';
import { loadCheckpoint, loadDataset, saveCheckpoint } from './io.js';

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
}

export interface MethodResult {
  method: DatasetMethod;
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
  curve: { steps: number; loss: number }[];
  params: number;
}

async function run(task: MethodTask): Promise<MethodResult> {
  await ready;
  const train = loadDataset(task.trainDir, task.trainNames);
  const test = loadDataset(task.testDir, task.testNames);
  const net = createEncoderDecoder({ channels: task.channels, seed: task.netSeed });
  const shortSide = task.train.shortSide ?? 80;
  const meta = { ...task, checkpointPath: undefined, curveEvery: undefined };
  const resume = task.checkpointPath ? loadCheckpoint(task.checkpointPath, meta) : null;
  const curveSet = train.filter(
    (_, i) => i % Math.max(1, Math.floor(train.length / task.curveImages)) === 0,
  );
  const curve: { steps: number; loss: number }[] = [];
  const prevSec = resume?.history.at(-1)?.elapsedMs ?? 0;
  let curveMs = 0;
  try {
    const r = await trainOnDataset(net, train, {
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
        if (task.curveEvery > 0 && info.step % task.curveEvery === 0) {
          const tc = performance.now();
          curve.push({
            steps: info.step,
            loss: datasetLoss(net, curveSet, task.lossLambda, shortSide).mean,
          });
          curveMs += performance.now() - tc;
        }
      },
    });
    const te = performance.now();
    const scores = evaluateOnDataset(net, test, {
      shortSide,
      graphCutLambda: task.graphCutLambda,
    });
    const loss = datasetLoss(net, train, task.lossLambda, shortSide);
    const evalSec = (performance.now() - te) / 1000;
    return {
      method: task.method,
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
      params: net.numParams(),
    };
  } finally {
    net.dispose();
  }
}

void exposeTasks({ run });
