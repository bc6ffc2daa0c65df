// Path-SGD vs SGD vs AdaGrad on MNIST and Fashion-MNIST with a ReLU MLP
// 784-H-H-10, balanced and unbalanced initialisation (Neyshabur,
// Salakhutdinov & Srebro, NIPS 2015, section 6), minibatch 100.
//
//   npx pnpm@10.34.8 --filter @seg/path-sgd experiment [--quick]
//     [--only mnist|fashion] [--report] [--hidden H] [--epochs E] [--alphas 1,2,3]
//
// Step-size protocol (the same for every optimizer): every learning rate
// 10^-α of the grid trains `selectEpochs` epochs from the same initial
// weights; the one with the lowest training loss continues to `epochs`.
// `--only` runs one data set and caches it in experiments/results/; `--report`
// rebuilds the table, the plot and the RESULT line from the cache.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createModel, defineNet, linear, type Model, type NetSpec, relu } from '@seg/dense-conv';
import { initBackend, Rng } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { PathSgdOptimizer, pathNorm } from '../src/index.js';
import { type Digits, readDigits, subset } from './data.js';
import { renderSvg } from './plot.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const value = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = flag('quick');
const hidden = Number(value('hidden') ?? (quick ? 100 : 1000));
const epochs = Number(value('epochs') ?? (quick ? 3 : 10));
const selectEpochs = Math.min(epochs, quick ? 1 : 2);
const trainSize = quick ? 2000 : 10000;
const testSize = quick ? 2000 : 10000;
const batch = 100;
const OPTIMIZERS = ['pathSgd', 'sgd', 'adagrad'] as const;
type OptName = (typeof OPTIMIZERS)[number];
const alphas = value('alphas')?.split(',').map(Number);
const GRID: Record<OptName, number[]> = alphas
  ? { pathSgd: alphas, sgd: alphas, adagrad: alphas }
  : quick
    ? { pathSgd: [2, 3], sgd: [1, 2], adagrad: [1, 2] }
    : { pathSgd: [1, 2, 3], sgd: [1, 2, 3], adagrad: [1, 2, 3] };
const INITS = ['unbalanced', 'balanced'] as const;
type Init = (typeof INITS)[number];
const DATASETS = {
  mnist: { dir: 'mnist', train: 'train10k', label: 'MNIST' },
  fashion: { dir: 'fashion-mnist', train: 'train', label: 'Fashion-MNIST' },
} as const;
type DatasetName = keyof typeof DATASETS;

interface Curve {
  /** Training loss (mean cross-entropy over the whole training set) after each epoch; [0] = initial. */
  trainLoss: number[];
  trainAcc: number[];
  testErr: number[];
}
interface RunResult extends Curve {
  alpha: number;
  learningRate: number;
  epochsTo99: number | null;
  /** Epochs to 90 % training accuracy (informative where 99 % is out of reach). */
  epochsTo90: number | null;
  finalTestErr: number;
  /** Training loss after `selectEpochs` of every α tried. */
  grid: Record<string, number>;
  seconds: number;
}
type DatasetResult = Record<Init, Record<OptName, RunResult>>;

function mlpSpec(h: number): NetSpec {
  return defineNet({
    inChannels: 784,
    layers: [
      linear({ name: 'fc1', outChannels: h }),
      relu({ name: 'relu1' }),
      linear({ name: 'fc2', outChannels: h }),
      relu({ name: 'relu2' }),
      linear({ name: 'fc3', outChannels: 10 }),
    ],
  });
}

/**
 * Balanced: weights N(0, 1/fanIn), biases 0. Unbalanced (as the paper
 * describes it): the balanced weights, then 2H/4 hidden units drawn with
 * replacement, each with incoming weights × 10c and outgoing ÷ 10c, c
 * log-normal (exp of a standard normal). Same function, different scales.
 */
