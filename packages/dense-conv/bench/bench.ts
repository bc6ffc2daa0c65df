// Benchmark of @seg/dense-conv:
//  1. dense evaluation (eConv / ePool) vs sliding-window evaluation of the same
//     patch classifier on a 256×256 image: every pixel's window through the
//     patch model, batched; speed-up, max abs difference, peak memory;
//  2. the segmentation backbone's training step (dense forward + backward) on
//     321×321 and 640×480 images, wasm backend.
// Flags: --quick (about a minute: sliding windows on a sample of rows,
// extrapolated), --backend wasm|cpu.
import { initBackend, Rng } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import {
  conv2d,
  createModel,
  defineNet,
  denseForward,
  densePads,
  type Model,
  maxPool,
  type NetSpec,
  receptiveField,
  relu,
  segmentationBackbone,
} from '../src/index.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const backendArg = args.includes('--backend') ? args[args.indexOf('--backend') + 1] : 'wasm';
const report = await initBackend({ backend: backendArg === 'cpu' ? 'cpu' : 'wasm' });
const SIZE = 256;

/** A patch classifier in the style of Li et al. (arXiv 1412.4526): conv-pool stages, RF 36. */
function liStyleSpec(): NetSpec {
  return defineNet({
    inChannels: 3,
    layers: [
      conv2d({ name: 'conv1', outChannels: 16, filterSize: 5 }),
      relu(),
      maxPool({ name: 'pool1', size: 2 }),
      conv2d({ name: 'conv2', outChannels: 24, filterSize: 5 }),
      relu(),
      maxPool({ name: 'pool2', size: 2 }),
      conv2d({ name: 'conv3', outChannels: 32, filterSize: 3 }),
      relu(),
      maxPool({ name: 'pool3', size: 2 }),
      conv2d({ name: 'fc', outChannels: 32, filterSize: 2 }),
      relu(),
      conv2d({ name: 'classify', outChannels: 2, filterSize: 1 }),
    ],
  });
}

interface SlidingResult {
  denseMs: number;
  slidingMs: number;
  slidingComputeMs: number;
  rowsEvaluated: number;
  maxAbsDiff: number;
  densePeakBytes: number;
  slidingPeakBytes: number;
}

function time<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const out = f();
  return [out, performance.now() - t0];
}

/** All windows whose centres lie on image rows [r0, r1), batched: [(r1−r0)·W, R, R, C]. */
function rowWindows(
  padded: tf.Tensor4D,
  r0: number,
  r1: number,
  R: [number, number],
  width: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const band = tf.squeeze(tf.slice(padded, [0, r0, 0, 0], [1, r1 - r0 + R[0] - 1, -1, -1]), [0]); // [rows+R-1, Wp, C]
    const idx = new Int32Array(width * R[1]);
    for (let j = 0; j < width; j++) for (let v = 0; v < R[1]; v++) idx[j * R[1] + v] = j + v;
    const cols = tf.gather(band, tf.tensor1d(idx, 'int32'), 1); // [rows+R-1, W·R, C]
    const c = padded.shape[3];
    const parts: tf.Tensor[] = [];
    for (let i = 0; i < r1 - r0; i++) {
      const rows = tf.reshape(tf.slice(cols, [i, 0, 0], [R[0], -1, -1]), [R[0], width, R[1], c]);
      parts.push(tf.transpose(rows, [1, 0, 2, 3]));
    }
    return tf.concat(parts, 0) as tf.Tensor4D;
  });
}

function compareSliding(model: Model, rowsPerBatch: number, sampleRows: number): SlidingResult {
  const spec = model.spec;
  const R = receptiveField(spec).size;
  const rng = new Rng(7);
  const image = tf.tensor3d(rng.uniformArray(SIZE * SIZE * spec.inChannels, 0, 1), [
    SIZE,
    SIZE,
    spec.inChannels,
  ]);
  // warm-up (kernels, wasm memory growth)
  tf.dispose(denseForward(model, image));
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, tf.memory().numBytes);
  };
  const times: number[] = [];
  let dense: tf.Tensor = tf.zeros([1]);
  for (let k = 0; k < 3; k++) {
    dense.dispose();
    const before = tf.memory().numBytes;
    peak = before;
    const [out, ms] = time(() => {
      const y = denseForward(model, image);
      y.dataSync();
      return y;
    });
    sample();
    dense = out;
    times.push(ms);
    if (k === 0) peak -= before;
  }
  const densePeakBytes = peak;
  const denseMs = Math.min(...times);
  // sliding windows: the same padded image, one window per pixel
  const pads = densePads(spec);
  const padded = tf.tidy(
    () =>
      tf.mirrorPad(
        tf.expandDims(image, 0),
        [[0, 0], pads[0], pads[1], [0, 0]],
        'reflect',
      ) as tf.Tensor4D,
  );
  const rows: number[] = [];
  const step = Math.max(1, Math.floor(SIZE / sampleRows));
  for (let r = 0; r < SIZE && rows.length < sampleRows; r += step) rows.push(r);
  let slidingMs = 0;
  let computeMs = 0;
  let maxAbsDiff = 0;
  const denseData = dense.dataSync();
  const K = spec.outChannels;
  const base = tf.memory().numBytes;
  peak = 0;
  for (let b = 0; b < rows.length; b += rowsPerBatch) {
    const batchRows = rows.slice(b, b + rowsPerBatch);
    const t0 = performance.now();
    const wins = tf.concat(batchRows.map((r) => rowWindows(padded, r, r + 1, R, SIZE)));
    const t1 = performance.now();
    const y = model.apply(wins);
    const data = y.dataSync();
    const t2 = performance.now();
    peak = Math.max(peak, tf.memory().numBytes - base);
    slidingMs += t2 - t0;
    computeMs += t2 - t1;
    batchRows.forEach((r, i) => {
      for (let j = 0; j < SIZE * K; j++) {
        maxAbsDiff = Math.max(
          maxAbsDiff,
          Math.abs(data[i * SIZE * K + j]! - denseData[r * SIZE * K + j]!),
        );
      }
    });
    tf.dispose([wins, y]);
  }
  const scale = SIZE / rows.length;
  tf.dispose([image, padded, dense]);
  return {
    denseMs,
    slidingMs: slidingMs * scale,
    slidingComputeMs: computeMs * scale,
    rowsEvaluated: rows.length,
    maxAbsDiff,
    densePeakBytes,
    slidingPeakBytes: peak,
  };
}

