// The wasm matrix-product kernel (SegMatMul) against what ran before it, at
// the five large products of bench:compare's MLP step (784-1000-1000-10,
// batch 100) and the two bias gradients of the pixel net (SegColSum), on one
// thread, alternated call by call (A B A B …), medians. Every call gets a
// right operand it has not seen (weights change every step, gradients are
// new), so XNNPACK's cache of packed right operands never hits, as in
// training. Run from packages/tensor under the shared lock:
//   flock /tmp/seg-heavy.lock npx tsx --conditions=@seg/source bench/matmul.ts [--quick]
// Prints a table, then `BENCH {json}`.
import * as tf from '@tensorflow/tfjs-core';
import { product } from '../src/gradients/matmul-grad.js';
import {
  SEG_MATMUL,
  segColSum,
  wasmMatMulKernelConfig,
  wasmMatMulReady,
} from '../src/gradients/wasm/matmul.js';
import { initBackend, matMul, Rng } from '../src/index.js';
import { median } from '../src/testing/index.js';

const quick = process.argv.includes('--quick');
const reps = quick ? 7 : 21;

await initBackend({ backend: 'wasm', threads: 1 });
if (!wasmMatMulReady()) throw new Error('bench/matmul: the SIMD kernel is not ready');

/** The product as @seg/tensor computed it before SegMatMul: transposes made explicit, tf.matMul. */
function before(x: tf.Tensor, y: tf.Tensor, tx: boolean, ty: boolean): tf.Tensor {
  const [m, k] = tx ? [x.shape[1]!, x.shape[0]!] : [x.shape[0]!, x.shape[1]!];
  const n = y.shape[ty ? 0 : 1]!;
  const inPlace = (tx ? m * k : 0) + (ty ? k * n : 0) + k * n;
  const swapped = (tx ? 0 : m * k) + (ty ? 0 : k * n) + m * k + m * n;
  if (inPlace <= swapped) return tf.matMul(tx ? tf.transpose(x) : x, ty ? tf.transpose(y) : y);
  return tf.transpose(tf.matMul(ty ? y : tf.transpose(y), tx ? x : tf.transpose(x)));
}

const rng = new Rng(1);
const t = (r: number, c: number) => tf.tensor2d(rng.normalArray(r * c), [r, c]);

interface Case {
  key: string;
  what: string;
  x: tf.Tensor;
  y: tf.Tensor;
  tx: boolean;
  ty: boolean;
  flops: number;
}
const cases: Case[] = [
  {
    key: 'fwd2',
    what: 'h1·W2  [100,1000]·[1000,1000]',
    x: t(100, 1000),
    y: t(1000, 1000),
    tx: false,
    ty: false,
    flops: 2e8,
  },
  {
    key: 'fwd1',
    what: 'x·W1   [100,784]·[784,1000]',
    x: t(100, 784),
    y: t(784, 1000),
    tx: false,
    ty: false,
    flops: 2 * 100 * 784 * 1000,
  },
  {
    key: 'dH1',
    what: 'dZ2·W2ᵀ [100,1000]·[1000,1000]ᵀ',
    x: t(100, 1000),
    y: t(1000, 1000),
    tx: false,
    ty: true,
    flops: 2e8,
  },
  {
    key: 'dW2',
    what: 'h1ᵀ·dZ2 [100,1000]ᵀ·[100,1000]',
    x: t(100, 1000),
    y: t(100, 1000),
    tx: true,
    ty: false,
    flops: 2e8,
  },
  {
    key: 'dW1',
    what: 'xᵀ·dZ1  [100,784]ᵀ·[100,1000]',
    x: t(100, 784),
    y: t(100, 1000),
    tx: true,
    ty: false,
    flops: 2 * 100 * 784 * 1000,
  },
];

/**
 * ms of one call of f on fresh operands (made before the clock starts); the
 * result is not read back (a 4 MB copy would add the same time to both).
 */
function timeOnce(f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor, c: Case): number {
  const x = tf.add(c.x, 0);
  const y = tf.add(c.y, 0);
  const t0 = performance.now();
  const z = f(x, y); // the wasm backend runs a kernel before returning its tensor
  const ms = performance.now() - t0;
  tf.dispose([x, y, z]);
  return ms;
}

