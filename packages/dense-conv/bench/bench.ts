// Benchmark of @seg/dense-conv:
//  1. dense evaluation (eConv / ePool) vs sliding-window evaluation of the same
//     patch classifier on a 256×256 image (`--size N`: N×N): every pixel's window through the
//     patch model, batched; speed-up, max abs difference over every window,
//     peak tensor memory, and the multiply-accumulate (MAC) ratio that bounds
//     the speed-up when both sides run at the same MAC rate;
//  2. the segmentation backbone's training step (dense forward + backward) on
//     321×321 and 640×480 images, wasm backend.
// Both sides run forward only, so max pools take tfjs's native MaxPool
// (pool2d's forward-only path) on both. The sliding windows are copied out of
// the padded image in JS (timed separately), and the batch size is the
// fastest of a short calibration.
// Flags: --quick (sliding windows on a sample of rows, extrapolated),
// --only li,large,n4,backbone (classifiers to run), --no-train (skip 2.),
// --backend wasm|cpu, --size N (image side, default 256), --rows N (with
// --quick: how many rows of windows to run).
import { loadavg } from 'node:os';
import { initBackend, Rng } from '@seg/tensor';
import { median } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import {
  conv2d,
  createModel,
  defineNet,
  denseForward,
  densePads,
  type LayerInput,
  layerSizes,
  linear,
  type Model,
  maxPool,
  type NetSpec,
  receptiveField,
  relu,
  segmentationBackbone,
  toDenseSpec,
} from '../src/index.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const train = !args.includes('--no-train');
const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const backendArg = flag('--backend') ?? 'wasm';
const only = flag('--only')?.split(',');
const report = await initBackend({ backend: backendArg === 'cpu' ? 'cpu' : 'wasm' });
const SIZE = Number(flag('--size') ?? 256);
// The dense side is one pass over the whole image, whatever its size: the
// method as such. (denseForward's default memory budget would cut images
// above about 800×800 into bands of rows for N4, recomputing their overlap.)
const ONE_PASS = { memoryBudget: Number.POSITIVE_INFINITY };
if (!Number.isInteger(SIZE) || SIZE < 96)
  throw new Error(`bench: --size ${flag('--size')}: expected an integer ≥ 96`);

/**
 * A patch classifier of conv → ReLU → 2×2/2 max-pool stages (`[maps, filter
 * size]` each, layers conv1/pool1, conv2/pool2, …), then the hidden layer
 * `fc` → ReLU → `classify` to 2 scores (a 1×1 convolution, or a per-pixel
 * dense layer when `fc` is one).
 */
function convPoolNet(
  inChannels: number,
  stages: [number, number][],
  fc: LayerInput,
  classify: 'conv' | 'dense',
): NetSpec {
  return defineNet({
    inChannels,
    layers: [
      ...stages.flatMap(([outChannels, filterSize], i) => [
        conv2d({ name: `conv${i + 1}`, outChannels, filterSize }),
        relu(),
        maxPool({ name: `pool${i + 1}`, size: 2 }),
      ]),
      fc,
      relu(),
      classify === 'conv'
        ? conv2d({ name: 'classify', outChannels: 2, filterSize: 1 })
        : linear({ name: 'classify', outChannels: 2 }),
    ],
  });
}

/** A patch classifier in the style of Li et al. (arXiv 1412.4526): conv-pool stages, RF 36. */
function liStyleSpec(): NetSpec {
  return convPoolNet(
    3,
    [
      [16, 5],
      [24, 5],
      [32, 3],
    ],
    conv2d({ name: 'fc', outChannels: 32, filterSize: 2 }),
    'conv',
  );
}

/**
 * A larger patch classifier, at the scale of the classic sliding-window pixel
 * classifiers (Ciresan et al., NIPS 2012: a window of about 65 pixels
 * through four conv–max-pool stages and a hidden layer). Widths and filter
 * sizes are ours: four 48-map conv (4, 5, 4, 4) + 2×2/2 max-pool stages,
 * dense 200, dense 2; receptive field 63, stride 16.
 */
function largeSpec(): NetSpec {
  return convPoolNet(
    3,
    [
      [48, 4],
      [48, 5],
      [48, 4],
      [48, 4],
    ],
    linear({ name: 'fc', outChannels: 200 }),
    'dense',
  );
}