function initialWeights(
  spec: NetSpec,
  h: number,
  init: Init,
  seed: number,
): Record<string, Float32Array> {
  const rng = new Rng(seed);
  const w: Record<string, Float32Array> = {};
  const dims: [string, number, number][] = [
    ['fc1', 784, h],
    ['fc2', h, h],
    ['fc3', h, 10],
  ];
  for (const [name, fanIn, out] of dims) {
    w[`${name}/weight`] = rng.normalArray(fanIn * out, 0, 1 / Math.sqrt(fanIn));
    w[`${name}/bias`] = new Float32Array(out);
  }
  if (init === 'unbalanced') {
    const picks = Math.round((2 * h) / 4);
    for (let k = 0; k < picks; k++) {
      const layer = rng.int(2); // 0: fc1 → fc2, 1: fc2 → fc3
      const unit = rng.int(h);
      const c = 10 * Math.exp(rng.normal(0, 1));
      const [inName, outName, outWidth] = layer === 0 ? ['fc1', 'fc2', h] : ['fc2', 'fc3', 10];
      const win = w[`${inName}/weight`]!;
      for (let i = unit; i < win.length; i += h) win[i] = win[i]! * c;
      w[`${inName}/bias`]![unit]! *= c;
      const wout = w[`${outName}/weight`]!;
      for (let j = 0; j < outWidth; j++) wout[unit * outWidth + j] = wout[unit * outWidth + j]! / c;
    }
  }
  void spec;
  return w;
}

function makeModel(spec: NetSpec, weights: Record<string, Float32Array>): Model {
  const shapes: Record<string, number[]> = {};
  for (const l of spec.layers) {
    if (l.kind === 'linear') {
      shapes[`${l.name}/weight`] = [l.inChannels, l.outChannels];
      shapes[`${l.name}/bias`] = [l.outChannels];
    }
  }
  const params = tf.tidy(() => {
    const p: Record<string, tf.Tensor> = {};
    for (const [n, v] of Object.entries(weights)) p[n] = tf.tensor(v, shapes[n]!);
    return p;
  });
  const model = createModel(spec, params);
  tf.dispose(params);
  return model;
}

function makeOptimizer(name: OptName, lr: number, model: Model): tf.Optimizer {
  if (name === 'pathSgd') return new PathSgdOptimizer(model, lr);
  if (name === 'sgd') return tf.train.sgd(lr);
  return tf.train.adagrad(lr);
}

interface Data {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  count: number;
}
function toTensors(d: Digits): Data {
  return {
    x: tf.tensor4d(d.images, [d.count, 1, 1, 784]),
    y: tf.tensor1d(d.labels, 'int32'),
    count: d.count,
  };
}

function evaluate(model: Model, data: Data): { loss: number; acc: number } {
  let loss = 0;
  let correct = 0;
  for (let s = 0; s < data.count; s += 1000) {
    const n = Math.min(1000, data.count - s);
    const [l, c] = tf.tidy(() => {
      const x = tf.slice(data.x, [s, 0, 0, 0], [n, 1, 1, 784]);
      const y = tf.slice(data.y, [s], [n]);
      const logits = tf.reshape(model.apply(x), [n, 10]);
      const ce = tf.sum(
        tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(logits, tf.oneHot(y, 10)), 1)),
      );
      const right = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32'));
      return [ce, right];
    });
    loss += l.dataSync()[0]!;
    correct += c.dataSync()[0]!;
    tf.dispose([l, c]);
  }
  return { loss: loss / data.count, acc: correct / data.count };
}

