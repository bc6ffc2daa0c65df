// The large-margin discriminative loss (Nguyen et al., arXiv 2405.18499) on
// Fashion-MNIST and MNIST: a small CNN (@seg/dense-conv) trained with softmax
// cross-entropy alone, or with the large-margin loss (max aggregation, the
// paper's; mean aggregation, for comparison), the same budget. 30-D feature
// layer (the reference's) for the accuracy table, 3 seeds; 2-D feature layer,
// one seed, for the plots. One run per worker thread.
//
//   npx -y pnpm@10.34.8 --filter @seg/losses experiment:margin [--quick]
//     [--workers 2] [--epochs E] [--seeds 3] [--data <shared>/data]
//     [--methods softmax,margin-max,margin-mean] [--dims 30,2]
//     [--warmup F] [--momentum μ] [--tag NAME] [--epochs-scale k]
// --warmup ramps the margin part's λ from 0 over the first fraction F of the
// steps (not in the paper); --tag writes results-NAME.json and no plots.
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkerPool } from '@seg/tensor';
import { sharedDir, tsWorker } from '@seg/tensor/testing';
import { scatterSvg } from './plot.js';
import type { DatasetName, Method, RunConfig, RunResult } from './train.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : fallback;
};
const shared = sharedDir();
const dataDir = opt('--data', shared ? join(shared, 'data') : '');
if (!dataDir || !existsSync(join(dataDir, 'mnist'))) {
  console.log('experiment:margin: no shared data (set SEG_SHARED or --data); skipped');
  process.exit(0);
}
const workers = Number(opt('--workers', '2'));
const seeds = Array.from({ length: Number(opt('--seeds', quick ? '1' : '3')) }, (_, i) => i + 1);
const METHODS = opt('--methods', 'softmax,margin-max,margin-mean').split(',') as Method[];
const DIMS = opt('--dims', '30,2').split(',').map(Number);
const tag = opt('--tag', '');
const extra = {
  ...(args.includes('--warmup') ? { warmup: Number(opt('--warmup', '0')) } : {}),
  ...(args.includes('--momentum') ? { momentum: Number(opt('--momentum', '0.99')) } : {}),
};
const DATASETS: DatasetName[] = ['fashion', 'mnist'];
const SIZES: Record<DatasetName, { train: number; epochs: number }> = quick
  ? { fashion: { train: 2048, epochs: 2 }, mnist: { train: 2048, epochs: 2 } }
  : { fashion: { train: 30000, epochs: 1 }, mnist: { train: 10000, epochs: 3 } };
const epochsOverride = args.includes('--epochs') ? Number(opt('--epochs', '0')) : 0;
const epochsScale = Number(opt('--epochs-scale', '1'));
const base = {
  dataDir,
  testSize: quick ? 2000 : 10000,
  batch: 128,
  learningRate: 1e-3,
  // the reference implementation's defaults (HaiVyNGUYEN/margin_compact_loss, loss_function.py)
  margin: { lambda: 1, alpha: 1, beta: 1, gamma: 0.001, deltaVar: 0.5, deltaDist: 1.5 },
  plotPoints: quick ? 500 : 1000,
};

const tasks: RunConfig[] = [];
for (const dataset of DATASETS) {
  const s = SIZES[dataset];
  const epochs = epochsOverride || s.epochs * epochsScale;
  for (const method of METHODS) {
    if (DIMS.includes(30))
      for (const seed of seeds)
        tasks.push({
          ...base,
          ...extra,
          dataset,
          method,
          dim: 30,
          seed,
          epochs,
          trainSize: s.train,
        });
    if (DIMS.includes(2))
      tasks.push({
        ...base,
        ...extra,
        dataset,
        method,
        dim: 2,
        seed: 1,
        epochs,
        trainSize: s.train,
      });
  }
}
// longest first
tasks.sort((a, b) => b.trainSize * b.epochs - a.trainSize * a.epochs);

