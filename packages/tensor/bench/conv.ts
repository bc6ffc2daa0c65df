// The wasm direct-convolution kernel (SegConv2D, gradients/wasm/conv.wat)
// against tfjs-backend-wasm's XNNPACK convolution (FusedConv2D / Conv2D) at
// the convolutions of bench:compare, on one thread, alternated call by call
// (A B A B …), medians:
// - optim-adm's pixel net (120×90, 9 → 16 3×3, 16 → 16 3×3 dilated 2, 1×1
//   16 → 16 and 16 → 2, bias and ReLU), each call with a filter it has not
//   seen (weights change every training step; XNNPACK packs a new filter
//   once per tensor), and the input gradients of its layers but the first
//   (conv2dInputGrad, the kernel unregistered for A: XNNPACK's convolution
//   of the flipped filter, for 1×1 the matrix product);
// - N4's dense forward (dense-conv, 256×256: its six convolutions, fixed
//   filters, as in denseForward);
// - a pixel-net-shaped Adam step (four fusedConv2d layers, softmax cross
//   entropy) with and without the kernel registered.
// Run from packages/tensor under the shared lock:
//   flock /tmp/seg-heavy.lock npx tsx --conditions=@seg/source bench/conv.ts [--quick]
// (--quick: fewer repetitions, N4 skipped). Prints a table, then `BENCH {json}`.
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { conv2dInputGrad, nhwcConv2DInfo } from '../src/gradients/conv2d-grad.js';
import { SEG_CONV2D, wasmConvKernelConfig, wasmConvReady } from '../src/gradients/wasm/conv.js';
import { fusedConv2d, initBackend, Rng } from '../src/index.js';
import { median } from '../src/testing/index.js';

const quick = process.argv.includes('--quick');
const reps = quick ? 7 : 21;
const n4Reps = 3;

await initBackend({ backend: 'wasm', threads: 1 });
if (!wasmConvReady()) throw new Error('bench/conv: the SIMD kernel is not ready');
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const rng = new Rng(1);
const t4 = (s: [number, number, number, number]) =>
  tf.tensor4d(rng.normalArray(s[0] * s[1] * s[2] * s[3]), s);

/** Alternates a and b `n` times after one warm-up each; medians in ms. */
function ab(a: () => void, b: () => void, n: number): [number, number] {
  a();
  b();
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < n; i++) {
    let t0 = performance.now();
    a();
    ta.push(performance.now() - t0);
    t0 = performance.now();
    b();
    tb.push(performance.now() - t0);
  }
  return [median(ta), median(tb)];
}

interface Layer {
  key: string;
  what: string;
  x: [number, number, number, number];
  f: [number, number, number, number];
  dilation: number;
  pad: 'same' | 'valid';
  activation: 'linear' | 'relu';
  freshFilter: boolean;
}
const pixel = (
  key: string,
  what: string,
  ci: number,
  co: number,
  k: number,
  dilation: number,
  activation: 'linear' | 'relu',
): Layer => ({
  key,
  what,
  x: [1, 90, 120, ci],
  f: [k, k, ci, co],
  dilation,
  pad: 'same',
  activation,
  freshFilter: true,
});
const n4 = (
  key: string,
  what: string,
  side: number,
  ci: number,
  co: number,
  k: number,
  dilation: number,
  activation: 'linear' | 'relu',
): Layer => ({
  key,
  what,
  x: [1, side, side, ci],
  f: [k, k, ci, co],
  dilation,
  pad: 'valid',
  activation,
  freshFilter: false,
});
const layers: Layer[] = [
  pixel('pixConv1', 'pixel net 9→16 3×3', 9, 16, 3, 1, 'relu'),
  pixel('pixConv2', 'pixel net 16→16 3×3 dil 2', 16, 16, 3, 2, 'relu'),
  pixel('pixConv3', 'pixel net 16→16 1×1', 16, 16, 1, 1, 'relu'),
  pixel('pixClassify', 'pixel net 16→2 1×1', 16, 2, 1, 1, 'linear'),
  ...(quick
    ? []
    : [
        n4('n4Conv1', 'N4 1→48 4×4, 350²', 350, 1, 48, 4, 1, 'relu'),
        n4('n4Conv2', 'N4 48→48 5×5 dil 2, 346²', 346, 48, 48, 5, 2, 'relu'),
        n4('n4Conv3', 'N4 48→48 4×4 dil 4, 336²', 336, 48, 48, 4, 4, 'relu'),
        n4('n4Conv4', 'N4 48→48 4×4 dil 8, 320²', 320, 48, 48, 4, 8, 'relu'),
        n4('n4Fc', 'N4 48→200 3×3 dil 16, 288²', 288, 48, 200, 3, 16, 'relu'),
        n4('n4Classify', 'N4 200→2 1×1, 256²', 256, 200, 2, 1, 1, 'linear'),
      ]),
];

