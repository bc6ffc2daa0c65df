// The roofline part of bench:compare: how fast a perfect wasm SIMD128 kernel
// could be on this machine, so the ratios to PyTorch can be read against the
// least ratio the instruction set allows. Everything here is measured in the
// run that prints it (see README.md in this folder for the argument).
//
//   peak microkernel  generated WAT, compiled with wabt 1.0.39 at bench time:
//                     `acc` independent f32x4 accumulators, each updated as
//                     a ← a·y + z (f32x4.mul then f32x4.add, 8 flops per
//                     accumulator and step) in an unrolled loop, all in
//                     locals (no memory traffic); run in 1 and in 2
//                     worker_threads at once;
//   matmul rates      tf.matMul (tfjs-wasm, XNNPACK, 1 thread) and torch.mm
//                     (torch_matmul.py, 1 and 2 threads) on the same n×n×n
//                     product;
//   FLOP counts       of the three compare.ts cases, from their shapes.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Rng } from '@seg/tensor';
import { median } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';

/** Accumulator counts of the peak kernels tried (the best one is the peak). */
export const PEAK_ACCUMULATORS = [4, 8, 12, 13] as const;
/** Steps of every accumulator per loop iteration (unrolled). */
const UNROLL = 4;

/** Flops of one loop iteration of the `acc`-accumulator kernel: acc·UNROLL·(4 lanes)·(mul + add). */
export const peakFlopsPerIteration = (acc: number) => acc * UNROLL * 4 * 2;

/**
 * WAT text of a module exporting `peak_<acc>(iterations: i32, y: f32, z: f32) → f32`
 * for every acc in {@link PEAK_ACCUMULATORS}: each of acc f32x4 locals is set to
 * a·y + z UNROLL times per iteration (a mul and an add, no fused multiply-add
 * in SIMD128); the lanes' sum is returned so nothing can be dropped. With
 * |y| < 1 the values converge to z / (1 − y): no overflow, no denormals.
 */
export function peakWat(): string {
  const fn = (acc: number) => {
    const ids = Array.from({ length: acc }, (_, i) => i);
    const step = ids
      .map(
        (i) =>
          `        (local.set $a${i} (f32x4.add (f32x4.mul (local.get $a${i}) (local.get $vy)) (local.get $vz)))`,
      )
      .join('\n');
    const sum = ids
      .slice(1)
      .reduce((s, i) => `(f32x4.add ${s} (local.get $a${i}))`, '(local.get $a0)');
    return `  (func (export "peak_${acc}") (param $n i32) (param $y f32) (param $z f32) (result f32)
    (local $vy v128) (local $vz v128) (local $s v128)
    ${ids.map((i) => `(local $a${i} v128)`).join(' ')}
    (local.set $vy (f32x4.splat (local.get $y)))
    (local.set $vz (f32x4.splat (local.get $z)))
${ids.map((i) => `    (local.set $a${i} (f32x4.splat (f32.add (local.get $z) (f32.const ${i}))))`).join('\n')}
    (block $done
      (br_if $done (i32.le_s (local.get $n) (i32.const 0)))
      (loop $top
${Array.from({ length: UNROLL }, () => step).join('\n')}
        (br_if $top (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
    (local.set $s ${sum})
    (f32.add (f32.add (f32x4.extract_lane 0 (local.get $s)) (f32x4.extract_lane 1 (local.get $s)))
             (f32.add (f32x4.extract_lane 2 (local.get $s)) (f32x4.extract_lane 3 (local.get $s)))))`;
  };
  return `(module\n${PEAK_ACCUMULATORS.map(fn).join('\n')}\n)\n`;
}

/** {@link peakWat} assembled by wabt's wat2wasm (SIMD on) and compiled. */
export async function compilePeak(): Promise<WebAssembly.Module> {
  const wabt = await createRequire(import.meta.url)('wabt')();
  const module = wabt.parseWat('peak.wat', peakWat(), { simd: true });
  try {
    module.validate();
    return new WebAssembly.Module(new Uint8Array(module.toBinary({}).buffer as Uint8Array));
  } finally {
    module.destroy();
  }
}