/**
 * Network N4 of D. C. Cireşan, A. Giusti, L. M. Gambardella, J. Schmidhuber,
 * "Deep Neural Networks Segment Neuronal Membranes in Electron Microscopy
 * Images", NIPS 2012, Table 1: a 95×95 grayscale window (1 input channel, as
 * published); conv 4×4, 48 maps (→ 92); max-pool 2 (→ 46); conv 5×5, 48
 * (→ 42); max-pool 2 (→ 21); conv 4×4, 48 (→ 18); max-pool 2 (→ 9); conv
 * 4×4, 48 (→ 6); max-pool 2 (→ 3); fully connected 200; fully connected 2.
 * The layer sizes are the paper's; the units are ReLU here (the paper used
 * scaled tanh). The fully connected 200 layer reads the 3×3×48 map, so it is
 * a 3×3 'valid' convolution to 200 maps; the last one a 1×1 convolution to 2.
 * Receptive field 95, stride 16.
 */
function ciresanN4Spec(): NetSpec {
  return convPoolNet(
    1,
    [
      [48, 4],
      [48, 5],
      [48, 4],
      [48, 4],
    ],
    conv2d({ name: 'fc', outChannels: 200, filterSize: 3 }),
    'conv',
  );
}

/** Multiply-accumulates of one forward pass of `spec` on an h×w input. */
function macs(spec: NetSpec, size: [number, number]): number {
  const sizes = layerSizes(spec, size);
  let total = 0;
  for (const l of spec.layers) {
    const [h, w] = sizes.get(l.name)!;
    if (l.kind === 'conv2d') {
      total += h * w * l.filterSize[0] * l.filterSize[1] * l.inChannels * l.outChannels;
    } else if (l.kind === 'linear') total += h * w * l.inChannels * l.outChannels;
  }
  return total;
}

interface SlidingResult {
  denseMs: number;
  denseRuns: number;
  /** The fastest and slowest dense run, ms. */
  denseRangeMs: [number, number];
  slidingMs: number;
  extractMs: number;
  rowsEvaluated: number;
  windowsPerBatch: number;
  calibration: Record<string, number>;
  maxAbsDiff: number;
  densePeakBytes: number;
  slidingPeakBytes: number;
  macRatio: number;
}

function time<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const out = f();
  return [out, performance.now() - t0];
}

/**
 * Windows `start … start + count − 1` of those centred on image rows `rows`
 * (row-major: window i is centred at row rows[⌊i/width⌋], column i mod
 * width), copied out of the padded image `src` ([Hp, Wp, C], row-major) into
 * one batch `[count, R, R, C]`.
 */
function extractWindows(
  src: Float32Array,
  Wp: number,
  C: number,
  R: [number, number],
  rows: number[],
  width: number,
  start: number,
  count: number,
): tf.Tensor4D {
  const rowLen = R[1] * C;
  const out = new Float32Array(count * R[0] * rowLen);
  let o = 0;
  for (let i = start; i < start + count; i++) {
    const r = rows[Math.floor(i / width)]!;
    const j = i % width;
    for (let u = 0; u < R[0]; u++) {
      const s = ((r + u) * Wp + j) * C;
      out.set(src.subarray(s, s + rowLen), o);
      o += rowLen;
    }
  }
  return tf.tensor4d(out, [count, R[0], R[1], C]);
}