console.log(
  `margin experiment${quick ? ' (quick)' : ''}: ${tasks.length} runs on ${workers} workers; ` +
    `${JSON.stringify(SIZES)} epochs × ${epochsScale}, test ${base.testSize}, batch ${base.batch}, Adam ${base.learningRate}, ` +
    `margin ${JSON.stringify(base.margin)}, ${JSON.stringify({ momentum: 0.99, warmup: 0, ...extra })}`,
);
const pool = await WorkerPool.create({
  ...tsWorker(new URL('./worker.ts', import.meta.url)),
  size: workers,
});
const t0 = performance.now();
let results: RunResult[];
try {
  results = await Promise.all(
    tasks.map((cfg) =>
      pool.run<RunResult>('run', [cfg]).then((r) => {
        console.log(
          `  ${r.dataset} ${r.method} D=${r.dim} seed ${r.seed}: acc ${(100 * r.acc).toFixed(2)} %, ` +
            `margin ${r.centroidMargin.toFixed(3)}, spread ${r.intraClass.toFixed(3)}, ` +
            `${(r.trainSec / r.epochSec.length).toFixed(1)} s/epoch`,
        );
        return r;
      }),
    ),
  );
} finally {
  await pool.close();
}
const wallSec = (performance.now() - t0) / 1000;

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v: number[]) => {
  if (v.length < 2) return 0;
  const m = mean(v);
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
};
const pm = (v: number[], scale = 1, digits = 2) =>
  `${(scale * mean(v)).toFixed(digits)} ± ${(scale * std(v)).toFixed(digits)}`;

const rows = [
  [
    'set',
    'method',
    'D',
    'runs',
    'test acc %',
    'centroid margin',
    'intra-class spread',
    'margin / spread',
    'median sample margin',
    's/epoch',
  ],
];
const summary: Record<string, Record<string, number>> = {};
for (const dataset of DATASETS) {
  summary[dataset] = {};
  for (const dim of DIMS) {
    for (const method of METHODS) {
      const rs = results.filter(
        (r) => r.dataset === dataset && r.method === method && r.dim === dim,
      );
      const acc = rs.map((r) => r.acc);
      const cm = rs.map((r) => r.centroidMargin);
      const sp = rs.map((r) => r.intraClass);
      const sec = rs.flatMap((r) => r.epochSec);
      rows.push([
        dataset,
        method,
        String(dim),
        String(rs.length),
        pm(acc, 100),
        pm(cm, 1, 3),
        pm(sp, 1, 3),
        pm(
          rs.map((r) => r.centroidMargin / r.intraClass),
          1,
          3,
        ),
        pm(
          rs.map((r) => r.sampleMarginQ[2]),
          1,
          3,
        ),
        mean(sec).toFixed(1),
      ]);
      if (dim === 30) {
        const key = { softmax: 'softmax', 'margin-max': 'margin', 'margin-mean': 'marginMean' }[
          method
        ];
        summary[dataset]![`${key}Acc`] = mean(acc);
        summary[dataset]![`${key}AccStd`] = std(acc);
        summary[dataset]![`${key}Margin`] = mean(cm);
        summary[dataset]![`${key}Spread`] = mean(sp);
        summary[dataset]![`${key}EpochSec`] = mean(sec);
      }
      const r2 = rs.find((r) => r.dim === 2 && r.points);
      if (r2?.points && !quick && !tag) {
        const file = join(here, `features-${dataset}-${method}.svg`);
        const title = `${dataset === 'fashion' ? 'Fashion-MNIST' : 'MNIST'}, ${method}, 2-D features (test), acc ${(100 * r2.acc).toFixed(1)} %`;
        writeFileSync(file, scatterSvg(title, r2.points, r2.weight!, r2.bias!));
      }
    }
  }
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const r of rows) console.log(r.map((v, c) => v.padEnd(widths[c]!)).join('  '));
const trainSec = results.reduce((s, r) => s + r.trainSec, 0);
console.log(
  `training ${trainSec.toFixed(0)} s summed over runs, wall ${wallSec.toFixed(0)} s on ${workers} workers`,
);
if (!quick)
  writeFileSync(
    join(here, tag ? `results-${tag}.json` : 'results.json'),
    `${JSON.stringify({ rows, results: results.map(({ points, ...r }) => r) }, null, 1)}\n`,
  );
console.log(`RESULT ${JSON.stringify({ ...summary, trainSec, wallSec, quick })}`);
