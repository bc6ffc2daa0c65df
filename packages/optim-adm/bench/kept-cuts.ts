// The Y-steps of one `segmentImage` call on teddy (ADM, at full size:
// 284×398, 8-connected), recorded and solved again both ways, alternated
// over the rounds: each on a fresh cut (`inlineSolver({ keepBytes: 0 })`,
// the solver before kept graphs) and in sequence on one kept graph
// (`inlineSolver()`, which re-solves from the last flow). Checks the labels
// are the same. Last line BENCH {json}.
//   npx -y pnpm@10.34.8 --filter @seg/optim-adm bench:kept-cuts [--rounds 5]
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend } from '@seg/tensor';
import { readImage } from '@seg/tensor/node';
import { inlineSolver, type PottsProblem, segmentImage, solvePotts } from '../src/index.js';
import { readScribbles } from '../src/node/index.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const rounds = Number(args.rounds);
await initBackend({ threads: 1 });
const root = fileURLToPath(new URL('../../../samples/grabcut/', import.meta.url));
const image = readImage(`${root}images/teddy.png`);
const seeds = readScribbles(`${root}scribbles-1/teddy.png`);
const problems: PottsProblem[] = [];
const recorder = {
  size: 1,
  solve: async (ps: PottsProblem[]) => {
    problems.push(...ps);
    return ps.map(solvePotts);
  },
};
await segmentImage(image, seeds, { solver: recorder });
console.log(`${problems.length} Y-step problems of teddy (the last one the clean-up cut)`);

const solveAll = async (keep: boolean) => {
  const solver = inlineSolver(keep ? {} : { keepBytes: 0 });
  const ms: number[] = [];
  const labels: Int32Array[] = [];
  for (const p of problems) {
    const t = performance.now();
    labels.push((await solver.solve([p]))[0]!);
    ms.push(performance.now() - t);
  }
  return { ms, labels };
};
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const fresh: number[][] = [];
const kept: number[][] = [];
for (let r = 0; r < rounds; r++) {
  const before = loadavg()[0]!.toFixed(2);
  const a = await solveAll(false);
  const b = await solveAll(true);
  a.labels.forEach((l, i) => {
    if (l.some((v, p) => v !== b.labels[i]![p])) throw new Error(`problem ${i}: the labels differ`);
  });
  fresh.push(a.ms);
  kept.push(b.ms);
  console.log(
    `  round ${r + 1} (load ${before}): fresh ${sum(a.ms).toFixed(0)} ms, kept ${sum(b.ms).toFixed(0)} ms (${b.ms.map((x) => x.toFixed(1)).join(' ')}); labels equal`,
  );
}
const per = (runs: number[][]) => problems.map((_, i) => median(runs.map((x) => x[i]!)));
const [f, k] = [per(fresh), per(kept)];
console.log(
  `\nmedian over ${rounds} rounds: fresh ${sum(f).toFixed(0)} ms in all, kept ${sum(k).toFixed(0)} ms (first ${k[0]!.toFixed(1)}, then ${k
    .slice(1)
    .map((x) => x.toFixed(1))
    .join(' ')}); load at the end ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
console.log(
  `BENCH ${JSON.stringify({ yStepsFreshMs: sum(f), yStepsKeptMs: sum(k), keptSpeedup: sum(f) / sum(k) })}`,
);