/** Trains `model` for epochs [from, to), appending to `curve`. Shuffles with a per-epoch seed. */
function train(
  model: Model,
  opt: tf.Optimizer,
  train: Data,
  test: Data,
  from: number,
  to: number,
  curve: Curve,
  seed: number,
): void {
  const vars = model.variables();
  for (let epoch = from; epoch < to; epoch++) {
    if (!Number.isFinite(curve.trainLoss.at(-1)!)) {
      curve.trainLoss.push(Number.NaN);
      curve.trainAcc.push(curve.trainAcc.at(-1)!);
      curve.testErr.push(curve.testErr.at(-1)!);
      continue;
    }
    const perm = new Rng(seed * 1000 + epoch).permutation(train.count);
    for (let s = 0; s + batch <= train.count; s += batch) {
      const idx = tf.tensor1d(perm.subarray(s, s + batch), 'int32');
      const x = tf.gather(train.x, idx);
      const y = tf.oneHot(tf.gather(train.y, idx), 10);
      opt.minimize(
        () =>
          tf.losses.softmaxCrossEntropy(y, tf.reshape(model.apply(x), [batch, 10])) as tf.Scalar,
        false,
        vars,
      );
      tf.dispose([idx, x, y]);
    }
    record(model, train, test, curve);
  }
}

function record(model: Model, train: Data, test: Data, curve: Curve): void {
  const tr = evaluate(model, train);
  const te = evaluate(model, test);
  curve.trainLoss.push(tr.loss);
  curve.trainAcc.push(tr.acc);
  curve.testErr.push(1 - te.acc);
}

function runDataset(name: DatasetName): DatasetResult {
  const info = DATASETS[name];
  const root = join(here, '../../../../shared/data', info.dir);
  const shared = existsSync(root) ? root : join('/work/shared/data', info.dir);
  let trainDigits = readDigits(shared, info.train);
  if (trainDigits.count > trainSize) {
    const pick = new Rng(7).permutation(trainDigits.count).subarray(0, trainSize);
    trainDigits = subset(trainDigits, pick);
  }
  const testDigits = readDigits(shared, 't10k', testSize);
  const trainData = toTensors(trainDigits);
  const testData = toTensors(testDigits);
  const spec = mlpSpec(hidden);
  const out = {} as DatasetResult;
  for (const init of INITS) {
    out[init] = {} as Record<OptName, RunResult>;
    const weights = initialWeights(spec, hidden, init, 2015);
    const probe = makeModel(spec, weights);
    console.log(`# ${info.label}, ${init}: path norm at init ${pathNorm(probe).toExponential(3)}`);
    probe.dispose();
    for (const optName of OPTIMIZERS) {
      const t0 = performance.now();
      const tried: { alpha: number; model: Model; opt: tf.Optimizer; curve: Curve }[] = [];
      for (const alpha of GRID[optName]) {
        const model = makeModel(spec, weights);
        const opt = makeOptimizer(optName, 10 ** -alpha, model);
        const curve: Curve = { trainLoss: [], trainAcc: [], testErr: [] };
        record(model, trainData, testData, curve);
        train(model, opt, trainData, testData, 0, selectEpochs, curve, 1);
        tried.push({ alpha, model, opt, curve });
        console.log(
          `  ${optName} α=${alpha}: train loss ${curve.trainLoss.at(-1)!.toFixed(4)} after ${selectEpochs} epochs`,
        );
      }
      const score = (c: Curve) =>
        Number.isFinite(c.trainLoss.at(-1)!) ? c.trainLoss.at(-1)! : Infinity;
      tried.sort((a, b) => score(a.curve) - score(b.curve));
      const best = tried[0]!;
      for (const t of tried.slice(1)) {
        t.opt.dispose();
        t.model.dispose();
      }
      train(best.model, best.opt, trainData, testData, selectEpochs, epochs, best.curve, 1);
      const hit = best.curve.trainAcc.findIndex((a) => a >= 0.99);
      const hit90 = best.curve.trainAcc.findIndex((a) => a >= 0.9);
      const result: RunResult = {
        ...best.curve,
        alpha: best.alpha,
        learningRate: 10 ** -best.alpha,
        epochsTo99: hit >= 0 ? hit : null,
        epochsTo90: hit90 >= 0 ? hit90 : null,
        finalTestErr: best.curve.testErr.at(-1)!,
        grid: Object.fromEntries(tried.map((t) => [String(t.alpha), score(t.curve)])),
        seconds: (performance.now() - t0) / 1000,
      };
      out[init][optName] = result;
      console.log(
        `${info.label.padEnd(13)} ${init.padEnd(10)} ${optName.padEnd(7)} α=${best.alpha}  epochs to 99% ${String(result.epochsTo99 ?? '—').padStart(3)}  final test err ${(100 * result.finalTestErr).toFixed(2)} %  train loss ${best.curve.trainLoss.at(-1)!.toFixed(4)}  (${result.seconds.toFixed(0)} s)`,
      );
      best.opt.dispose();
      best.model.dispose();
    }
  }
  tf.dispose([trainData.x, trainData.y, testData.x, testData.y]);
  return out;
}

