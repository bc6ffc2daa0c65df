// GrabCut-50 experiment: ADM versus gradient descent on regularized losses
// (Marin et al., CVPR 2019) in the interactive, per-image setting.
//   npx pnpm@10.34.8 --filter @seg/optim-adm experiment [--quick] [--only adm]
//     [--data DIR] [--workers 2] [--sets 1,2] [--svg FILE]
// Last line: RESULT {json}.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkerPool } from '@seg/tensor';
import { tsWorker } from '@seg/tensor/testing';
import { interactiveGraphCut, objectIoU, type SegmentOptions } from '../src/index.js';
import { grabCutNames, hasScribbleSet, loadGrabCut } from '../src/node/index.js';
import { lossCurveSvg } from './plot.js';
import { ADM, COMMON, cli, GRID, SHARED_GRABCUT } from './settings.js';
import type { TaskResult } from './worker.js';

const { flag, opt } = cli();
const quick = flag('--quick');
const only = opt('--only', '');
const dataDir = opt('--data', SHARED_GRABCUT);
const workers = Number(opt('--workers', '2'));
const svgPath = opt('--svg', new URL('../loss-curve.svg', import.meta.url).pathname);
if (!existsSync(join(dataDir, 'images')))
  throw new Error(`experiment: ${dataDir}/images does not exist (use --data DIR)`);

// The trainers' large-margin option (issue 15): the reference defaults of
// HaiVyNGUYEN/margin_compact_loss (λ = α = β = 1, γ = 0.001, δ_var = 0.5,
// δ_dist = 1.5; K = 2, so max and mean aggregation coincide) except the
// centroid momentum: 0.9, not 0.99, as one image trains ~60 steps in all.
const SCRIBBLE_MARGIN = { momentum: 0.9 };

const SETTINGS: Record<string, SegmentOptions> = {
  pce: { ...COMMON, method: 'pce', colorModel: 10 },
  'gd-grid': { ...COMMON, method: 'gd-grid', lambda: 0.5, colorModel: 3 },
  // GD on exactly ADM's loss (same λ): the loss comparison of the paper
  'gd-grid-same-λ': { ...COMMON, method: 'gd-grid', lambda: 5, colorModel: 3 },
  'gd-dense': { ...COMMON, method: 'gd-dense', lambda: 0.02, colorModel: 3 },
  // Y-steps at the image's full size on the upsampled probabilities (Potts
  // weight λ·W/w there); the θ-steps and the reported loss on the training grid
  adm: ADM,
  // the same with the Y-steps on the training grid
  'adm-train-grid': { ...ADM, proposals: 'train' },
  // the previous session's setting: the network's start, no seed connectivity, argmax output
  'adm-network-start': { ...ADM, init: 'network', seedConnected: false, output: 'network' },
  // the start from the sum of both unaries: segmentImage's default (a 5-fold selection's pick, not the subset's; see the README)
  'adm-both-start': { ...ADM, init: 'both' },
  // the large-margin term (Nguyen et al., arXiv 2405.18499) on the scribbled
  // pixels' penultimate features, added to every gradient step (issue 15)
  'adm-margin': { ...ADM, ...{ margin: SCRIBBLE_MARGIN } },
  'pce-margin': { ...COMMON, method: 'pce', colorModel: 10, ...{ margin: SCRIBBLE_MARGIN } },
};
const LAMBDA_EVAL = SETTINGS.adm!.lambda!;
const methods = only ? only.split(',') : ['adm', 'gd-grid-same-λ', 'gd-grid', 'gd-dense', 'pce'];
for (const m of methods)
  if (!SETTINGS[m])
    throw new Error(`experiment: --only ${m}: expected one of ${Object.keys(SETTINGS).join(', ')}`);

let names = grabCutNames(dataDir);
if (quick) names = names.filter((_, i) => i % Math.ceil(names.length / 4) === 0).slice(0, 4);
const sets = opt('--sets', '1,2')
  .split(',')
  .map(Number)
  .filter((s) => hasScribbleSet(dataDir, s));