const out: Record<string, number> = {};
console.log(
  'product                                   before ms   SegMatMul ms   GFLOP/s before → after',
);
for (const c of cases) {
  const old = (x: tf.Tensor, y: tf.Tensor) => tf.tidy(() => before(x, y, c.tx, c.ty));
  const seg =
    c.tx || c.ty
      ? (x: tf.Tensor, y: tf.Tensor) => product(x, y, c.tx, c.ty)
      : (x: tf.Tensor, y: tf.Tensor) => matMul(x, y);
  timeOnce(old, c);
  timeOnce(seg, c);
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < reps; r++) {
    a.push(timeOnce(old, c));
    b.push(timeOnce(seg, c));
  }
  const [ma, mb] = [median(a), median(b)];
  out[`${c.key}MsBefore`] = +ma.toFixed(2);
  out[`${c.key}MsKernel`] = +mb.toFixed(2);
  console.log(
    `${c.key.padEnd(5)} ${c.what.padEnd(34)} ${ma.toFixed(2).padStart(9)} ${mb.toFixed(2).padStart(14)}   ${(c.flops / ma / 1e6).toFixed(1)} → ${(c.flops / mb / 1e6).toFixed(1)}`,
  );
}

// bias gradients of the pixel net's convolutions: Σ over 120×90 pixels of dz
console.log(
  'bias gradient (column sums)        1ᵀ·dz tf.matMul   1ᵀ·dz SegMatMul   SegColSum  (ms)',
);
for (const o of [16, 2]) {
  const n = 120 * 90;
  const c: Case = {
    key: `bias${o}`,
    what: '',
    x: tf.ones([1, n]),
    y: t(n, o),
    tx: false,
    ty: false,
    flops: 0,
  };
  const fs = [
    (_: tf.Tensor, y: tf.Tensor) => tf.matMul(tf.ones([1, n]), y),
    (_: tf.Tensor, y: tf.Tensor) => matMul(tf.ones([1, n]), y),
    (_: tf.Tensor, y: tf.Tensor) => segColSum(y as tf.Tensor2D)!,
  ].map((f) => (x: tf.Tensor, y: tf.Tensor) => tf.tidy(() => f(x, y)));
  for (const f of fs) timeOnce(f, c);
  const ts: number[][] = fs.map(() => []);
  for (let r = 0; r < reps * 3; r++)
    fs.forEach((f, i) => {
      ts[i]!.push(timeOnce(f, c));
    });
  const ms = ts.map((x) => median(x));
  out[`bias${o}MsMatMul`] = +ms[0]!.toFixed(3);
  out[`bias${o}MsSegMatMul`] = +ms[1]!.toFixed(3);
  out[`bias${o}MsColSum`] = +ms[2]!.toFixed(3);
  console.log(`[${n},${o}]`.padEnd(35), ms.map((x) => x.toFixed(3).padStart(15)).join(''));
}
// The whole SGD step of bench:compare's MLP (dense-conv's linear layers are
// matMul + add), alternated step by step with SegMatMul unregistered (then
// matMul is tf.matMul and the BatchMatMul gradient makes its transposes
// explicit, as before the kernel) and registered.
{
  const x = tf.tensor2d(rng.uniformArray(100 * 784, 0, 1), [100, 784]);
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: 100 }, () => rng.int(10)),
      'int32',
    ),
    10,
  );
  const sizes = [784, 1000, 1000, 10];
  const ws = sizes.slice(1).map((o, i) => tf.variable(tf.mul(t(sizes[i]!, o), 0.03)));
  const bs = sizes.slice(1).map((o) => tf.variable(tf.zeros([o])));
  const optimizer = tf.train.sgd(0.01);
  const step = () => {
    const t0 = performance.now();
    const loss = optimizer.minimize(() => {
      let h: tf.Tensor = x;
      ws.forEach((w, i) => {
        h = tf.add(matMul(h, w), bs[i]!);
        if (i < ws.length - 1) h = tf.relu(h);
      });
      return tf.losses.softmaxCrossEntropy(labels, h) as tf.Scalar;
    }, true);
    loss!.dataSync();
    loss!.dispose();
    return performance.now() - t0;
  };
  const withKernel = (on: boolean) => {
    if (on) tf.registerKernel(wasmMatMulKernelConfig);
    else tf.unregisterKernel(SEG_MATMUL, 'wasm');
    if (wasmMatMulReady() !== on) throw new Error('bench/matmul: kernel switch failed');
  };
  const a: number[] = [];
  const b: number[] = [];
  for (let r = -2; r < reps; r++) {
    withKernel(false);
    const ta = step();
    withKernel(true);
    const tb = step();
    if (r >= 0) {
      a.push(ta);
      b.push(tb);
    }
  }
  out.mlpStepMsBefore = +median(a).toFixed(2);
  out.mlpStepMsKernel = +median(b).toFixed(2);
  console.log(
    `MLP 784-1000-1000-10 SGD step, batch 100: before ${out.mlpStepMsBefore} ms, SegMatMul ${out.mlpStepMsKernel} ms`,
  );
  optimizer.dispose();
  tf.dispose([x, labels, ...ws, ...bs]);
}
console.log(`BENCH ${JSON.stringify(out)}`);
