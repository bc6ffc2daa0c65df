// Where @seg stands against what a user would run instead, on the three
// compute-bound cases of issue 19, all in one run:
//   pixelNetStepMs  one Adam step (lr 0.01) of optim-adm's pixel net
//                   (createPixelNet: 9 input channels, width 16) on 120×90,
//                   mean cross-entropy over every pixel;
//   n4DenseMs       the dense forward of Cireşan et al.'s N4 on a 256×256
//                   image (eConv / ePool, @seg/dense-conv), 256×256 outputs;
//   mlpSgdStepMs    one SGD step (lr 0.01) of the 784-1000-1000-10 ReLU MLP,
//                   batch 100.
// The same shapes as ../shared/bench/anchors/torch_steps.py, which this script
// runs right after @seg's figures (1 and 2 threads, the faster counts) wherever
// `import torch` works in python3 (or Debian's /usr/bin/python3 with
// python3-torch); elsewhere it says the anchor was skipped. Never a constant.
//
//   npx -y pnpm@10.34.8 bench:compare [--quick]
//
// Prints a table, then `BENCH {json}` with pixelNetStepMs, n4DenseMs,
// mlpSgdStepMs and, when the anchor ran, …RatioTorch (@seg / PyTorch's best).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  conv2d,
  createModel,
  defineNet,
  denseForward,
  linear,
  maxPool,
  relu,
} from '@seg/dense-conv';
import { createPixelNet } from '@seg/optim-adm';
import { initBackend, Rng } from '@seg/tensor';
import { median, sharedDir } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
  },
  strict: true,
});
const quick = args.quick;
const reps = quick ? 5 : 21;
const load = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');

/** Median wall time of `fn` (ms) over `n` runs after 3 warm-up runs; `fn` must finish its work (dataSync). */
function timed(fn: () => void, n: number): number {
  for (let i = 0; i < 3; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

function pixelNetStep(): number {
  const net = createPixelNet({ numClasses: 2, width: 16, seed: 1 });
  const rng = new Rng(1);
  const [h, w] = [90, 120];
  const x = tf.tensor4d(rng.uniformArray(h * w * 9, -1, 1), [1, h, w, 9]);
  const y = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: h * w }, () => rng.int(2)),
      'int32',
    ),
    2,
  );
  const optimizer = tf.train.adam(0.01);
  const vars = net.model.variables();
  const step = () => {
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(y, tf.reshape(net.forward(x), [h * w, 2])) as tf.Scalar,
      true,
      vars,
    );
    loss!.dataSync();
    loss!.dispose();
  };
  const ms = timed(step, reps * 5);
  optimizer.dispose();
  tf.dispose([x, y]);
  net.dispose();
  return ms;
}

function n4Dense(): number {
  // Cireşan et al., NIPS 2012, N4 (ReLU units, as in torch_steps.py): RF 95, stride 16
  const stages: [number, number][] = [
    [48, 4],
    [48, 5],
    [48, 4],
    [48, 4],
  ];
  const spec = defineNet({
    inChannels: 1,
    layers: [
      ...stages.flatMap(([outChannels, filterSize], i) => [
        conv2d({ name: `conv${i + 1}`, outChannels, filterSize }),
        relu(),
        maxPool({ name: `pool${i + 1}`, size: 2 }),
      ]),
      conv2d({ name: 'fc', outChannels: 200, filterSize: 3 }),
      relu(),
      conv2d({ name: 'classify', outChannels: 2, filterSize: 1 }),
    ],
  });
  const model = createModel(spec, 1);
  const rng = new Rng(2);
  const image = tf.tensor3d(rng.uniformArray(256 * 256, 0, 1), [256, 256, 1]);
  const run = () => {
    const out = denseForward(model, image, { memoryBudget: Number.POSITIVE_INFINITY });
    if (out.shape[0] !== 256 || out.shape[1] !== 256) throw new Error(`N4: output ${out.shape}`);
    out.dataSync();
    out.dispose();
  };
  const ms = timed(run, quick ? 3 : 9);
  image.dispose();
  model.dispose();
  return ms;
}

