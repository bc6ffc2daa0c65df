// Conv2D forward + backward: our gradient on wasm vs tfjs's native gradient
// kernels on the cpu backend (the only backend here that has them), same
// shapes (batch 8, 64×64×32 → 32, 3×3, the size toolchain.md measured; batch 2 with --quick).
// Then wasm threads: the same step, a matMul 512³ and a small op-bound step
// (batch 1, 32×32×16 → 16) on 1 and 2 threads (initBackend({ threads })).
// Then the Conv2D filter gradient alone on wasm, the SIMD kernel against the
// convolution path it replaced (conv2dFilterGradByConvolution), alternated
// call by call: optim-adm's pixel-net 3×3 layers (120×90, 9 → 16, and
// 16 → 16 dilated 2) and the step's 64×64×32 → 32 layer.
// --no-cpu skips the cpu reference (about a minute). Prints tables and a last
// line `BENCH {json}`.
import * as tf from '@tensorflow/tfjs-core';
import { conv2dFilterGrad, conv2dFilterGradByConvolution } from '../src/gradients/conv2d-grad.js';
import { initBackend, Rng } from '../src/index.js';
import { median } from '../src/testing/index.js';

const quick = process.argv.includes('--quick');
const withCpu = !process.argv.includes('--no-cpu');
const reps = quick ? 3 : 10;
const batch = quick ? 2 : 8;

function time(fn: () => void, n: number): number {
  fn();
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

function step(x: tf.Tensor4D, w: tf.Variable, dilation: number): void {
  tf.tidy(() => {
    const g = tf.grads((a: tf.Tensor, f: tf.Tensor) =>
      tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, 'same', 'NHWC', dilation))),
    )([x, w]);
    for (const t of g) t.dataSync();
  });
}

/** tfjs's own gradient kernels (Conv2DBackpropInput / Filter) on cpu. */
function nativeStep(x: tf.Tensor4D, w: tf.Tensor4D): void {
  tf.tidy(() => {
    const y = tf.conv2d(x, w, 1, 'same');
    const dy = tf.mul(y, 2) as tf.Tensor4D;
    tf.conv2dTranspose(dy, w, x.shape, 1, 'same').dataSync();
    (
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
        strides: 1,
        pad: 'same',
        dataFormat: 'NHWC',
        filterShape: w.shape,
      } as unknown as tf.NamedAttrMap) as tf.Tensor
    ).dataSync();
  });
}

const rng = new Rng(1);
const xs = rng.normalArray(batch * 64 * 64 * 32);
const ws = rng.normalArray(3 * 3 * 32 * 32, 0, 0.1);
const rows: Array<[string, number]> = [];

if (withCpu) {
  await initBackend({ backend: 'cpu' });
  const x = tf.tensor4d(xs, [batch, 64, 64, 32]);
  const w = tf.tensor4d(ws, [3, 3, 32, 32]);
  rows.push([
    'cpu: forward + tfjs native backward kernels',
    time(() => nativeStep(x, w), Math.min(reps, 3)),
  ]);
  tf.dispose([x, w]);
}
const report = await initBackend({ backend: 'wasm', threads: 1 });
for (const dilation of [1, 2]) {
  const x = tf.tensor4d(xs, [batch, 64, 64, 32]);
  const w = tf.variable(tf.tensor4d(ws, [3, 3, 32, 32]));
  rows.push([
    `wasm: forward + @seg backward, dilation ${dilation}`,
    time(() => step(x, w, dilation), reps),
  ]);
  tf.dispose([x, w]);
}
const cpuMs = withCpu ? rows[0]![1] : Number.NaN;
const wasmMs = rows[withCpu ? 1 : 0]![1];
console.log(`backend report: ${JSON.stringify(report)}`);
console.log(`| conv2d ${batch}×64×64×32 → 32, 3×3, forward + backward | ms (median) |`);
console.log('|---|---|');
for (const [name, ms] of rows) console.log(`| ${name} | ${ms.toFixed(1)} |`);
if (withCpu) {
  console.log(
    `speed-up of wasm + @seg gradient over cpu + native gradient: ${(cpuMs / wasmMs).toFixed(1)}×`,
  );
}