const pool = await WorkerPool.create({
  ...tsWorker(new URL('./worker.ts', import.meta.url)),
  size: workers,
});
const result: Record<string, number | null> = {};
const rows: string[][] = [];
const curves: Record<string, { steps: number; loss: number }[]> = {};
console.log(
  `GrabCut experiment: ${names.length} images from ${dataDir}, scribble sets ${sets.join(', ')}, ${workers} workers${quick ? ' (quick)' : ''}`,
);
console.log(`grid: ${JSON.stringify(GRID)}; common: ${JSON.stringify(COMMON)}`);
for (const m of methods) console.log(`setting ${m}: ${JSON.stringify(SETTINGS[m])}`);
const t0 = performance.now();
try {
  if (methods.some((m) => m.endsWith('-margin'))) {
    // segmentImage must hand options.margin to the trainers: a bad value has to throw
    const bad = { ...SETTINGS.pce, iterations: 1, ...{ margin: { aggregation: 'none' } } };
    const ignored = await pool
      .run<TaskResult>('run', [dataDir, names[0], sets[0], bad, LAMBDA_EVAL])
      .then(
        () => true,
        () => false,
      );
    if (ignored)
      throw new Error(
        'experiment: segmentImage ignores options.margin, so the *-margin settings would equal the plain ones',
      );
  }
  for (const s of sets) {
    // the classic anchor, in this process
    let gc = 0;
    let gcN = 0;
    for (const ex of loadGrabCut(dataDir, { scribbles: s, names })) {
      if (!ex.mask) continue;
      gc += objectIoU(interactiveGraphCut(ex.image, ex.seeds), ex.mask);
      gcN++;
    }
    const published = s === 1 ? 0.699 : s === 2 ? 0.905 : null;
    rows.push([`graph cut (ours, λ=50, 8-conn)`, `${s}`, (gc / gcN).toFixed(3), '', '']);
    rows.push([
      `graph cut (published anchor)`,
      `${s}`,
      published !== null ? published.toFixed(3) : 'n/a',
      '',
      '',
    ]);
    result[`graphcutIoU${s}`] = gc / gcN;
    for (const m of methods) {
      const ts = performance.now();
      const res = await Promise.all(
        names.map((name) =>
          pool.run<TaskResult>('run', [dataDir, name, s, SETTINGS[m], LAMBDA_EVAL]),
        ),
      );
      const wall = (performance.now() - ts) / 1000;
      const iou = res.reduce((a, r) => a + r.iou, 0) / res.length;
      const loss = res.reduce((a, r) => a + (r.loss ?? 0), 0) / res.length;
      rows.push([m, `${s}`, iou.toFixed(3), loss.toFixed(4), wall.toFixed(1)]);
      console.log(
        `  set ${s} ${m}: IoU ${iou.toFixed(3)}, loss ${loss.toFixed(4)}, ${wall.toFixed(1)} s`,
      );
      console.log(`    per image: ${res.map((r) => `${r.name}:${r.iou.toFixed(3)}`).join(' ')}`);
      const key = {
        pce: 'pce',
        'gd-grid': 'gdGrid',
        'gd-grid-same-λ': 'gdGridSameLambda',
        'gd-dense': 'gdDense',
        adm: 'adm',
        'adm-train-grid': 'admTrainGrid',
        'adm-network-start': 'admNetworkStart',
        'adm-both-start': 'admBothStart',
        'adm-margin': 'admMargin',
        'pce-margin': 'pceMargin',
      }[m]!;
      result[`${key}IoU${s}`] = iou;
      result[`${key}${m === 'gd-grid' ? 'OwnLambda' : ''}Loss${s}`] = loss;
      // the loss of GD on ADM's own loss is the one compared
      if (m === 'gd-grid-same-λ') result[`gdGridLoss${s}`] = loss;
      if (m === 'adm') {
        result[`wallSec${s}`] = wall;
        // how the loss ranks the truth: mean loss of the ground truth, and how
        // often ADM's result has a lower loss than the ground truth
        const gt = res.filter((r) => r.gtLoss !== null && r.loss !== null);
        const gtMean = gt.reduce((a, r) => a + r.gtLoss!, 0) / gt.length;
        const below = gt.filter((r) => r.loss! < r.gtLoss!).length;
        result[`gtLoss${s}`] = gtMean;
        result[`admBelowGtLossFraction${s}`] = below / gt.length;
        console.log(
          `  set ${s} ground truth: loss ${gtMean.toFixed(4)}; ADM's result has a lower loss than the truth on ${below}/${gt.length} images`,
        );
      }
      if (s === 1 && (m === 'adm' || m === 'gd-grid-same-λ')) {
        const len = Math.min(...res.map((r) => r.curve.length));
        curves[m] = Array.from({ length: len }, (_, i) => ({
          steps: res[0]!.curve[i]!.steps,
          loss: res.reduce((a, r) => a + r.curve[i]!.loss, 0) / res.length,
        }));
      }
    }
  }
} finally {
  await pool.close();
}
console.log('');
console.log(
  '| method | scribbles | mean object IoU | final regularized loss (λ=' +
    LAMBDA_EVAL +
    ') | wall s |',
);
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
if (curves.adm && curves['gd-grid-same-λ']) {
  writeFileSync(
    svgPath,
    lossCurveSvg(
      { ADM: curves.adm, 'GD, same loss': curves['gd-grid-same-λ'] },
      `Mean regularized loss (λ=${LAMBDA_EVAL}), scribbles-1, ${names.length} images`,
    ),
  );
  console.log(`loss curves: ${svgPath}`);
}
console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
console.log(`RESULT ${JSON.stringify(result)}`);
