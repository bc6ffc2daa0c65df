// Where @seg stands against what a user would run instead, on the three
// compute-bound cases of issue 19, all in one run:
//   pixelNetStepMs  one Adam step (lr 0.01; @seg/tensor's segAdam, which
//                   optim-adm's trainers run) of optim-adm's pixel net
//                   (createPixelNet: 9 input channels, width 16) on 120×90,
//                   mean cross-entropy over every pixel (@seg/losses'
//                   partialCrossEntropy with every pixel labelled, the loss
//                   optim-adm trains with);
//   n4DenseMs       the dense forward of Cireşan et al.'s N4 on a 256×256
//                   image (eConv / ePool, @seg/dense-conv), 256×256 outputs;
//   mlpSgdStepMs    one SGD step (lr 0.01, segSgd) of the 784-1000-1000-10 ReLU MLP,
//                   batch 100.
// The same shapes as ../shared/bench/anchors/torch_steps.py, which this script
// runs in the same rounds as @seg's figures (3 rounds, 1 with --quick, the
// order reversed every other round; medians). Both sides run on 1 and 2
// threads and each counts with its faster one: @seg restarts its wasm backend
// between the counts (initBackend({ threads }): 2 runs tfjs's threaded build,
// XNNPACK's pool and the SIMD kernels' helper threads). The anchor runs
// wherever `import torch` works in python3 (or Debian's /usr/bin/python3
// with python3-torch); elsewhere it says the anchor was skipped. Never a
// constant.
//
// The anchor runs with OPENBLAS_NUM_THREADS set to its thread count: Debian's
// torch calls the system OpenBLAS (pthread build), whose pool otherwise runs
// on every core whatever torch.set_num_threads says.
//
// Then the roofline section (roofline.ts, README.md here): the wasm SIMD128
// peak of this machine (a WAT microkernel, 1 and 2 threads), tf.matMul and
// torch.mm on 1000×1000×1000, the FLOP count of each case, and per case the
// least ratio a perfect wasm kernel could reach, (PyTorch's GFLOP/s on the
// case) / (wasm peak × threads). Each round times both sides (the order
// reversed every other round): the peak, tf.matMul, torch.mm and
// torch_steps.py --quick; the bound takes the medians over the rounds.
//
//   npx -y pnpm@10.34.8 bench:compare [--quick] [--roofline-only]
//
// --roofline-only skips @seg's three timings (the bound needs only the
// PyTorch side and the peak). Prints the tables, then `BENCH {json}` with
// pixelNetStepMs, n4DenseMs, mlpSgdStepMs and, when the anchor ran,
// …RatioTorch (@seg / PyTorch's best); wasmSimdPeakGflops,
// tfjsMatmulGflops, and with torch torchMatmulGflops and …RatioBound.
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
import { partialCrossEntropy } from '@seg/losses';
import { createPixelNet } from '@seg/optim-adm';
import { initBackend, Rng, segAdam, segSgd } from '@seg/tensor';
import { median, sharedDir } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import {
  type CaseFlops,
  compilePeak,
  mlpFlops,
  n4DenseFlops,
  PEAK_ACCUMULATORS,
  PeakWorkers,
  pixelNetFlops,
  type TorchMatmul,
  TorchMatmulServer,
  tfjsMatmulGflops,
} from './roofline.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'roofline-only': { type: 'boolean', default: false },
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
  // every pixel labelled: @seg/losses' partial CE is then the mean
  // cross-entropy over all pixels (torch_steps.py: F.cross_entropy), and it
  // is the loss optim-adm's trainers run
  const y = tf.tensor3d(
    Array.from({ length: h * w }, () => rng.int(2)),
    [1, h, w],
    'int32',
  );
  const optimizer = segAdam(0.01);
  const vars = net.model.variables();
  const step = () => {
    const loss = optimizer.minimize(
      () => partialCrossEntropy(net.forward(x), y, { reduction: 'mean' }) as tf.Scalar,
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
  const optimizer = segSgd(0.01);
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

function runTorch(py: string, script: string, threads: number, short = quick): TorchFigures {
  const out = execFileSync(
    py,
    [script, '--threads', String(threads), ...(short ? ['--quick'] : [])],
    {
      encoding: 'utf8',
      env: { ...process.env, OPENBLAS_NUM_THREADS: String(threads) },
    },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as TorchFigures;
}

const report = await initBackend();
console.log(
  `@seg: tfjs ${tf.version_core}, backend ${report.backend}, SIMD ${report.simd}, threads ${report.threads}; load ${load()}`,
);
const shared = sharedDir();
const script = shared ? join(shared, 'bench/anchors/torch_steps.py') : null;
const py = torchPython();
let skipped = '';
if (!script || !existsSync(script))
  skipped = 'no ../shared/bench/anchors/torch_steps.py on this machine';
else if (!py)
  skipped =
    'python3 cannot `import torch` here (Debian: apt-get install python3-torch libopenblas0-pthread)';

type Key = 'pixelNetStepMs' | 'n4DenseMs' | 'mlpSgdStepMs';
const KEYS: Key[] = ['pixelNetStepMs', 'n4DenseMs', 'mlpSgdStepMs'];
// Both sides in every round, the order reversed every other round (this
// machine's speed drifts by tens of percent within minutes); medians over
// the rounds.
const mainRounds = args['roofline-only'] ? 0 : quick ? 1 : 3;
// @seg on 1 and 2 wasm threads (the threaded build: XNNPACK's pool and the
// SIMD kernels' helper threads), like PyTorch on 1 and 2; the backend
// restarts between the counts (each case builds its model anew)
const segRuns: Record<1 | 2, Record<Key, number>[]> = { 1: [], 2: [] };
const torchRuns: Record<1 | 2, TorchFigures[]> = { 1: [], 2: [] };
if (mainRounds > 0)
  console.log(
    `\n${mainRounds} round(s), @seg and PyTorch each (order reversed every other round):`,
  );
for (let r = 0; r < mainRounds; r++) {
  const before = load();
  const runSeg = async () => {
    for (const t of [1, 2] as const) {
      const started = await initBackend({ threads: t });
      if (started.threads !== t)
        throw new Error(`@seg: ${t} threads asked, ${started.threads} run`);
      segRuns[t].push({
        pixelNetStepMs: pixelNetStep(),
        n4DenseMs: n4Dense(),
        mlpSgdStepMs: mlpSgdStep(),
      });
    }
  };
  const runTorchBoth = () => {
    if (skipped) return;
    for (const t of [1, 2] as const) torchRuns[t].push(runTorch(py!, script!, t));
  };
  if (r % 2 === 0) {
    await runSeg();
    runTorchBoth();
  } else {
    runTorchBoth();
    await runSeg();
  }
  const ms = (f: Record<Key, number>) => KEYS.map((k) => f[k].toFixed(2)).join(' / ');
  const pairRatio = () => {
    const [s1, s2] = [segRuns[1].at(-1)!, segRuns[2].at(-1)!];
    const [t1, t2] = [torchRuns[1].at(-1)!, torchRuns[2].at(-1)!];
    return KEYS.map((k) => (Math.min(s1[k], s2[k]) / Math.min(t1[k], t2[k])).toFixed(2)).join(
      ' / ',
    );
  };
  const torchLine = skipped
    ? ''
    : `; PyTorch 1T ${ms(torchRuns[1].at(-1)!)}, 2T ${ms(torchRuns[2].at(-1)!)} ms; this round's ratios ${pairRatio()}`;
  console.log(
    `  round ${r + 1} (load ${before} → ${load()}): @seg 1T ${ms(segRuns[1].at(-1)!)}, 2T ${ms(segRuns[2].at(-1)!)}${skipped ? ' ms' : ''}${torchLine} (pixel / N4 / MLP)`,
  );
}
const medianOf = (runs: Record<Key, number>[]) =>
  Object.fromEntries(KEYS.map((k) => [k, median(runs.map((f) => f[k]))])) as Record<Key, number>;
const segBy = segRuns[1].length
  ? ([1, 2] as const).map((t) => ({ threads: t, ...medianOf(segRuns[t]) }))
  : [];
/** @seg's better thread count per case (medians). */
const seg = segBy.length
  ? (Object.fromEntries(KEYS.map((k) => [k, Math.min(...segBy.map((f) => f[k]))])) as Record<
      Key,
      number
    >)
  : null;
const torch: TorchFigures[] = torchRuns[1].length
  ? ([1, 2] as const).map((t) => ({
      threads: t,
      version: torchRuns[t][0]!.version,
      ...medianOf(torchRuns[t]),
    }))
  : [];

const cases: [Key, string][] = [
  ['pixelNetStepMs', "pixel-net Adam step (optim-adm's net, 120×90, 9 channels)"],
  ['n4DenseMs', 'N4 dense forward, 256×256 (dense-conv)'],
  ['mlpSgdStepMs', 'MLP 784-1000-1000-10 SGD step, batch 100'],
];
const best = (k: Key) => Math.min(...torch.map((t) => t[k]));
const fmt = (v: number) => v.toFixed(2);
console.log(
  `\n| case (medians of the rounds) | @seg 1 thread ms | @seg 2 threads ms | PyTorch 1 thread ms | PyTorch 2 threads ms | ratio (best @seg / best PyTorch) |\n|---|---|---|---|---|---|`,
);
const bench: Record<string, unknown> = {
  backend: report.backend,
  simd: report.simd,
  threads: [1, 2],
  ...Object.fromEntries(Object.entries(seg ?? {}).map(([k, v]) => [k, +v.toFixed(3)])),
  ...Object.fromEntries(
    segBy.flatMap((f) =>
      KEYS.map((k) => [`${k.replace(/Ms$/, '')}${f.threads}TMs`, +f[k].toFixed(3)]),
    ),
  ),
};
for (const [key, name] of cases) {
  const t1 = torch.find((t) => t.threads === 1)?.[key];
  const t2 = torch.find((t) => t.threads === 2)?.[key];
  const ratio = seg && torch.length ? seg[key] / best(key) : undefined;
  if (ratio !== undefined) bench[key.replace(/Ms$/, 'RatioTorch')] = +ratio.toFixed(3);
  console.log(
    `| ${name} | ${segBy.length ? segBy.map((f) => fmt(f[key])).join(' | ') : '— | —'} | ${t1 === undefined ? '—' : fmt(t1)} | ${t2 === undefined ? '—' : fmt(t2)} | ${ratio === undefined ? '—' : ratio.toFixed(2)} |`,
  );
}
if (skipped) console.log(`\nPyTorch anchor skipped: ${skipped}.`);
else if (torch.length)
  console.log(
    `\nPyTorch ${torch[0]!.version} (CPU), ${py}, OPENBLAS_NUM_THREADS = its thread count`,
  );
console.log(`load average (1, 5, 15 min) after the rounds: ${load()}`);
bench.torch = skipped ? { skipped } : { version: torch[0]?.version, python: py };

await initBackend({ threads: 1 }); // the roofline's tf.matMul: one thread, as its peak per thread

// ---- roofline: the least ratio a perfect wasm SIMD128 kernel could reach ----
const N = 1000;
const rounds = quick ? 1 : 3;
const peakModule = await compilePeak();
const workers = PeakWorkers.create(peakModule, 2);
const iterations = await workers.calibrate(quick ? 25 : 100);
const server = py ? new TorchMatmulServer(py) : null;
const peakSamples = new Map<string, number[]>(); // `${acc}x${threads}` → GFLOP/s per round
const tfjsSamples: number[] = [];
const torchSamples: Record<1 | 2, number[]> = { 1: [], 2: [] };
const caseSamples: Record<1 | 2, TorchFigures[]> = { 1: [], 2: [] };
let torchMatmulInfo: TorchMatmul | undefined;
console.log(
  `\nRoofline, ${rounds} round(s), each (order reversed every other round): wasm side — SIMD128 peak (1, then 2 threads), tf.matMul ${N}³; PyTorch side — torch.mm ${N}³ (1, 2 threads)${py && script ? ', torch_steps.py --quick (1, 2 threads)' : ''}:`,
);
for (let r = 0; r < rounds; r++) {
  const line: string[] = [];
  const loadBefore = load();
  const wasmSide = async () => {
    for (const threads of [1, 2]) {
      const best: number[] = [];
      for (const acc of PEAK_ACCUMULATORS) {
        const g = await workers.gflops(acc, threads, iterations.get(acc)!, 3);
        const key = `${acc}x${threads}`;
        peakSamples.set(key, [...(peakSamples.get(key) ?? []), g]);
        best.push(g);
      }
      line.push(`peak ${threads}T ${Math.max(...best).toFixed(1)}`);
    }
    const tf1 = tfjsMatmulGflops(N, quick ? 3 : 7);
    tfjsSamples.push(tf1);
    line.push(`tf.matMul ${tf1.toFixed(1)}`);
  };
  const torchSide = async () => {
    if (!server) return;
    for (const threads of [1, 2] as const) {
      const m = await server.matmul(N, threads, quick ? 3 : 7);
      torchMatmulInfo = m;
      torchSamples[threads].push(m.gflops);
      line.push(`torch.mm ${threads}T ${m.gflops.toFixed(1)}`);
    }
    if (py && script && existsSync(script)) {
      for (const threads of [1, 2] as const) {
        const t = runTorch(py, script, threads, true);
        caseSamples[threads].push(t);
        line.push(
          `torch steps ${threads}T ${fmt(t.pixelNetStepMs)} / ${fmt(t.n4DenseMs)} / ${fmt(t.mlpSgdStepMs)} ms`,
        );
      }
    }
  };
  for (const side of r % 2 === 0 ? [wasmSide, torchSide] : [torchSide, wasmSide]) await side();
  console.log(
    `  round ${r + 1} (load ${loadBefore} → ${load()}): ${line.join(', ')} (GFLOP/s; steps pixel / N4 / MLP)`,
  );
}
await workers.close();
await server?.close();

const perAcc = PEAK_ACCUMULATORS.map((acc) => ({
  acc,
  t1: median(peakSamples.get(`${acc}x1`)!),
  t2: median(peakSamples.get(`${acc}x2`)!),
}));
const peak1 = Math.max(...perAcc.map((p) => p.t1));
const peak2Measured = Math.max(...perAcc.map((p) => p.t2));
// with 2 threads the larger of the measured figure and twice one thread's: the
// lower bound that results is the smaller, i.e. the one more favourable to @seg
const peak2 = Math.max(peak2Measured, 2 * peak1);
const tfjsMatmul = median(tfjsSamples);
const torchMatmul = server ? { 1: median(torchSamples[1]), 2: median(torchSamples[2]) } : null;
const g = (v: number) => v.toFixed(1);
console.log(`\n| measurement (median of ${rounds} round(s)) | GFLOP/s |\n|---|---|`);
for (const p of perAcc)
  console.log(
    `| wasm SIMD128 microkernel, ${p.acc} f32x4 accumulators, 1 thread / 2 threads at once | ${g(p.t1)} / ${g(p.t2)} |`,
  );
console.log(`| **wasm SIMD128 peak, 1 thread** (best kernel) | **${g(peak1)}** |`);
console.log(
  `| wasm SIMD128 peak, 2 threads (measured ${g(peak2Measured)}; bound uses max(measured, 2 × 1 thread)) | ${g(peak2)} |`,
);
console.log(
  `| tf.matMul ${N}³, tfjs-wasm (XNNPACK), 1 thread | ${g(tfjsMatmul)} (${((100 * tfjsMatmul) / peak1).toFixed(0)} % of the 1-thread peak) |`,
);
if (torchMatmul)
  console.log(
    `| torch.mm ${N}³, 1 thread / 2 threads (OpenBLAS threads ${torchMatmulInfo?.openblasThreads ?? 'n/a'} at the last call) | ${g(torchMatmul[1])} / ${g(torchMatmul[2])} |`,
  );
// Debian's python3-torch takes whichever libblas.so.3 is installed; with the
// reference BLAS alone (netlib, ~6 GFLOP/s here) its GEMMs are slower than
// tfjs-wasm's and every ratio against it is meaningless
if (torchMatmul && torchMatmul[1] < tfjsMatmul)
  console.log(
    `WARNING: torch.mm (${g(torchMatmul[1])} GFLOP/s on 1 thread) is slower than tfjs-wasm's tf.matMul (${g(tfjsMatmul)}): PyTorch runs on an unoptimised BLAS, and the ratios above against it mean little (Debian: apt-get install libopenblas0-pthread)`,
  );

const flops: Record<Key, CaseFlops> = {
  pixelNetStepMs: pixelNetFlops(),
  n4DenseMs: n4DenseFlops(),
  mlpSgdStepMs: mlpFlops(),
};
const targets: Record<Key, number> = { pixelNetStepMs: 2.0, n4DenseMs: 1.5, mlpSgdStepMs: 1.5 };
const boundKey: Record<Key, string> = {
  pixelNetStepMs: 'pixelNetRatioBound',
  n4DenseMs: 'n4RatioBound',
  mlpSgdStepMs: 'mlpRatioBound',
};
console.log(
  '\n| case | GFLOP (conv / matmul MACs × 2) | @seg GFLOP/s, 1 / 2 threads (% of the peak on as many threads) | PyTorch GFLOP/s 1 / 2 threads (median of the rounds) | measured ratio (table above) | **bound, 1 wasm thread** | bound, 2 wasm threads | at the tf.matMul rate, 1 thread | target | verdict |\n|---|---|---|---|---|---|---|---|---|---|',
);
const roof: Record<string, unknown> = {};
for (const [key, name] of cases) {
  const f = flops[key].total;
  const segG = seg ? f / seg[key] / 1e6 : undefined;
  const segRate = segBy
    .map((b) => {
      const rate = f / b[key] / 1e6;
      return `${g(rate)} (${((100 * rate) / (b.threads === 1 ? peak1 : peak2)).toFixed(0)} %)`;
    })
    .join(' / ');
  // PyTorch's time on the case: median over the rounds per thread count, the faster count
  const t1 = caseSamples[1].length ? median(caseSamples[1].map((t) => t[key])) : undefined;
  const t2 = caseSamples[2].length ? median(caseSamples[2].map((t) => t[key])) : undefined;
  const torchBest = t1 === undefined || t2 === undefined ? undefined : f / Math.min(t1, t2) / 1e6;
  const b1 = torchBest === undefined ? undefined : torchBest / peak1;
  const b2 = torchBest === undefined ? undefined : torchBest / peak2;
  const target = targets[key];
  const verdict =
    b1 === undefined || b2 === undefined
      ? '— (no PyTorch)'
      : b2 > target
        ? 'out of reach even on 2 wasm threads'
        : b1 > target
          ? 'out of reach on 1 wasm thread; not excluded on 2'
          : 'not excluded by the bound';
  const measured = seg && torch.length ? seg[key] / best(key) : undefined;
  console.log(
    `| ${name} | ${(f / 1e9).toFixed(3)} | ${segRate || '—'} | ${t1 === undefined ? '—' : g(f / t1 / 1e6)} / ${t2 === undefined ? '—' : g(f / t2 / 1e6)} | ${measured === undefined ? '—' : measured.toFixed(2)} | ${b1 === undefined ? '—' : `**${b1.toFixed(2)}**`} | ${b2 === undefined ? '—' : b2.toFixed(2)} | ${torchBest === undefined ? '—' : (torchBest / tfjsMatmul).toFixed(2)} | ≤ ${target.toFixed(1)} | ${verdict} |`,
  );
  const base = key.replace(/Ms$/, '');
  roof[`${base}Gflop`] = +(f / 1e9).toFixed(4);
  if (segG !== undefined) roof[`${base}SegGflops`] = +segG.toFixed(2);
  if (torchBest !== undefined) roof[`${base}TorchGflops`] = +torchBest.toFixed(2);
  if (b1 !== undefined) roof[boundKey[key]] = +b1.toFixed(3);
  if (b2 !== undefined) roof[`${boundKey[key]}2Threads`] = +b2.toFixed(3);
  if (torchBest !== undefined)
    roof[`${base}RatioAtMatmulRate`] = +(torchBest / tfjsMatmul).toFixed(3);
}
if (torchMatmul) {
  const tb = Math.max(torchMatmul[1], torchMatmul[2]);
  console.log(
    `| matmul ${N}³ (for scale) | ${((2 * N ** 3) / 1e9).toFixed(3)} | tf.matMul ${g(tfjsMatmul)} | ${g(torchMatmul[1])} / ${g(torchMatmul[2])} | ${(tb / tfjsMatmul).toFixed(2)} (tf.matMul) | **${(tb / peak1).toFixed(2)}** | ${(tb / peak2).toFixed(2)} | ${(tb / tfjsMatmul).toFixed(2)} | — | — |`,
  );
}
for (const [, f] of Object.entries(flops)) console.log(`  ${f.note}`);
console.log(
  "bound = (PyTorch GFLOP/s on the case, the faster thread count, median of the rounds' torch_steps.py --quick) / (wasm SIMD128 peak × threads): the ratio @seg would have if every conv / matmul FLOP ran at the microkernel's register-only rate and nothing else took time; FLOPs not counted (bias, ReLU, pooling, loss, optimizer) only lower it. \"at the tf.matMul rate\": the same with every flop at XNNPACK's measured 1000³ GEMM rate instead of the peak (not a bound: a practical reference).",
);
console.log(`load average (1, 5, 15 min) at the end: ${load()}`);

Object.assign(bench, roof, {
  wasmSimdPeakGflops: +peak1.toFixed(2),
  wasmSimdPeak2ThreadsGflops: +peak2Measured.toFixed(2),
  wasmSimdPeakByAccumulators: Object.fromEntries(
    perAcc.map((p) => [p.acc, [+p.t1.toFixed(2), +p.t2.toFixed(2)]]),
  ),
  tfjsMatmulGflops: +tfjsMatmul.toFixed(2),
  ...(torchMatmul
    ? {
        torchMatmulGflops: +Math.max(torchMatmul[1], torchMatmul[2]).toFixed(2),
        torchMatmul1ThreadGflops: +torchMatmul[1].toFixed(2),
        torchMatmul2ThreadsGflops: +torchMatmul[2].toFixed(2),
      }
    : {}),
  rooflineRounds: rounds,
});
bench.loadAverage = loadavg().map((v) => +v.toFixed(2));
console.log(`BENCH ${JSON.stringify(bench)}`);