// --- wasm threads: 1 against 2 ---
const threadRows: Array<{
  threads: number;
  fallback?: string;
  step: number;
  matMul: number;
  small: number;
}> = [];
const ms = rng.normalArray(512 * 512);
const ss = rng.normalArray(32 * 32 * 16);
const sw = rng.normalArray(3 * 3 * 16 * 16, 0, 0.1);
for (const threads of [1, 2]) {
  const r = await initBackend({ threads });
  const x = tf.tensor4d(xs, [batch, 64, 64, 32]);
  const w = tf.variable(tf.tensor4d(ws, [3, 3, 32, 32]));
  const m = tf.tensor2d(ms, [512, 512]);
  const sx = tf.tensor4d(ss, [1, 32, 32, 16]);
  const swv = tf.variable(tf.tensor4d(sw, [3, 3, 16, 16]));
  threadRows.push({
    threads: r.threads,
    ...(r.threadsFallback ? { fallback: r.threadsFallback } : {}),
    step: time(() => step(x, w, 1), reps),
    matMul: time(() => tf.tidy(() => void tf.matMul(m, m).dataSync()), reps * 3),
    small: time(() => step(sx, swv, 1), reps * 10),
  });
  tf.dispose([x, w, m, sx, swv]);
}
const [t1, t2] = threadRows as [(typeof threadRows)[0], (typeof threadRows)[0]];
console.log(`\n| wasm, ms (median) | 1 thread | ${t2.threads} threads | speed-up |`);
console.log('|---|---|---|---|');
for (const [name, key] of [
  [`conv2d step, batch ${batch}, 64×64×32 → 32`, 'step'],
  ['matMul 512³', 'matMul'],
  ['conv2d step, batch 1, 32×32×16 → 16', 'small'],
] as const) {
  console.log(
    `| ${name} | ${t1[key].toFixed(2)} | ${t2[key].toFixed(2)} | ${(t1[key] / t2[key]).toFixed(2)}× |`,
  );
}
if (t2.fallback) console.log(`threads fallback: ${t2.fallback}`);
// --- the filter gradient alone: SIMD kernel vs the convolution path ---
await initBackend({ threads: 1 });
const gradRows: Array<{ name: string; key: string; kernel: number; convolution: number }> = [];
for (const [name, key, b, h, w, ci, co, dilation] of [
  ['pixel net conv1, 120×90, 9 → 16, 3×3', 'pixelConv1', 1, 90, 120, 9, 16, 1],
  ['pixel net conv2, 120×90, 16 → 16, 3×3 dilated 2', 'pixelConv2', 1, 90, 120, 16, 16, 2],
  [`batch ${batch}, 64×64×32 → 32, 3×3`, 'step64', batch, 64, 64, 32, 32, 1],
] as const) {
  const x = tf.tensor4d(rng.normalArray(b * h * w * ci), [b, h, w, ci]);
  const dy = tf.tensor4d(rng.normalArray(b * h * w * co), [b, h, w, co]);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape,
    [3, 3, ci, co],
    1,
    dilation,
    'same',
    undefined,
    false,
    'channelsLast',
  );
  const once = (f: typeof conv2dFilterGrad) => {
    const t0 = performance.now();
    tf.tidy(() => void f(x, dy, info).dataSync());
    return performance.now() - t0;
  };
  const kernelMs: number[] = [];
  const convolutionMs: number[] = [];
  once(conv2dFilterGrad);
  once(conv2dFilterGradByConvolution);
  const n = (quick ? 5 : 30) * (b === 1 ? 4 : 1);
  for (let i = 0; i < n; i++) {
    kernelMs.push(once(conv2dFilterGrad));
    convolutionMs.push(once(conv2dFilterGradByConvolution));
  }
  gradRows.push({ name, key, kernel: median(kernelMs), convolution: median(convolutionMs) });
  tf.dispose([x, dy]);
}
console.log(
  '\n| wasm filter gradient, ms (median, alternated) | SIMD kernel | convolution path | speed-up |',
);
console.log('|---|---|---|---|');
for (const r of gradRows) {
  console.log(
    `| ${r.name} | ${r.kernel.toFixed(2)} | ${r.convolution.toFixed(2)} | ${(r.convolution / r.kernel).toFixed(2)}× |`,
  );
}

console.log(
  `BENCH ${JSON.stringify({
    conv2dStepMsWasm: wasmMs,
    conv2dStepMsWasmDilation2: rows[withCpu ? 2 : 1]![1],
    ...(withCpu ? { conv2dStepMsCpuNative: cpuMs, wasmOverCpuRatio: wasmMs / cpuMs } : {}),
    simd: report.simd,
    threads: t2.threads,
    conv2dStepMsThreads1: t1.step,
    conv2dStepMsThreads2: t2.step,
    matMul512MsThreads1: t1.matMul,
    matMul512MsThreads2: t2.matMul,
    smallStepMsThreads1: t1.small,
    smallStepMsThreads2: t2.small,
    ...Object.fromEntries(
      gradRows.flatMap((r) => [
        [`${r.key}FilterGradMsKernel`, r.kernel],
        [`${r.key}FilterGradMsConvolution`, r.convolution],
      ]),
    ),
  })}`,
);