async function compareSliding(model: Model, sampleRows: number): Promise<SlidingResult> {
  const spec = model.spec;
  const R = receptiveField(spec).size;
  const C = spec.inChannels;
  const K = spec.outChannels;
  const rng = new Rng(7);
  const image = tf.tensor3d(rng.uniformArray(SIZE * SIZE * C, 0, 1), [SIZE, SIZE, C]);
  const runDense = () => {
    const [y, ms] = time(() => {
      const out = denseForward(model, image, ONE_PASS);
      out.dataSync();
      return out;
    });
    return { y, ms };
  };
  // warm-up (kernels, wasm memory growth), then the reference output and its peak memory
  tf.dispose(runDense().y);
  const denseProfile = await profilePeak(() => denseForward(model, image, ONE_PASS));
  const dense = denseProfile.result;
  const denseData = dense.dataSync();
  const denseTimes = [runDense(), runDense()].map((r) => {
    r.y.dispose();
    return r.ms;
  });
  // sliding windows: the same reflect-padded image, one window per pixel
  const pads = densePads(spec);
  const paddedT = tf.tidy(() =>
    tf.mirrorPad(image, [pads[0], pads[1], [0, 0]], 'reflect'),
  ) as tf.Tensor3D;
  const Wp = paddedT.shape[1];
  const src = paddedT.dataSync() as Float32Array;
  paddedT.dispose();
  const rows: number[] = [];
  const step = Math.max(1, Math.floor(SIZE / sampleRows));
  for (let r = 0; r < SIZE && rows.length < sampleRows; r += step) rows.push(r);
  const total = rows.length * SIZE;
  const windows = (start: number, count: number) =>
    extractWindows(src, Wp, C, R, rows, SIZE, start, count);
  // batch size: the fastest (best of two runs) of 256, 512, 1024, 2048 windows (within ~1.5 GB of tensors)
  const base = Math.min(256, total);
  const onePeak = await profilePeak(() => model.apply(windows(0, base)));
  onePeak.result.dispose();
  const calibration: Record<string, number> = {};
  let best = base;
  for (const k of [1, 2, 4, 8]) {
    const size = base * k;
    if (k > 1 && k * onePeak.peakBytes > 1.5e9) break;
    if (size > total) break;
    const wins = windows(0, size);
    tf.dispose(model.apply(wins)); // warm-up at this size
    const runs = [0, 1].map(
      () =>
        time(() => {
          const y = model.apply(wins);
          y.dataSync();
          y.dispose();
        })[1],
    );
    const ms = Math.min(...runs);
    wins.dispose();
    calibration[String(size)] = ms / size;
    if (ms / size < calibration[String(best)]!) best = size;
  }
  let slidingMs = 0;
  let extractMs = 0;
  let maxAbsDiff = 0;
  const batches = Math.ceil(total / best);
  // dense runs interleaved with the sliding batches, so both see the same machine load
  const denseEvery = Math.max(1, Math.floor(batches / 6));
  for (let b = 0; b < batches; b++) {
    const start = b * best;
    const count = Math.min(best, total - start);
    const [wins, e] = time(() => windows(start, count));
    const [data, m] = time(() => {
      const y = model.apply(wins);
      const d = y.dataSync();
      y.dispose();
      return d;
    });
    wins.dispose();
    extractMs += e;
    slidingMs += e + m;
    for (let i = 0; i < count; i++) {
      const w = start + i;
      const at = (rows[Math.floor(w / SIZE)]! * SIZE + (w % SIZE)) * K;
      for (let k = 0; k < K; k++) {
        const d = Math.abs(data[i * K + k]! - denseData[at + k]!);
        if (d > maxAbsDiff) maxAbsDiff = d;
      }
    }
    if (b % denseEvery === 0) {
      const r = runDense();
      r.y.dispose();
      denseTimes.push(r.ms);
    }
  }
  const slidingPeak = await profilePeak(() => model.apply(windows(0, best)));
  slidingPeak.result.dispose();
  const scale = SIZE / rows.length;
  const dspec = toDenseSpec(spec);
  const macRatio = (macs(spec, R) * SIZE * SIZE) / macs(dspec, [SIZE + R[0] - 1, SIZE + R[1] - 1]);
  tf.dispose([image, dense]);
  return {
    denseMs: median(denseTimes),
    denseRuns: denseTimes.length,
    denseRangeMs: [Math.min(...denseTimes), Math.max(...denseTimes)],
    slidingMs: slidingMs * scale,
    extractMs: extractMs * scale,
    rowsEvaluated: rows.length,
    windowsPerBatch: best,
    calibration,
    maxAbsDiff,
    densePeakBytes: denseProfile.peakBytes,
    slidingPeakBytes: slidingPeak.peakBytes,
    macRatio,
  };
}

/** Runs `f` under `tf.profile`: its result and the peak tensor memory above what was allocated before. */
async function profilePeak<T extends tf.Tensor>(
  f: () => T,
): Promise<{ result: T; peakBytes: number }> {
  const before = tf.memory().numBytes;
  let result: T | undefined;
  const info = await tf.profile(() => {
    result = f();
    return result;
  });
  return { result: result!, peakBytes: info.peakBytes - before };
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
  return { forwardMs: median(fwd), stepMs: median(step) };
}

