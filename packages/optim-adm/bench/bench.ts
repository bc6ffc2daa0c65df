// Benchmark of @seg/optim-adm: one ADM iteration on a GrabCut image (Y-step
// on 1 and 2 workers, θ-step), and the Y-step's min cut against the native
// Boykov–Kolmogorov anchor (libmaxflow) on the same full-size instance.
//   npx pnpm@10.34.8 --filter @seg/optim-adm bench [--quick]
// Last line: BENCH {json}.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { anchorBinary } from '@seg/anchors';
import { createSolverPool, readGridInstance } from '@seg/crf-solvers';
import { gridWeights } from '@seg/losses';
import { initBackend } from '@seg/tensor';
import { median, tsWorker } from '@seg/tensor/testing';
import {
  colorCosts,
  createPixelNet,
  downscaleImage,
  downscaleSeeds,
  inlineSolver,
  type PottsProblem,
  poolSolver,
  proposalProblem,
  reducedSize,
  trainAdm,
} from '../src/index.js';
import { loadGrabCut } from '../src/node/index.js';

const quick = process.argv.includes('--quick');
const shared =
  process.env.SEG_SHARED ?? fileURLToPath(new URL('../../../../shared', import.meta.url));
const dataDir = join(shared, 'data/grabcut');
const backend = await initBackend({ backend: 'wasm' });

// --- one ADM iteration on one image, at the experiment's resolution ---
const NAME = 'banana1';
const [ex] = loadGrabCut(dataDir, { scribbles: 1, names: [NAME] });
const [w, h] = reducedSize(ex!.image.width, ex!.image.height, 120);
const small = { image: downscaleImage(ex!.image, w, h), seeds: downscaleSeeds(ex!.seeds, w, h, 2) };
const net = createPixelNet({ seed: 1, width: 16 });
const run = await trainAdm(net, small, {
  iterations: quick ? 4 : 10,
  stepsPerIteration: 5,
  lambda: 5,
});
net.dispose();
const it = run.history.slice(1);
const admIterMs = median(it.map((i) => i.timings.totalMs));
const thetaMs = median(it.map((i) => i.timings.thetaMs));
const yInlineMs = median(it.map((i) => i.timings.yStepMs));
// the same with the Y-steps at the image's full size (segmentImage's default)
const netFull = createPixelNet({ seed: 1, width: 16 });
const runFull = await trainAdm(
  netFull,
  { ...small, full: { image: ex!.image, seeds: ex!.seeds } },
  { iterations: quick ? 4 : 10, stepsPerIteration: 5, lambda: 5 },
);
netFull.dispose();
const itFull = runFull.history.slice(1);
const admIterFullMs = median(itFull.map((i) => i.timings.totalMs));
const yFullMs = median(itFull.map((i) => i.timings.yStepMs));

// --- Y-step on a batch: proposal problems of several images, 1 vs 2 workers ---
const batchNames = loadGrabCut(dataDir, { scribbles: 1, limit: quick ? 8 : 12 });
function problemsAt(maxSide: number): PottsProblem[] {
  return batchNames.map((e) => {
    const [bw, bh] = reducedSize(e.image.width, e.image.height, maxSide);
    const img = downscaleImage(e.image, bw, bh);
    const sd = downscaleSeeds(e.seeds, bw, bh, 2);
    // a network-like unary: the scribbles' colour model turned into probabilities
    const u = colorCosts(img, sd);
    const probs = new Float32Array(bw * bh * 2);
    for (let p = 0; p < bw * bh; p++) {
      const q = 1 / (1 + Math.exp(u[2 * p + 1]! - u[2 * p]!));
      probs[2 * p] = 1 - q;
      probs[2 * p + 1] = q;
    }
    return proposalProblem(probs, bw, bh, 2, gridWeights(img, { connectivity: 8 }).edges, sd.data, {
      pottsWeight: 5,
    });
  });
}
/**
 * Median time to solve `problems` on a pool of 1 and of 2 workers, the two
 * timed alternately (1, 2, 1, 2, …) so that both see the same machine.
 */