const rows: string[][] = [];
const out: Record<string, number> = {};
for (const l of layers) {
  const x = t4(l.x);
  const filters = Array.from({ length: l.freshFilter ? 2 * (reps + 1) : 1 }, () => t4(l.f));
  const bias = tf.tensor1d(rng.normalArray(l.f[3]));
  let i = 0;
  const run = (kernel: string) => () => {
    const filter = filters[i++ % filters.length]!;
    const y = tf.engine().runKernel(kernel, { x, filter, bias }, {
      strides: 1,
      pad: l.pad,
      dataFormat: 'NHWC',
      dilations: l.dilation,
      activation: l.activation,
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
    y.dispose();
  };
  const [xnn, seg] = ab(
    run(tf.FusedConv2D),
    run(SEG_CONV2D),
    l.key.startsWith('n4') ? n4Reps : reps,
  );
  const [, ho, wo] =
    l.pad === 'same'
      ? l.x
      : [0, l.x[1] - (l.f[0] - 1) * l.dilation, l.x[2] - (l.f[1] - 1) * l.dilation];
  const gflop = (2 * ho! * wo! * l.f[0] * l.f[1] * l.f[2] * l.f[3]) / 1e9;
  rows.push([
    l.what,
    xnn.toFixed(2),
    seg.toFixed(2),
    ((gflop / xnn) * 1e3).toFixed(1),
    ((gflop / seg) * 1e3).toFixed(1),
    (xnn / seg).toFixed(2),
    load(),
  ]);
  out[`${l.key}XnnpackMs`] = xnn;
  out[`${l.key}SegMs`] = seg;
  tf.dispose([x, bias, ...filters]);
}

// The input gradients of the pixel net's layers but the first, as the
// FusedConv2D gradient computes them (without the kernel: XNNPACK's
// convolution of the flipped filter, or for 1×1 the matrix product).
for (const [key, what, k, ci, co, dilation] of [
  ['pixConv2InputGrad', 'pixel net dx of 16→16 3×3 dil 2', 3, 16, 16, 2],
  ['pixConv3InputGrad', 'pixel net dx of 16→16 1×1', 1, 16, 16, 1],
  ['pixClassifyInputGrad', 'pixel net dx of 16→2 1×1', 1, 16, 2, 1],
] as const) {
  const dy = t4([1, 90, 120, co]);
  const filters = Array.from({ length: 2 * (reps + 1) }, () => t4([k, k, ci, co]));
  const info = nhwcConv2DInfo('bench', tf.zeros([1, 90, 120, ci]) as tf.Tensor4D, filters[0]!, {
    strides: 1,
    pad: 'same',
    dataFormat: 'NHWC',
    dilations: dilation,
  } as tf.Conv2DAttrs);
  let i = 0;
  const grad = () =>
    tf.tidy(() => void conv2dInputGrad(dy, filters[i++ % filters.length]!, [1, 90, 120, ci], info));
  const without = () => {
    tf.unregisterKernel(SEG_CONV2D, 'wasm');
    try {
      grad();
    } finally {
      tf.registerKernel(wasmConvKernelConfig);
    }
  };
  const [a, b] = ab(without, grad, reps);
  const gflop = (2 * 90 * 120 * k * k * ci * co) / 1e9;
  rows.push([
    what,
    a.toFixed(2),
    b.toFixed(2),
    ((gflop / a) * 1e3).toFixed(1),
    ((gflop / b) * 1e3).toFixed(1),
    (a / b).toFixed(2),
    load(),
  ]);
  out[`${key}XnnpackMs`] = a;
  out[`${key}SegMs`] = b;
  tf.dispose([dy, ...filters]);
}

// A pixel-net-shaped Adam step, with and without the kernel registered.
{
  const x = t4([1, 90, 120, 9]);
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: 90 * 120 }, () => rng.int(2)),
      'int32',
    ),
    2,
  );
  const shapes: [number, number, number, number][] = [
    [3, 3, 9, 16],
    [3, 3, 16, 16],
    [1, 1, 16, 16],
    [1, 1, 16, 2],
  ];
  const vars = shapes.flatMap((s) => [
    tf.variable(tf.mul(t4(s), 0.2)),
    tf.variable(tf.zeros([s[3]])),
  ]);
  const optimizer = tf.train.adam(0.01);
  const step = () => {
    const loss = optimizer.minimize(
      () => {
        let h = x;
        for (let k = 0; k < 4; k++) {
          h = fusedConv2d({
            x: h,
            filter: vars[2 * k] as tf.Tensor4D,
            bias: vars[2 * k + 1],
            strides: 1,
            pad: 'same',
            dilations: k === 1 ? 2 : 1,
            activation: k < 3 ? 'relu' : 'linear',
          });
        }
        return tf.losses.softmaxCrossEntropy(labels, tf.reshape(h, [90 * 120, 2])) as tf.Scalar;
      },
      true,
      vars,
    );
    loss!.dataSync();
    loss!.dispose();
  };
  const without = () => {
    tf.unregisterKernel(SEG_CONV2D, 'wasm');
    try {
      step();
    } finally {
      tf.registerKernel(wasmConvKernelConfig);
    }
  };
  for (let i = 0; i < 5; i++) {
    step();
    without();
  }
  const [a, b] = ab(without, step, reps);
  rows.push([
    'pixel-net-shaped Adam step',
    a.toFixed(2),
    b.toFixed(2),
    '',
    '',
    (a / b).toFixed(2),
    load(),
  ]);
  out.stepXnnpackMs = a;
  out.stepSegMs = b;
  optimizer.dispose();
  tf.dispose([x, labels, ...vars]);
}

const head = [
  'case',
  'XNNPACK ms',
  'SegConv2D ms',
  'XNNPACK GFLOP/s',
  'SegConv2D GFLOP/s',
  'speed-up',
  'load',
];
const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
for (const r of [head, ...rows]) console.log(r.map((v, c) => v.padEnd(widths[c]!)).join('  '));
console.log(`BENCH ${JSON.stringify({ ...out, load: loadavg()[0] })}`);