const mb = (b: number) => (b / 2 ** 20).toFixed(1);
const load = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
console.log(
  `@seg/dense-conv benchmark — backend ${report.backend}${report.simd ? ' (SIMD)' : ''}, ${quick ? 'quick' : 'full'}, load average ${load()}`,
);
const classifiers: Array<{ key: string; name: string; make: () => Model; quickRows: number }> = [
  {
    key: 'li',
    name: 'li-style (RF 36, stride 8)',
    make: () => createModel(liStyleSpec(), 1),
    quickRows: 16,
  },
  {
    key: 'large',
    name: 'large, 4×48-map stages (RF 63, stride 16)',
    make: () => createModel(largeSpec(), 1),
    quickRows: 4,
  },
  {
    key: 'n4',
    name: 'Cireşan et al. N4, 1 channel (RF 95, stride 16)',
    make: () => createModel(ciresanN4Spec(), 1),
    quickRows: 2,
  },
  {
    key: 'backbone',
    name: 'backbone (RF 20, stride 4)',
    make: () => segmentationBackbone({ coords: false, seed: 1 }).patch,
    quickRows: 16,
  },
].filter((c) => !only || only.includes(c.key));
const results: Record<string, SlidingResult> = {};
console.log(`\nDense vs sliding-window evaluation, ${SIZE}×${SIZE} image, one window per pixel`);
console.log(
  '| classifier | RF | dense ms | sliding ms (of which extraction) | speed-up (model only) | MAC ratio | max abs diff | peak tensor MB dense / sliding | windows per batch | rows run |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const c of classifiers) {
  const model = c.make();
  const r = await compareSliding(model, quick ? Number(flag('--rows') ?? c.quickRows) : SIZE);
  results[c.key] = r;
  const rf = receptiveField(model.spec).size[0];
  const computeMs = r.slidingMs - r.extractMs;
  console.log(
    `| ${c.name} | ${rf} | ${r.denseMs.toFixed(1)} | ${r.slidingMs.toFixed(0)} (${r.extractMs.toFixed(0)}) | ${(r.slidingMs / r.denseMs).toFixed(0)}× (${(computeMs / r.denseMs).toFixed(0)}×) | ${r.macRatio.toFixed(0)} | ${r.maxAbsDiff.toExponential(2)} | ${mb(r.densePeakBytes)} / ${mb(r.slidingPeakBytes)} | ${r.windowsPerBatch} | ${r.rowsEvaluated}/${SIZE} |`,
  );
  console.log(
    `  batch calibration, ms per window: ${Object.entries(r.calibration)
      .map(([k, v]) => `${k}: ${v.toFixed(3)}`)
      .join(
        ', ',
      )}; dense runs: ${r.denseRuns} (${r.denseRangeMs.map((v) => v.toFixed(0)).join('–')} ms); load average ${load()}`,
  );
  model.dispose();
}
const steps: Record<string, { forwardMs: number; stepMs: number }> = {};
if (train) {
  console.log('\nBackbone training step (denseForward + softmax CE + gradients of all parameters)');
  console.log('| image | forward ms | forward+backward ms |');
  console.log('|---|---|---|');
  for (const [h, w] of [
    [321, 321],
    [480, 640],
  ] as const) {
    const s = stepTimes(h, w, quick ? 2 : 5);
    steps[`${w}x${h}`] = s;
    console.log(`| ${w}×${h} | ${s.forwardMs.toFixed(0)} | ${s.stepMs.toFixed(0)} |`);
  }
}
const rss = process.memoryUsage().rss;
console.log(`\nprocess RSS at the end: ${mb(rss)} MB; load average ${load()}`);
const summary = (r: SlidingResult) => ({
  speedup: +(r.slidingMs / r.denseMs).toFixed(1),
  speedupModelOnly: +((r.slidingMs - r.extractMs) / r.denseMs).toFixed(1),
  macRatio: +r.macRatio.toFixed(1),
  maxAbsDiff: r.maxAbsDiff,
  denseMs: +r.denseMs.toFixed(2),
  slidingMs: +r.slidingMs.toFixed(1),
  extractMs: +r.extractMs.toFixed(1),
  densePeakMB: +mb(r.densePeakBytes),
  slidingPeakMB: +mb(r.slidingPeakBytes),
  windowsPerBatch: r.windowsPerBatch,
  rowsEvaluated: r.rowsEvaluated,
});
// The headline is the published network (Cireşan et al.'s N4); the li-style
// figures keep their own keys.
const head = results.n4;
const li = results.li;
console.log(
  `BENCH ${JSON.stringify({
    backend: report.backend,
    quick,
    imageSize: SIZE,
    ...(head && {
      headlineClassifier: 'n4',
      speedupVsSlidingWindow: +(head.slidingMs / head.denseMs).toFixed(1),
      speedupVsSlidingWindowModelOnly: +((head.slidingMs - head.extractMs) / head.denseMs).toFixed(
        1,
      ),
      macRatio: +head.macRatio.toFixed(1),
    }),
    ...(li && {
      liStyleSpeedupVsSlidingWindow: +(li.slidingMs / li.denseMs).toFixed(1),
      liStyleSpeedupVsSlidingWindowModelOnly: +((li.slidingMs - li.extractMs) / li.denseMs).toFixed(
        1,
      ),
      liStyleMacRatio: +li.macRatio.toFixed(1),
    }),
    maxAbsDiff: Math.max(...Object.values(results).map((r) => r.maxAbsDiff)),
    classifiers: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, summary(r)])),
    ...(train && {
      backboneStepMs321: +steps['321x321']!.stepMs.toFixed(1),
      backboneStepMs640x480: +steps['640x480']!.stepMs.toFixed(1),
      backboneForwardMs321: +steps['321x321']!.forwardMs.toFixed(1),
      backboneForwardMs640x480: +steps['640x480']!.forwardMs.toFixed(1),
    }),
    loadAverage: loadavg().map((v) => +v.toFixed(2)),
    rssMB: +mb(rss),
  })}`,
);
