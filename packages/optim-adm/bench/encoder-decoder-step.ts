// Benchmark of @seg/optim-adm's data-set network: one training step of
// createEncoderDecoder (src/dataset/network.ts, 194 k parameters) as
// trainOnDataset runs it with method 'pce' — the forward pass on a batch of 8
// crops of 64×64 (3 channels), the partial cross-entropy of a scribble mask
// (~3 % of the pixels), the gradients and an Adam step (lr 1e-3) — on the
// wasm backend, next to the same step of the same network in PyTorch (CPU,
// 1 and 2 threads, the faster counts; bench/torch_encoder_decoder.py) wherever
// `import torch` works in python3 (or Debian's /usr/bin/python3 with
// python3-torch); elsewhere the anchor is reported as skipped, never a constant.
// The two are timed alternately (rounds of @seg, PyTorch 1 thread, PyTorch
// 2 threads) so that both see the same machine; each figure is the median of
// its pooled timings after warm-up. Before timing, the PyTorch copy is loaded
// with @seg's weights and its logits compared with @seg's (same layer shapes,
// padding, resize convention and concatenation order, not just the same
// parameter count).
//
//   npx -y pnpm@10.34.8 --filter @seg/optim-adm bench:encoder-decoder [--quick] [--batch 8] [--size 64]
//
// Prints a table and the load average, then `BENCH {json}` with
// encoderDecoderStepMs, encoderDecoderStepMsTorch and
// encoderDecoderStepRatioTorch (@seg / PyTorch's best; "skipped" without torch).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { partialCrossEntropy } from '@seg/losses';
import { initBackend, Rng } from '@seg/tensor';
import { median } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { createEncoderDecoder, NET_STRIDE } from '../src/index.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    batch: { type: 'string', default: '8' },
    size: { type: 'string', default: '64' },
  },
  strict: true,
});
const quick = args.quick;
const batch = Number(args.batch);
const size = Number(args.size);
if (!Number.isInteger(batch) || batch < 1)
  throw new Error(`bench:encoder-decoder: --batch is ${args.batch}, expected an integer ≥ 1`);
if (!Number.isInteger(size) || size < NET_STRIDE || size % NET_STRIDE !== 0)
  throw new Error(
    `bench:encoder-decoder: --size is ${args.size}, expected a positive multiple of ${NET_STRIDE}`,
  );
const rounds = quick ? 1 : 3;
const repsPerRound = quick ? 5 : 7;
const WARMUP = 3;
const LR = 1e-3;
const load = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');

/**
 * Scribbles as in the PyTorch script: per crop a foreground and a background
 * stroke, 2 px thick and size/2 long, at random places (−1 elsewhere).
 */
function scribbles(n: number, h: number, w: number, rng: Rng): Int32Array {
  const seeds = new Int32Array(n * h * w).fill(-1);
  const length = Math.max(1, h >> 1);
  for (let b = 0; b < n; b++) {
    for (const label of [0, 1]) {
      const r = rng.int(h - 1);
      const c = rng.int(w - length + 1);
      for (let y = r; y < r + 2; y++)
        seeds.fill(label, (b * h + y) * w + c, (b * h + y) * w + c + length);
    }
  }
  return seeds;
}

// --- @seg: the network, fixed inputs, one step ---
const backend = await initBackend({ backend: 'wasm' });
const net = createEncoderDecoder({ seed: 1 });
const rng = new Rng(2);
const x = tf.tensor4d(rng.normalArray(batch * size * size * 3), [batch, size, size, 3]);
const seedData = scribbles(batch, size, size, rng);
const seededFraction = seedData.filter((s) => s >= 0).length / seedData.length;
const seeds = tf.tensor3d(seedData, [batch, size, size], 'int32');
const vars = net.variables();

/** The PyTorch copy's check file: @seg's weights, an input and its logits (small, non-square). */
function checkFile(dir: string): string {
  const [n, h, w] = [2, 24, 40];
  const input = new Rng(3).normalArray(n * h * w * 3);
  const logits = tf.tidy(() => net.forward(tf.tensor4d(input, [n, h, w, 3])));
  const params = Object.fromEntries(
    Object.entries(net.params()).map(([k, v]) => [
      k,
      { shape: v.shape, data: Array.from(v.dataSync()) },
    ]),
  );
  const file = join(dir, 'encoder-decoder-check.json');
  writeFileSync(
    file,
    JSON.stringify({
      params,
      input: { shape: [n, h, w, 3], data: Array.from(input) },
      logits: { shape: logits.shape, data: Array.from(logits.dataSync()) },
    }),
  );
  logits.dispose();
  return file;
}

const optimizer = tf.train.adam(LR);
const step = () => {
  const loss = optimizer.minimize(
    () => partialCrossEntropy(net.forward(x), seeds, { reduction: 'mean' }) as tf.Scalar,
    true,
    vars,
  );
  loss!.dataSync();
  loss!.dispose();
};

