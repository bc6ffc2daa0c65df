// Issue 19's interactive target: `segmentImage` (ADM, the defaults `seg
// segment` and the demo run) on teddy (284×398, the bundled sample) from the
// call to the final mask, in this process (the backend started, nothing
// else), on 1 and 2 threads (the backend restarts between the counts),
// alternated over the rounds. Prints each phase (Y-steps, θ-steps, the
// per-iteration report, the rest: input preparation, pre-training, clean-up)
// and, last, BENCH {json}.
//   npx -y pnpm@10.34.8 --filter @seg/optim-adm bench:teddy [--rounds 5]
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend } from '@seg/tensor';
import { readImage } from '@seg/tensor/node';
import { objectIoU, segmentImage } from '../src/index.js';
import { readMask, readScribbles } from '../src/node/index.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const rounds = Number(args.rounds);
const root = fileURLToPath(new URL('../../../samples/grabcut/', import.meta.url));
const image = readImage(`${root}images/teddy.png`);
const seeds = readScribbles(`${root}scribbles-1/teddy.png`);
const mask = readMask(`${root}masks/teddy.png`);
const load = () => loadavg()[0]!.toFixed(2);

interface Run {
  totalMs: number;
  yMs: number;
  thetaMs: number;
  evalMs: number;
  restMs: number;
  iou: number;
}

async function once(): Promise<Run> {
  const t0 = performance.now();
  const r = await segmentImage(image, seeds);
  const totalMs = performance.now() - t0;
  let [yMs, thetaMs, evalMs, iterMs] = [0, 0, 0, 0];
  for (const h of r.history) {
    yMs += 'yStepMs' in h.timings ? h.timings.yStepMs : 0;
    thetaMs += h.timings.thetaMs;
    evalMs += h.timings.evalMs;
    iterMs += h.timings.totalMs;
  }
  return {
    totalMs,
    yMs,
    thetaMs,
    evalMs,
    restMs: totalMs - iterMs,
    iou: objectIoU(r.labels, mask),
  };
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;
const runs: Record<1 | 2, Run[]> = { 1: [], 2: [] };
console.log(`teddy ${image.width}×${image.height}, segmentImage defaults (ADM), ${rounds} rounds`);
for (let r = 0; r < rounds; r++) {
  for (const threads of r % 2 ? ([2, 1] as const) : ([1, 2] as const)) {
    const report = await initBackend({ threads });
    if (report.threads !== threads)
      throw new Error(`bench:teddy: ${threads} threads asked, ${report.threads} run`);
    await once(); // warm-up after the restart
    const before = load();
    const run = await once();
    runs[threads].push(run);
    console.log(
      `  round ${r + 1}, ${threads} thread(s) (load ${before} → ${load()}): ${run.totalMs.toFixed(0)} ms (Y ${run.yMs.toFixed(0)}, θ ${run.thetaMs.toFixed(0)}, report ${run.evalMs.toFixed(0)}, rest ${run.restMs.toFixed(0)}), IoU ${run.iou.toFixed(3)}`,
    );
  }
}
const row = (t: 1 | 2) => {
  const m = (k: keyof Run) => median(runs[t].map((x) => x[k]));
  return {
    total: m('totalMs'),
    y: m('yMs'),
    theta: m('thetaMs'),
    report: m('evalMs'),
    rest: m('restMs'),
    iou: m('iou'),
  };
};
const [a, b] = [row(1), row(2)];
console.log(
  '\n| threads | total ms | Y-steps | θ-steps | report | rest | IoU |\n|---|---|---|---|---|---|---|',
);
for (const [t, x] of [
  [1, a],
  [2, b],
] as const) {
  console.log(
    `| ${t} | **${x.total.toFixed(0)}** | ${x.y.toFixed(0)} | ${x.theta.toFixed(0)} | ${x.report.toFixed(0)} | ${x.rest.toFixed(0)} | ${x.iou.toFixed(3)} |`,
  );
}
console.log(
  `medians of ${rounds} rounds; load average at the end ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
const best = a.total <= b.total ? a : b;
console.log(
  `BENCH ${JSON.stringify({ teddyMs: best.total, teddy1TMs: a.total, teddy2TMs: b.total, teddyYStepsMs: best.y, teddyThetaMs: best.theta, teddyIoU: best.iou })}`,
);
