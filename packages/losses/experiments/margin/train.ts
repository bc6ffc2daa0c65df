// One training run of the margin experiment: a small CNN (@seg/dense-conv)
// with a D-dimensional linear feature layer 'feat' and a linear classifier
// 'fc', trained with softmax cross-entropy alone or with the large-margin
// loss, then measured on the test set.
import {
  applyNet,
  conv2d,
  createModel,
  defineNet,
  linear,
  maxPool,
  type NetSpec,
  relu,
} from '@seg/dense-conv';
import { Rng } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { type Digits, readDigits } from '../../../path-sgd/experiments/data.js';
import {
  initMarginState,
  type LargeMarginOptions,
  largeMarginLoss,
  marginMetrics,
  updateMarginState,
} from '../../src/index.js';

export type Method = 'softmax' | 'margin-max' | 'margin-mean';
export type DatasetName = 'fashion' | 'mnist';

export interface RunConfig {
  dataDir: string;
  dataset: DatasetName;
  method: Method;
  dim: number;
  seed: number;
  epochs: number;
  /** Training images used (a seeded subset when smaller than the set). */
  trainSize: number;
  testSize: number;
  batch: number;
  learningRate: number;
  /** Large-margin options (aggregation is set by the method). */
  margin: LargeMarginOptions;
  /** Test points returned for the feature plot (2-D runs). */
  plotPoints: number;
  /** μ of the centroid momentum. @default 0.99 */
  momentum?: number;
  /** λ ramps linearly from 0 to its value over this fraction of the steps. @default 0 */
  warmup?: number;
}

export interface RunResult {
  dataset: DatasetName;
  method: Method;
  dim: number;
  seed: number;
  acc: number;
  /** Mean over classes of the mean distance of the test features to their class mean. */
  intraClass: number;
  /** Mean over classes of the test class mean's distance to its closest boundary. */
  centroidMargin: number;
  /** Quantiles 5, 25, 50 % of the test samples' signed margins. */
  sampleMarginQ: [number, number, number];
  /** Seconds per training epoch. */
  epochSec: number[];
  trainSec: number;
  /** `[x, y, label]` test points (2-D runs), and the classifier. */
  points?: number[];
  weight?: number[];
  bias?: number[];
}

const DATA = {
  mnist: { dir: 'mnist', train: 'train10k' },
  fashion: { dir: 'fashion-mnist', train: 'train' },
} as const;

/** The network; the feature layer is 'feat' (linear, `dim` channels), the classifier 'fc'. */
export function netLayers(dim: number) {
  return {
    inChannels: 1,
    layers: [
      conv2d({ name: 'conv1', outChannels: 8, filterSize: 5 }),
      relu(),
      maxPool({ size: 2 }),
      conv2d({ name: 'conv2', outChannels: 16, filterSize: 5 }),
      relu(),
      maxPool({ size: 2 }),
      conv2d({ name: 'conv3', outChannels: 32, filterSize: 4 }),
      relu(),
      linear({ name: 'feat', outChannels: dim }),
      linear({ name: 'fc', outChannels: 10 }),
    ],
  };
}

function shuffled(n: number, rng: Rng): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

function batchOf(d: Digits, idx: ArrayLike<number>): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const x = new Float32Array(idx.length * 784);
  const y = new Int32Array(idx.length);
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    for (let p = 0; p < 784; p++) x[k * 784 + p] = d.images[i * 784 + p]! - 0.5;
    y[k] = d.labels[i]!;
  }
  return { x: tf.tensor4d(x, [idx.length, 28, 28, 1]), y: tf.tensor1d(y, 'int32') };
}