async function timeSolvers(problems: PottsProblem[], reps: number): Promise<[number, number]> {
  const worker = tsWorker(new URL(import.meta.resolve('@seg/crf-solvers/worker')));
  const pools = [
    await createSolverPool({ ...worker, size: 1 }),
    await createSolverPool({ ...worker, size: 2 }),
  ];
  const solvers = pools.map((p) => poolSolver(p));
  try {
    for (const [i, solver] of solvers.entries()) await solver.solve(problems.slice(0, i + 1)); // warm-up
    const t: [number[], number[]] = [[], []];
    for (let r = 0; r < reps; r++) {
      for (const [i, solver] of solvers.entries()) {
        const t0 = performance.now();
        await solver.solve(problems);
        t[i]!.push(performance.now() - t0);
      }
    }
    return [median(t[0]), median(t[1])];
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}
const reps = quick ? 2 : 3;
const rows: [string, number, number, number][] = [];
const speedups: Record<string, number> = {};
for (const side of [120, 480]) {
  const problems = problemsAt(side);
  const t0 = performance.now();
  await inlineSolver().solve(problems);
  const inline = performance.now() - t0;
  const [one, two] = await timeSolvers(problems, quick ? 3 : 7);
  rows.push([`Y-step, batch of ${problems.length}, longest side ${side}`, inline, one, two]);
  speedups[side] = one / two;
}

// --- the min cut against the native anchor, full-size classic instance ---
let anchor: { oursMs: number; nativeMs: number } | null = null;
const scratch = join(tmpdir(), 'seg-optim-adm-anchors');
const native = anchorBinary(shared, 'maxflow_bk');
if (native.path) {
  mkdirSync(scratch, { recursive: true });
  const bin = native.path;
  const inst = join(scratch, `${NAME}.grid`);
  execFileSync('node', [
    join(shared, 'bench/anchors/grid-instance.mjs'),
    join(dataDir, 'images', `${NAME}.png`),
    join(dataDir, 'scribbles-1', `${NAME}.png`),
    inst,
    '--lambda',
    '50',
    '--conn',
    '8',
  ]);
  const nat: number[] = [];
  for (let r = 0; r < reps; r++) nat.push(JSON.parse(execFileSync(bin, [inst]).toString()).solveMs);
  const gi = readGridInstance(new Uint8Array(readFileSync(inst)));
  const { GridGraph, GRID_DIRECTION_NAMES } = await import('@seg/crf-solvers');
  const ours: number[] = [];
  for (let r = 0; r < reps; r++) {
    const g = new GridGraph(gi);
    g.setTerminals(gi.source, gi.sink);
    gi.edges.forEach((e, k) => {
      g.setEdges(GRID_DIRECTION_NAMES[k]!, e);
    });
    const t0 = performance.now();
    g.maxflow();
    ours.push(performance.now() - t0);
  }
  anchor = { oursMs: median(ours), nativeMs: median(nat) };
}

console.log(
  `@seg/optim-adm benchmark (${backend.backend}, SIMD ${backend.simd})${quick ? ' --quick' : ''}`,
);
console.log(`ADM iteration on ${NAME} at ${w}×${h} (5 θ-steps, pixel net width 16):`);
console.log(
  `| part | ms |\n|---|---|\n| whole iteration | ${admIterMs.toFixed(1)} |\n| θ-step phase (5 steps) | ${thetaMs.toFixed(1)} |\n| Y-step (in thread) | ${yInlineMs.toFixed(1)} |` +
    `\n| whole iteration, Y-step at full size ${ex!.image.width}×${ex!.image.height} | ${admIterFullMs.toFixed(1)} |` +
    `\n| Y-step at full size (in thread) | ${yFullMs.toFixed(1)} |`,
);
console.log(
  '\n| Y-step batch | in thread ms | 1 worker ms | 2 workers ms | speedup 2/1 |\n|---|---|---|---|---|',
);
for (const [label, a, b, c] of rows)
  console.log(
    `| ${label} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${c.toFixed(1)} | ${(b / c).toFixed(2)}× |`,
  );
if (anchor) {
  console.log(
    `\n| min cut, ${NAME} full size, λ=50, 8-conn | ms |\n|---|---|\n| ours (GridGraph, plain TypeScript) | ${anchor.oursMs.toFixed(1)} |\n| native BK (libmaxflow, -O2) | ${anchor.nativeMs.toFixed(1)} |\n| ratio ours/native | ${(anchor.oursMs / anchor.nativeMs).toFixed(2)} |`,
  );
} else {
  console.log(`\nnative anchor skipped: ${native.reason}`);
}
const bench = {
  admIterMs,
  thetaStepsMs: thetaMs,
  yStepInlineMs: yInlineMs,
  admIterFullSizeMs: admIterFullMs,
  yStepFullSizeMs: yFullMs,
  proposalSpeedup2Workers: speedups[480],
  proposalSpeedup2WorkersTrainRes: speedups[120],
  mincutMs: anchor?.oursMs ?? null,
  mincutNativeMs: anchor?.nativeMs ?? null,
  mincutRatioVsNative: anchor ? anchor.oursMs / anchor.nativeMs : null,
};
console.log(`BENCH ${JSON.stringify(bench)}`);