function mlpSgdStep(): number {
  const spec = defineNet({
    inChannels: 784,
    layers: [
      linear({ name: 'fc1', outChannels: 1000 }),
      relu(),
      linear({ name: 'fc2', outChannels: 1000 }),
      relu(),
      linear({ name: 'fc3', outChannels: 10 }),
    ],
  });
  const model = createModel(spec, 3);
  const rng = new Rng(3);
  const x = tf.tensor4d(rng.uniformArray(100 * 784, 0, 1), [100, 1, 1, 784]);
  const y = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: 100 }, () => rng.int(10)),
      'int32',
    ),
    10,
  );
  const optimizer = tf.train.sgd(0.01);
  const vars = model.variables();
  const step = () => {
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(y, tf.reshape(model.apply(x), [100, 10])) as tf.Scalar,
      true,
      vars,
    );
    loss!.dataSync();
    loss!.dispose();
  };
  const ms = timed(step, reps * 2);
  optimizer.dispose();
  tf.dispose([x, y]);
  model.dispose();
  return ms;
}

interface TorchFigures {
  threads: number;
  version: string;
  pixelNetStepMs: number;
  n4DenseMs: number;
  mlpSgdStepMs: number;
}

/** A python3 that can `import torch`, or null. */
function torchPython(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

function runTorch(py: string, script: string, threads: number): TorchFigures {
  const out = execFileSync(
    py,
    [script, '--threads', String(threads), ...(quick ? ['--quick'] : [])],
    {
      encoding: 'utf8',
    },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as TorchFigures;
}

const report = await initBackend();
console.log(
  `@seg: tfjs ${tf.version_core}, backend ${report.backend}, SIMD ${report.simd}, threads ${report.threads}; load ${load()}`,
);
const seg = {
  pixelNetStepMs: pixelNetStep(),
  n4DenseMs: n4Dense(),
  mlpSgdStepMs: mlpSgdStep(),
};
const segLoad = load();

const shared = sharedDir();
const script = shared ? join(shared, 'bench/anchors/torch_steps.py') : null;
const py = script && existsSync(script) ? torchPython() : null;
let torch: TorchFigures[] = [];
let skipped = '';
if (!script || !existsSync(script))
  skipped = 'no ../shared/bench/anchors/torch_steps.py on this machine';
else if (!py)
  skipped = 'python3 cannot `import torch` here (Debian: apt-get install python3-torch)';
else torch = [1, 2].map((t) => runTorch(py, script, t));
const torchLoad = load();

type Key = 'pixelNetStepMs' | 'n4DenseMs' | 'mlpSgdStepMs';
const cases: [Key, string][] = [
  ['pixelNetStepMs', "pixel-net Adam step (optim-adm's net, 120×90, 9 channels)"],
  ['n4DenseMs', 'N4 dense forward, 256×256 (dense-conv)'],
  ['mlpSgdStepMs', 'MLP 784-1000-1000-10 SGD step, batch 100'],
];
const best = (k: Key) => Math.min(...torch.map((t) => t[k]));
const fmt = (v: number) => v.toFixed(2);
console.log(
  `\n| case | @seg ms | PyTorch 1 thread ms | PyTorch 2 threads ms | ratio (@seg / best PyTorch) |\n|---|---|---|---|---|`,
);
const bench: Record<string, unknown> = {
  backend: report.backend,
  simd: report.simd,
  threads: report.threads,
  ...Object.fromEntries(Object.entries(seg).map(([k, v]) => [k, +v.toFixed(3)])),
};
for (const [key, name] of cases) {
  const t1 = torch.find((t) => t.threads === 1)?.[key];
  const t2 = torch.find((t) => t.threads === 2)?.[key];
  const ratio = torch.length ? seg[key] / best(key) : undefined;
  if (ratio !== undefined) bench[key.replace(/Ms$/, 'RatioTorch')] = +ratio.toFixed(3);
  console.log(
    `| ${name} | ${fmt(seg[key])} | ${t1 === undefined ? '—' : fmt(t1)} | ${t2 === undefined ? '—' : fmt(t2)} | ${ratio === undefined ? '—' : ratio.toFixed(2)} |`,
  );
}
if (skipped) console.log(`\nPyTorch anchor skipped: ${skipped}.`);
else console.log(`\nPyTorch ${torch[0]!.version} (CPU), ${py}; load after it: ${torchLoad}`);
console.log(`load average (1, 5, 15 min) after @seg: ${segLoad}`);
bench.torch = skipped ? { skipped } : { version: torch[0]!.version, python: py };
bench.loadAverage = loadavg().map((v) => +v.toFixed(2));
console.log(`BENCH ${JSON.stringify(bench)}`);