export function trainRun(cfg: RunConfig): RunResult {
  const { dim, seed } = cfg;
  const src = DATA[cfg.dataset];
  const train = readDigits(`${cfg.dataDir}/${src.dir}`, src.train);
  const test = readDigits(`${cfg.dataDir}/${src.dir}`, 't10k', cfg.testSize);
  const rng = new Rng(seed);
  const trainIdx = shuffled(train.count, rng).subarray(0, Math.min(cfg.trainSize, train.count));
  const model = createModel(netLayers(dim), seed);
  // the feature layer by name: the same layers and parameters, output 'feat'
  const trunk: NetSpec = defineNet({ ...netLayers(dim), output: 'feat' });
  const classifier = { weight: model.params['fc/weight']!, bias: model.params['fc/bias']! };
  const forward = (x: tf.Tensor4D) => {
    const n = x.shape[0];
    const feat = tf.reshape(applyNet(trunk, model.params, x), [n, dim]) as tf.Tensor2D;
    const logits = tf.add(tf.matMul(feat, classifier.weight), classifier.bias) as tf.Tensor2D;
    return { feat, logits };
  };
  const opt = tf.train.adam(cfg.learningRate);
  let state = initMarginState(10, dim, { momentum: cfg.momentum ?? 0.99 });
  const stepsPerEpoch = Math.floor(trainIdx.length / cfg.batch);
  const rampSteps = (cfg.warmup ?? 0) * stepsPerEpoch * cfg.epochs;
  let step = 0;
  const margin: LargeMarginOptions = {
    ...cfg.margin,
    aggregation: cfg.method === 'margin-mean' ? 'mean' : 'max',
  };
  const epochSec: number[] = [];
  const t0 = performance.now();
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    const e0 = performance.now();
    const order = shuffled(trainIdx.length, new Rng(seed * 1000 + epoch));
    for (let s = 0; s + cfg.batch <= order.length; s += cfg.batch) {
      const idx = Array.from(order.subarray(s, s + cfg.batch), (k) => trainIdx[k]!);
      const { x, y } = batchOf(train, idx);
      let kept: tf.Tensor2D | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const { feat, logits } = forward(x);
        if (cfg.method === 'softmax') {
          const oh = tf.oneHot(y, 10);
          return tf.neg(tf.mean(tf.sum(tf.mul(oh, tf.logSoftmax(logits)), 1))) as tf.Scalar;
        }
        kept = tf.keep(feat);
        const ramp = rampSteps > 0 ? Math.min(1, step / rampSteps) : 1;
        const lambda = (margin.lambda ?? 1) * ramp;
        return largeMarginLoss(feat, logits, y, classifier, state, { ...margin, lambda });
      }, model.variables());
      opt.applyGradients(grads as unknown as Parameters<typeof opt.applyGradients>[0]);
      step++;
      if (kept) {
        state = updateMarginState(state, kept, y);
        (kept as tf.Tensor).dispose();
      }
      tf.dispose([value, x, y, ...Object.values(grads)]);
    }
    epochSec.push((performance.now() - e0) / 1000);
  }
  const trainSec = (performance.now() - t0) / 1000;
  // test features, accuracy, metrics
  const feats = new Float32Array(test.count * dim);
  let correct = 0;
  for (let s = 0; s < test.count; s += 1000) {
    const idx = Array.from({ length: Math.min(1000, test.count - s) }, (_, k) => s + k);
    const { x, y } = batchOf(test, idx);
    const [f, right] = tf.tidy(() => {
      const { feat, logits } = forward(x);
      return [feat, tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32'))];
    });
    feats.set(f.dataSync(), s * dim);
    correct += right.dataSync()[0]!;
    tf.dispose([x, y, f, right]);
  }
  const ft = tf.tensor2d(feats, [test.count, dim]);
  const yt = tf.tensor1d(test.labels, 'int32');
  const m = marginMetrics(ft, yt, classifier);
  const w = classifier.weight.dataSync();
  const b = classifier.bias.dataSync();
  tf.dispose([ft, yt]);
  const sorted = Float64Array.from(m.sampleMargins).sort();
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  const result: RunResult = {
    dataset: cfg.dataset,
    method: cfg.method,
    dim,
    seed,
    acc: correct / test.count,
    intraClass: m.intraClass,
    centroidMargin: m.meanCentroidMargin,
    sampleMarginQ: [q(0.05), q(0.25), q(0.5)],
    epochSec,
    trainSec,
  };
  if (dim === 2) {
    const pts: number[] = [];
    const step = Math.max(1, Math.floor(test.count / cfg.plotPoints));
    for (let i = 0; i < test.count; i += step)
      pts.push(feats[2 * i]!, feats[2 * i + 1]!, test.labels[i]!);
    result.points = pts;
    result.weight = Array.from(w);
    result.bias = Array.from(b);
  }
  model.dispose();
  opt.dispose();
  return result;
}
