// Step time of Path-SGD over plain SGD (the anchor: tf.train.sgd, same run,
// same model, same batch), on the MLP of the experiment and on the dense
// segmentation backbone of @seg/dense-conv.
//
//   npx pnpm@10.34.8 --filter @seg/path-sgd bench [--quick]
//
// Steps of the optimizers are interleaved round by round and the medians
// compared, so that load from other processes hits both alike. The ratio is
// taken on process CPU time (wasm runs on this one thread), which other
// processes sharing the cores disturb far less than wall time; wall-clock
// medians are printed too.
import {
  createModel,
  defineNet,
  denseForward,
  linear,
  type Model,
  relu,
  segmentationBackbone,
} from '@seg/dense-conv';
import { initBackend, Rng } from '@seg/tensor';
import { median } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { PathSgdOptimizer } from '../src/index.js';

const quick = process.argv.includes('--quick');
const rounds = quick ? 8 : 25;

interface Case {
  name: string;
  model: Model;
  loss: () => tf.Scalar;
  dispose: () => void;
}

function mlpCase(h: number): Case {
  const spec = defineNet({
    inChannels: 784,
    layers: [
      linear({ name: 'fc1', outChannels: h }),
      relu(),
      linear({ name: 'fc2', outChannels: h }),
      relu(),
      linear({ name: 'fc3', outChannels: 10 }),
    ],
  });
  const model = createModel(spec, 1);
  const rng = new Rng(2);
  const x = tf.tensor4d(rng.uniformArray(100 * 784, 0, 1), [100, 1, 1, 784]);
  const y = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: 100 }, () => rng.int(10)),
      'int32',
    ),
    10,
  );
  return {
    name: `MLP 784-${h}-${h}-10, batch 100`,
    model,
    loss: () =>
      tf.losses.softmaxCrossEntropy(y, tf.reshape(model.apply(x), [100, 10])) as tf.Scalar,
    dispose: () => {
      tf.dispose([x, y]);
      model.dispose();
    },
  };
}

function backboneCase(size: number): Case {
  const net = segmentationBackbone({ numClasses: 2, seed: 3 });
  const rng = new Rng(4);
  const image = tf.tensor3d(rng.uniformArray(size * size * 3, 0, 1), [size, size, 3]);
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: size * size }, () => rng.int(2)),
      'int32',
    ),
    2,
  );
  return {
    name: `segmentation backbone (dense), ${size}×${size} image`,
    model: net.dense,
    loss: () =>
      tf.losses.softmaxCrossEntropy(
        labels,
        tf.reshape(denseForward(net.dense, image), [size * size, 2]),
      ) as tf.Scalar,
    dispose: () => {
      tf.dispose([image, labels]);
      net.dispose();
    },
  };
}

interface Timing {
  wall: number;
  cpu: number;
}

function timeStep(opt: tf.Optimizer, c: Case): Timing {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const cost = opt.minimize(c.loss, true, c.model.variables());
  cost!.dataSync();
  cost!.dispose();
  // make sure the variable updates have run
  c.model.variables()[0]!.dataSync();
  const wall = performance.now() - t0;
  const used = process.cpuUsage(c0);
  return { wall, cpu: (used.user + used.system) / 1000 };
}

interface CaseResult {
  sgd: number;
  pathSgd: number;
  pathSgd10: number;
  ratio: number;
  wallSgd: number;
  wallPathSgd: number;
}

function run(c: Case): CaseResult {
  const lr = 1e-4;
  const opts = {
    sgd: tf.train.sgd(lr) as tf.Optimizer,
    pathSgd: new PathSgdOptimizer(c.model, lr) as tf.Optimizer,
    pathSgd10: new PathSgdOptimizer(c.model, lr, { refreshEvery: 10 }) as tf.Optimizer,
  };
  const times: Record<keyof typeof opts, Timing[]> = { sgd: [], pathSgd: [], pathSgd10: [] };
  for (const o of Object.values(opts)) for (let i = 0; i < 2; i++) timeStep(o, c);
  for (let r = 0; r < rounds; r++) {
    for (const [k, o] of Object.entries(opts) as [keyof typeof opts, tf.Optimizer][]) {
      times[k].push(timeStep(o, c));
    }
  }
  for (const o of Object.values(opts)) o.dispose();
  const cpu = (k: keyof typeof opts) => median(times[k].map((t) => t.cpu));
  const wall = (k: keyof typeof opts) => median(times[k].map((t) => t.wall));
  const sgd = cpu('sgd');
  const pathSgd = cpu('pathSgd');
  return {
    sgd,
    pathSgd,
    pathSgd10: cpu('pathSgd10'),
    ratio: pathSgd / sgd,
    wallSgd: wall('sgd'),
    wallPathSgd: wall('pathSgd'),
  };
}

const report = await initBackend();
console.log(
  `Path-SGD step time vs SGD — backend ${report.backend}${report.simd ? '+simd' : ''}, ${rounds} interleaved rounds, medians${quick ? ' (quick)' : ''}\n`,
);
const cases = [mlpCase(quick ? 500 : 1000), backboneCase(quick ? 48 : 96)];
const rows: { name: string; r: CaseResult }[] = [];
console.log(
  '| model | SGD ms/step (CPU) | Path-SGD ms/step (CPU) | ratio | Path-SGD, γ every 10 steps | ratio | wall ms SGD / Path-SGD |',
);
console.log('|---|---|---|---|---|---|---|');
for (const c of cases) {
  const r = run(c);
  rows.push({ name: c.name, r });
  console.log(
    `| ${c.name} | ${r.sgd.toFixed(1)} | ${r.pathSgd.toFixed(1)} | ${r.ratio.toFixed(2)} | ${r.pathSgd10.toFixed(1)} | ${(r.pathSgd10 / r.sgd).toFixed(2)} | ${r.wallSgd.toFixed(0)} / ${r.wallPathSgd.toFixed(0)} |`,
  );
  c.dispose();
}
const [mlp, backbone] = rows;
console.log(
  `\ntarget: ratio ≤ 1.3 — MLP ${mlp!.r.ratio <= 1.3 ? 'met' : 'missed'}, backbone ${backbone!.r.ratio <= 1.3 ? 'met' : 'missed'}`,
);
console.log(
  `BENCH ${JSON.stringify({
    stepRatioMlp: +mlp!.r.ratio.toFixed(3),
    stepRatioBackbone: +backbone!.r.ratio.toFixed(3),
    mlpSgdMs: +mlp!.r.sgd.toFixed(2),
    mlpPathSgdMs: +mlp!.r.pathSgd.toFixed(2),
    backboneSgdMs: +backbone!.r.sgd.toFixed(2),
    backbonePathSgdMs: +backbone!.r.pathSgd.toFixed(2),
    stepRatioMlpWall: +(mlp!.r.wallPathSgd / mlp!.r.wallSgd).toFixed(3),
    stepRatioBackboneWall: +(backbone!.r.wallPathSgd / backbone!.r.wallSgd).toFixed(3),
    stepRatioMlpRefresh10: +(mlp!.r.pathSgd10 / mlp!.r.sgd).toFixed(3),
    stepRatioBackboneRefresh10: +(backbone!.r.pathSgd10 / backbone!.r.sgd).toFixed(3),
    rounds,
    backend: report.backend,
  })}`,
);