// --- PyTorch ---
interface TorchFigures {
  version: string;
  threads: number;
  numParams: number;
  encoderDecoderStepMs: number;
  samplesMs: number[];
  checkMaxAbsDiff?: number;
  checkMaxAbsLogit?: number;
}

/** A python3 that can `import torch`, or null. */
function torchPython(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}
const script = fileURLToPath(new URL('./torch_encoder_decoder.py', import.meta.url));
const runTorch = (
  py: string,
  threads: number,
  reps = repsPerRound,
  extra: string[] = [],
): TorchFigures => {
  const out = execFileSync(
    py,
    [
      script,
      '--threads',
      String(threads),
      '--batch',
      String(batch),
      '--size',
      String(size),
      '--reps',
      String(reps),
      ...extra,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as TorchFigures;
};

const py = torchPython();
const skipped = py
  ? ''
  : 'python3 cannot `import torch` here (Debian: apt-get install python3-torch)';
let check: TorchFigures | null = null;
if (py) {
  const dir = mkdtempSync(join(tmpdir(), 'seg-encoder-decoder-'));
  try {
    check = runTorch(py, 1, 0, ['--check', checkFile(dir)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  `@seg: tfjs ${tf.version_core}, backend ${backend.backend}, SIMD ${backend.simd}, threads ${backend.threads}; load ${load()}`,
);
for (let i = 0; i < WARMUP; i++) step();
const segTimes: number[] = [];
const torchTimes: Record<1 | 2, number[]> = { 1: [], 2: [] };
let torchInfo: TorchFigures | null = null;
const loads: string[] = [];
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < repsPerRound; i++) {
    const t0 = performance.now();
    step();
    segTimes.push(performance.now() - t0);
  }
  if (py) {
    for (const t of [1, 2] as const) {
      torchInfo = runTorch(py, t);
      torchTimes[t].push(...torchInfo.samplesMs);
    }
  }
  loads.push(load());
}
optimizer.dispose();
tf.dispose([x, seeds]);
const segParams = net.numParams();
net.dispose();

const segMs = median(segTimes);
const t1 = py ? median(torchTimes[1]) : null;
const t2 = py ? median(torchTimes[2]) : null;
const best = t1 !== null && t2 !== null ? Math.min(t1, t2) : null;
const ratio = best !== null ? segMs / best : null;
const fmt = (v: number | null) => (v === null ? '—' : v.toFixed(1));
const torchName = `PyTorch${torchInfo ? ` ${torchInfo.version}` : ''} CPU`;

console.log(
  `\nOne 'pce' training step of createEncoderDecoder (Adam lr ${LR}), batch ${batch} × ${size}×${size}×3, ` +
    `${(100 * seededFraction).toFixed(1)} % of the pixels seeded; ${rounds} round(s) × ${repsPerRound} steps after ${WARMUP} warm-up`,
);
console.log(
  '| | parameters | step ms |\n|---|---|---|' +
    `\n| @seg (${backend.backend}, SIMD ${backend.simd}) | ${segParams} | ${fmt(segMs)} |` +
    `\n| ${torchName}, 1 thread | ${check?.numParams ?? '—'} | ${fmt(t1)} |` +
    `\n| ${torchName}, 2 threads | ${check?.numParams ?? '—'} | ${fmt(t2)} |` +
    `\n| ratio @seg / best PyTorch | | ${ratio === null ? '—' : `${ratio.toFixed(2)}×`} |`,
);
if (check) {
  console.log(
    `\nSame network: ${segParams === check.numParams ? 'parameter counts match' : 'PARAMETER COUNTS DIFFER'}; ` +
      `PyTorch with @seg's weights: logits of a 2×24×40 input differ by at most ${check.checkMaxAbsDiff!.toExponential(2)} ` +
      `(largest logit ${check.checkMaxAbsLogit!.toFixed(2)}); ${py}`,
  );
} else {
  console.log(`\nPyTorch anchor skipped: ${skipped}.`);
}
console.log(`load average (1, 5, 15 min) after each round: ${loads.join(' | ')}`);
const bench = {
  backend: backend.backend,
  simd: backend.simd,
  batch,
  size,
  numParams: segParams,
  numParamsTorch: check?.numParams ?? 'skipped',
  checkMaxAbsDiffTorch: check ? check.checkMaxAbsDiff : 'skipped',
  encoderDecoderStepMs: +segMs.toFixed(2),
  encoderDecoderStepMsTorch: best !== null ? +best.toFixed(2) : 'skipped',
  encoderDecoderStepMsTorch1: t1 !== null ? +t1.toFixed(2) : 'skipped',
  encoderDecoderStepMsTorch2: t2 !== null ? +t2.toFixed(2) : 'skipped',
  encoderDecoderStepRatioTorch: ratio !== null ? +ratio.toFixed(3) : 'skipped',
  torch: py ? { version: torchInfo?.version ?? check?.version, python: py } : { skipped },
  loadAverage: loadavg().map((v) => +v.toFixed(2)),
};
console.log(`BENCH ${JSON.stringify(bench)}`);