function stepTimes(
  height: number,
  width: number,
  reps: number,
): { forwardMs: number; stepMs: number } {
  const net = segmentationBackbone({ numClasses: 2, coords: true, seed: 1 });
  const rng = new Rng(3);
  const x = tf.tensor3d(rng.uniformArray(height * width * 5, 0, 1), [height, width, 5]);
  const codes = tf.tensor1d(
    Int32Array.from({ length: height * width }, () => rng.int(2)),
    'int32',
  );
  const labels = tf.reshape(tf.oneHot(codes, 2), [height, width, 2]);
  codes.dispose();
  const loss = () =>
    tf.neg(
      tf.mean(tf.sum(tf.mul(tf.logSoftmax(denseForward(net.dense, x)), labels), -1)),
    ) as tf.Scalar;
  const fwd: number[] = [];
  const step: number[] = [];
  for (let k = 0; k < reps + 1; k++) {
    const [, f] = time(() => {
      const l = tf.tidy(loss);
      l.dataSync();
      l.dispose();
    });
    const [, s] = time(() => {
      const { value, grads } = tf.variableGrads(loss, net.dense.variables());
      for (const g of Object.values(grads)) g.dataSync();
      tf.dispose([value, grads]);
    });
    if (k > 0) {
      fwd.push(f);
      step.push(s);
    }
  }
  tf.dispose([x, labels]);
  net.dispose();
  const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
  return { forwardMs: median(fwd), stepMs: median(step) };
}

const mb = (b: number) => (b / 2 ** 20).toFixed(1);
console.log(
  `@seg/dense-conv benchmark — backend ${report.backend}${report.simd ? ' (SIMD)' : ''}, ${quick ? 'quick' : 'full'}`,
);
const classifiers: Array<[string, Model]> = [
  ['li-style (RF 36, stride 8)', createModel(liStyleSpec(), 1)],
  ['backbone (RF 20, stride 4)', segmentationBackbone({ coords: false, seed: 1 }).patch],
];
const results: Record<string, SlidingResult> = {};
console.log('\nDense vs sliding-window evaluation, 256×256 image, one window per pixel');
console.log(
  '| classifier | RF | dense ms | sliding ms (compute only) | speed-up | max abs diff | peak tensor MB dense / sliding | rows run |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const [name, model] of classifiers) {
  const r = compareSliding(model, 4, quick ? 16 : SIZE);
  results[name] = r;
  const rf = receptiveField(model.spec).size[0];
  console.log(
    `| ${name} | ${rf} | ${r.denseMs.toFixed(1)} | ${r.slidingMs.toFixed(0)} (${r.slidingComputeMs.toFixed(0)}) | ${(r.slidingMs / r.denseMs).toFixed(0)}× (${(r.slidingComputeMs / r.denseMs).toFixed(0)}×) | ${r.maxAbsDiff.toExponential(2)} | ${mb(r.densePeakBytes)} / ${mb(r.slidingPeakBytes)} | ${r.rowsEvaluated}/${SIZE} |`,
  );
  model.dispose();
}
console.log('\nBackbone training step (denseForward + softmax CE + gradients of all parameters)');
console.log('| image | forward ms | forward+backward ms |');
console.log('|---|---|---|');
const steps: Record<string, { forwardMs: number; stepMs: number }> = {};
for (const [h, w] of [
  [321, 321],
  [480, 640],
] as const) {
  const s = stepTimes(h, w, quick ? 2 : 5);
  steps[`${w}x${h}`] = s;
  console.log(`| ${w}×${h} | ${s.forwardMs.toFixed(0)} | ${s.stepMs.toFixed(0)} |`);
}
const head = results[classifiers[0]![0]]!;
const bb = results[classifiers[1]![0]]!;
const rss = process.memoryUsage().rss;
console.log(`\nprocess RSS at the end: ${mb(rss)} MB`);
console.log(
  `BENCH ${JSON.stringify({
    backend: report.backend,
    quick,
    speedupVsSlidingWindow: +(head.slidingMs / head.denseMs).toFixed(1),
    speedupVsSlidingWindowComputeOnly: +(head.slidingComputeMs / head.denseMs).toFixed(1),
    maxAbsDiff: Math.max(head.maxAbsDiff, bb.maxAbsDiff),
    denseMs: +head.denseMs.toFixed(2),
    slidingMs: +head.slidingMs.toFixed(1),
    densePeakMB: +mb(head.densePeakBytes),
    slidingPeakMB: +mb(head.slidingPeakBytes),
    backboneSpeedupVsSlidingWindow: +(bb.slidingMs / bb.denseMs).toFixed(1),
    backboneStepMs321: +steps['321x321']!.stepMs.toFixed(1),
    backboneStepMs640x480: +steps['640x480']!.stepMs.toFixed(1),
    backboneForwardMs321: +steps['321x321']!.forwardMs.toFixed(1),
    backboneForwardMs640x480: +steps['640x480']!.forwardMs.toFixed(1),
    rssMB: +mb(rss),
  })}`,
);