const resultsDir = join(here, 'results');
const cacheFile = (name: DatasetName) => join(resultsDir, `${name}${quick ? '-quick' : ''}.json`);

async function main(): Promise<void> {
  const report = await initBackend();
  const only = value('only') as DatasetName | undefined;
  if (only !== undefined && !(only in DATASETS))
    throw new Error(`--only ${only}: expected mnist or fashion`);
  const names: DatasetName[] = only ? [only] : ['mnist', 'fashion'];
  console.log(
    `Path-SGD experiment: MLP 784-${hidden}-${hidden}-10, ${trainSize} train / ${testSize} test, batch ${batch}, ${epochs} epochs (α chosen after ${selectEpochs}), backend ${report.backend}${report.simd ? '+simd' : ''}`,
  );
  const all: Partial<Record<DatasetName, DatasetResult>> = {};
  mkdirSync(resultsDir, { recursive: true });
  for (const n of names) {
    if (flag('report')) {
      all[n] = JSON.parse(readFileSync(cacheFile(n), 'utf8')).result;
      continue;
    }
    all[n] = runDataset(n);
    writeFileSync(
      cacheFile(n),
      `${JSON.stringify({ hidden, epochs, selectEpochs, trainSize, testSize, grid: GRID, result: all[n] })}\n`,
    );
  }
  if (only) return;
  printTable(all);
  const svg = renderSvg(
    names.flatMap((n) =>
      INITS.map((init) => ({
        title: `${DATASETS[n].label}, ${init}`,
        runs: OPTIMIZERS.map((o) => ({ name: o, ...all[n]![init][o] })),
      })),
    ),
    `ReLU MLP 784-${hidden}-${hidden}-10, ${trainSize} training images, minibatch ${batch}`,
  );
  writeFileSync(join(here, quick ? 'results/curves-quick.svg' : 'curves.svg'), svg);
  const pick = (d: DatasetResult | undefined, init: Init, key: 'epochsTo99' | 'finalTestErr') =>
    d === undefined ? null : Object.fromEntries(OPTIMIZERS.map((o) => [o, d[init][o][key]]));
  const result: Record<string, unknown> = { hidden, epochs, quick };
  for (const n of names) {
    result[n] = {
      unbalanced: {
        epochsTo99: pick(all[n], 'unbalanced', 'epochsTo99'),
        finalTestErr: pick(all[n], 'unbalanced', 'finalTestErr'),
      },
      balanced: {
        epochsTo99: pick(all[n], 'balanced', 'epochsTo99'),
        finalTestErr: pick(all[n], 'balanced', 'finalTestErr'),
      },
    };
  }
  console.log(`RESULT ${JSON.stringify(result)}`);
}

function printTable(all: Partial<Record<DatasetName, DatasetResult>>): void {
  console.log(
    '\n| data set | init | optimizer | α | epochs to 99 % train acc | epochs to 90 % | final train loss | final test error |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const [n, d] of Object.entries(all) as [DatasetName, DatasetResult][]) {
    for (const init of INITS) {
      for (const o of OPTIMIZERS) {
        const r = d[init][o];
        console.log(
          `| ${DATASETS[n].label} | ${init} | ${o} | ${r.alpha} | ${r.epochsTo99 ?? `not in ${epochs}`} | ${r.epochsTo90 ?? '—'} | ${r.trainLoss.at(-1)!.toFixed(4)} | ${(100 * r.finalTestErr).toFixed(2)} % |`,
        );
      }
    }
  }
}

await main();