// Worker body (CommonJS, eval'd): instantiates the peak module, then on each
// message { fn, iterations, calls } runs fn `calls` times and posts the times.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { exports } = new WebAssembly.Instance(workerData.module, {});
parentPort.on('message', ({ fn, iterations, calls }) => {
  const ms = [];
  let sink = 0;
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    sink += exports[fn](iterations, 0.5, 1);
    ms.push(performance.now() - t0);
  }
  parentPort.postMessage({ ms, sink });
});
`;

/** A pool of worker threads, each with its own instance of the peak module. */
export class PeakWorkers {
  private readonly workers: Worker[];
  private constructor(workers: Worker[]) {
    this.workers = workers;
  }
  static create(module: WebAssembly.Module, count: number): PeakWorkers {
    return new PeakWorkers(
      Array.from(
        { length: count },
        () => new Worker(WORKER, { eval: true, workerData: { module } }),
      ),
    );
  }
  private run(w: Worker, fn: string, iterations: number, calls: number): Promise<number[]> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      w.once('error', onError);
      w.once('message', (m: { ms: number[]; sink: number }) => {
        w.off('error', onError);
        if (!Number.isFinite(m.sink)) reject(new Error(`peak kernel ${fn}: sum ${m.sink}`));
        resolve(m.ms);
      });
      w.postMessage({ fn, iterations, calls });
    });
  }
  /**
   * GFLOP/s of `threads` workers running `peak_<acc>` at once, `calls` calls
   * of `iterations` each: all workers' flops over the wall time from the start
   * message to the last reply.
   */
  async gflops(acc: number, threads: number, iterations: number, calls: number): Promise<number> {
    const fn = `peak_${acc}`;
    const t0 = performance.now();
    await Promise.all(
      this.workers.slice(0, threads).map((w) => this.run(w, fn, iterations, calls)),
    );
    const ms = performance.now() - t0;
    return (threads * calls * iterations * peakFlopsPerIteration(acc)) / ms / 1e6;
  }
  /** Warms every kernel up in every worker (V8 tiers wasm up from Liftoff to TurboFan on use) and returns, per acc, the iterations one call needs for about `targetMs`. */
  async calibrate(targetMs: number): Promise<Map<number, number>> {
    const its = new Map<number, number>();
    for (const acc of PEAK_ACCUMULATORS) {
      const fn = `peak_${acc}`;
      let n = 1 << 14;
      for (let round = 0; round < 6; round++) {
        const ms = await Promise.all(this.workers.map((w) => this.run(w, fn, n, 2)));
        const t = Math.max(...ms.flat());
        if (round >= 3 && t > targetMs / 3) {
          n = Math.max(1, Math.round((n * targetMs) / t));
          break;
        }
        n = Math.max(1, Math.round((n * targetMs) / Math.max(t, 0.05)));
      }
      its.set(acc, n);
    }
    return its;
  }
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Median GFLOP/s of tf.matMul on n×n float32 matrices (the current backend), `reps` products after 2 warm-up ones. */
export function tfjsMatmulGflops(n: number, reps: number): number {
  const rng = new Rng(7);
  const a = tf.tensor2d(rng.uniformArray(n * n, -1, 1), [n, n]);
  const b = tf.tensor2d(rng.uniformArray(n * n, -1, 1), [n, n]);
  const once = () => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  };
  once();
  once();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    once();
    ms.push(performance.now() - t0);
  }
  tf.dispose([a, b]);
  return (2 * n ** 3) / median(ms) / 1e6;
}

/** One answer of torch_matmul.py. */
export interface TorchMatmul {
  n: number;
  threads: number;
  ms: number;
  gflops: number;
  openblasThreads: number | null;
  version: string;
}

/** torch_matmul.py kept running, asked one product size and thread count at a time. */
export class TorchMatmulServer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly pending: ((line: string) => void)[] = [];
  private stderr = '';
  constructor(python: string) {
    const script = fileURLToPath(new URL('./torch_matmul.py', import.meta.url));
    this.child = spawn(python, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d) => {
      this.stderr += String(d);
    });
    this.lines = createInterface({ input: this.child.stdout });
    this.lines.on('line', (line) => this.pending.shift()?.(line));
  }
  matmul(n: number, threads: number, reps: number): Promise<TorchMatmul> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`torch_matmul.py exited (${code}): ${this.stderr.trim()}`));
      this.child.once('exit', onExit);
      this.pending.push((line) => {
        this.child.off('exit', onExit);
        resolve(JSON.parse(line) as TorchMatmul);
      });
      this.child.stdin.write(`${n} ${threads} ${reps}\n`);
    });
  }
  async close(): Promise<void> {
    const done = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    await done;
    this.lines.close();
  }
}

/** Multiply-accumulate count of one convolution (or matrix product): output positions × input channels × output channels × filter taps. */
interface Layer {
  name: string;
  positions: number;
  cin: number;
  cout: number;
  taps: number;
}
const macs = (l: Layer) => l.positions * l.cin * l.cout * l.taps;

/** FLOP count of a case: 2 per multiply-accumulate of its convolutions / matrix products; bias, ReLU, pooling, loss and optimizer are not counted (so the count, and every bound derived from it, is a lower bound). */
export interface CaseFlops {
  forward: number;
  backward: number;
  total: number;
  /** How the count was made (printed under the table). */
  note: string;
}

/**
 * Training-step flops: forward + backward, where the backward computes every
 * layer's filter gradient (as many MACs as its forward) and the input
 * gradient of every layer but the first (whose input, the data, needs none).
 */
function trainingFlops(layers: Layer[], note: string): CaseFlops {
  const fwd = layers.reduce((s, l) => s + macs(l), 0);
  const bwd = fwd + layers.slice(1).reduce((s, l) => s + macs(l), 0);
  return { forward: 2 * fwd, backward: 2 * bwd, total: 2 * (fwd + bwd), note };
}

/** MLP 784-1000-1000-10, batch 100 (compare.ts mlpSgdStep, torch_steps.py's MLP). */
export function mlpFlops(): CaseFlops {
  const b = 100;
  const dims = [784, 1000, 1000, 10];
  const layers = dims
    .slice(1)
    .map((cout, i) => ({ name: `fc${i + 1}`, positions: b, cin: dims[i]!, cout, taps: 1 }));
  return trainingFlops(
    layers,
    'MLP: forward 100·(784·1000 + 1000·1000 + 1000·10) MACs; backward: the weight gradients (as many) and the input gradients of fc2 and fc3',
  );
}

/** optim-adm's pixel net (width 16, 2 classes) on 120×90 with 9 channels, 'same' padding (compare.ts pixelNetStep). */
export function pixelNetFlops(): CaseFlops {
  const p = 120 * 90;
  const layers: Layer[] = [
    { name: 'conv1 3×3', positions: p, cin: 9, cout: 16, taps: 9 },
    { name: 'conv2 3×3 dilation 2', positions: p, cin: 16, cout: 16, taps: 9 },
    { name: 'conv3 1×1', positions: p, cin: 16, cout: 16, taps: 1 },
    { name: 'classify 1×1', positions: p, cin: 16, cout: 2, taps: 1 },
  ];
  return trainingFlops(
    layers,
    "pixel net: 10 800 pixels × (9·16·9 + 16·16·9 + 16·16 + 16·2) MACs forward; backward: every filter gradient and the input gradients of conv2, conv3, classify (padding positions counted as the 'same' convolutions compute them)",
  );
}

/**
 * N4's dense forward in torch_steps.py's form: a 350×350 input (256 + RF − 1),
 * every stride 1, layer l dilated by the product of the earlier pools' strides,
 * each valid convolution shrinking the map by dilation·(k − 1) and each 2×2
 * pool by its dilation.
 */
export function n4DenseFlops(): CaseFlops {
  const layers: Layer[] = [];
  let side = 256 + 94;
  let cin = 1;
  const stages: [number, number][] = [
    [48, 4],
    [48, 5],
    [48, 4],
    [48, 4],
  ];
  let dilation = 1;
  stages.forEach(([cout, k], i) => {
    side -= dilation * (k - 1);
    layers.push({ name: `conv${i + 1}`, positions: side * side, cin, cout, taps: k * k });
    side -= dilation; // 2×2 max-pool, stride 1, dilated
    dilation *= 2;
    cin = cout;
  });
  side -= dilation * 2;
  layers.push({ name: 'fc (3×3)', positions: side * side, cin, cout: 200, taps: 9 });
  layers.push({ name: 'classify (1×1)', positions: side * side, cin: 200, cout: 2, taps: 1 });
  if (side !== 256) throw new Error(`n4DenseFlops: output side ${side}, expected 256`);
  const fwd = layers.reduce((s, l) => s + macs(l), 0);
  return {
    forward: 2 * fwd,
    backward: 0,
    total: 2 * fwd,
    note: `N4 dense: ${layers.map((l) => `${l.name} ${(macs(l) / 1e9).toFixed(2)}`).join(', ')} GMAC (forward only)`,
  };
}
