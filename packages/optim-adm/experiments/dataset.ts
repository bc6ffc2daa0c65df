// Data-set experiment (issue 21): ADM in the paper's own setting — one
// network trained on scribbled images, scored on unseen images without
// scribbles (Marin et al., CVPR 2019; Tang et al., ECCV 2018).
//   npx -y pnpm@10.34.8 --filter @seg/optim-adm experiment:dataset [--quick]
//     [--data DIR] [--split 200] [--split-seed 1] | [--train DIR --test DIR]
//     [--val 40] [--methods pce,gd-grid,gd-dense,adm,full] [--steps N] [--seed 1]
//     [--workers 2] [--anchor-only] [--label-quality] [--out DIR] [--fresh] [--svg FILE]
//     [--proposals image|crop] [--color-weight G[,G…]] [--color-model scribbles|proposals]
//     [--adm-lambdas L[,L…]]
//     [--figure FILE.png|.jpg]
// The protocol: a seeded --val of the training images is held out as the
// validation split; every setting of SELECTION_GRID (λ of GD and ADM, the
// dense loss's λ) trains on the rest, each method's setting is the one with
// the best validation IoU, and the test images (never used for a choice,
// their scribbles unused) score the chosen networks.
// Each run trains in its own worker (two at a time on 2 cores), with a
// checkpoint in --out (default out/dataset[-quick]); a rerun with the same
// settings resumes from them (--fresh deletes them first). pce, GD and ADM
// start from one shared pCE pre-training run. Last line: RESULT {json}.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, WorkerPool } from '@seg/tensor';
import { tsWorker } from '@seg/tensor/testing';
import { restore } from '../src/dataset/trainer.js';
import {
  createEncoderDecoder,
  DATASET_METHODS,
  type DatasetMethod,
  splitNames,
} from '../src/index.js';
import { classicGraphCutIoU } from './dataset/anchor.js';
import { writePredictionFigure } from './dataset/figure.js';
import {
  checkpointMeta,
  datasetNames,
  loadCheckpoint,
  loadDataset,
  SHARED_HORSES,
} from './dataset/io.js';
import { type LabelQuality, labelQuality } from './dataset/label-quality.js';
import type { MethodResult, MethodTask } from './dataset/worker.js';
import { lossCurveSvg } from './plot.js';
import { cli } from './settings.js';

const { flag, opt } = cli();
const quick = flag('--quick');
const workers = Number(opt('--workers', '2'));
const outDir = opt(
  '--out',
  new URL(`../out/dataset${quick ? '-quick' : ''}`, import.meta.url).pathname,
);
const svgPath = opt('--svg', '');
const figurePath = opt('--figure', '');
const methods = opt('--methods', DATASET_METHODS.join(',')).split(',') as DatasetMethod[];
for (const m of methods)
  if (!DATASET_METHODS.includes(m))
    throw new Error(
      `experiment:dataset: --methods ${m}: expected one of ${DATASET_METHODS.join(', ')}`,
    );

// The split: a seeded 200 / 62 of one folder, or --train DIR --test DIR.
const trainArg = opt('--train', '');
const testArg = opt('--test', '');
if ((trainArg === '') !== (testArg === ''))
  throw new Error('experiment:dataset: give both --train DIR and --test DIR, or neither');
let split: {
  trainDir: string;
  testDir: string;
  train: string[];
  test: string[];
  seed: number | null;
};
if (trainArg) {
  split = {
    trainDir: trainArg,
    testDir: testArg,
    train: datasetNames(trainArg),
    test: datasetNames(testArg),
    seed: null,
  };
} else {
  const dir = opt('--data', SHARED_HORSES);
  const names = datasetNames(dir);
  const seed = Number(opt('--split-seed', '1'));
  const { train, test } = splitNames(
    names,
    Math.min(Number(opt('--split', '200')), names.length),
    seed,
  );
  split = { trainDir: dir, testDir: dir, train, test, seed };
}
// the validation split: held out of the training images, by a seed
const valCount = Number(opt('--val', '40'));
const held = splitNames(split.train, split.train.length - valCount, 2);
split.train = held.train;
let val = held.test;
if (quick) {
  // a few images, so that the quick run fits about 3 minutes on 2 cores
  const few = (names: string[], n: number) =>
    names.filter((_, i) => i % Math.ceil(names.length / n) === 0);
  split.train = few(split.train, 24);
  val = few(val, 8);
  split.test = few(split.test, 8);
}

// The settings each method is chosen from (by the validation IoU). λ is the
// per-pixel Potts weight at the network's scale, as in trainAdm; the dense
// loss's σ_xy is scaled from the reference's 100 px (rloss, images ~250 px
// wide as fed) to our ~100-px images, its λ around the value where λ·R/N of
// a uniform S is about half a pCE (the per-image setting's 0.02 on 64-px
// crops swamps pCE). ADM's μ = 1 (the per-image experiment's choice).
type Setting = { lambda: number; mu?: number; colorWeight?: number };
const SELECTION_GRID: Record<DatasetMethod, Setting[] | null> = {
  pce: null,
  'gd-grid': [
    { lambda: 0.5 },
    { lambda: 2 },
    { lambda: 5 },
    { lambda: 10 },
    { lambda: 20 },
    { lambda: 40 },
  ],
  'gd-dense': [{ lambda: 0.0003 }, { lambda: 0.001 }, { lambda: 0.003 }],
  adm: [
    { lambda: 2, mu: 1 },
    { lambda: 5, mu: 1 },
    { lambda: 10, mu: 1 },
    { lambda: 20, mu: 1 },
    { lambda: 40, mu: 1 },
  ],
  full: null,
};
// the λ of the training-set loss that the runs record (its two terms are
// recorded too, so the loss at any λ is pCE + λ·potts)
const LOSS_LAMBDA = 5;
const steps = Number(opt('--steps', quick ? '40' : '600'));
const common = {
  steps,
  batchSize: quick ? 4 : 8,
  crop: (quick ? [48, 48] : [64, 64]) as [number, number],
  shortSide: quick ? 56 : 80,
  learningRate: 1e-3,
  // the training seed (initial weights, batches, crops, flips); the split's is --split-seed
  seed: Number(opt('--seed', '1')),
  logEvery: quick ? 10 : 25,
};
// pCE pre-training of GD and ADM: the first half (a multiple of the log interval)
const pretrain = Math.floor(steps / 2 / common.logEvery) * common.logEvery;
// ADM's Y-step on the crops' whole images (the default) or on each crop (trainOnDataset's `proposals`)
const proposals = opt('--proposals', 'image');
if (proposals !== 'crop' && proposals !== 'image')
  throw new Error(`experiment:dataset: --proposals ${proposals}: expected crop or image`);
// ADM's Y-step with the image's colour model, weight γ (trainOnDataset's
// `colorWeight`; 0: the paper's); a list ("1,2") makes each γ a setting of
// ADM's grid, chosen on validation with λ
const colorWeights = opt('--color-weight', '0').split(',').map(Number);
for (const g of colorWeights)
  if (!(g >= 0)) throw new Error(`experiment:dataset: --color-weight ${g}: expected numbers ≥ 0`);
// where that colour model's histograms come from (trainOnDataset's `colorModel`)
const colorModel = opt('--color-model', 'scribbles');
if (colorModel !== 'scribbles' && colorModel !== 'proposals')
  throw new Error(
    `experiment:dataset: --color-model ${colorModel}: expected scribbles or proposals`,
  );
// --adm-lambdas 5,10,20 narrows ADM's λ grid to those values
const admLambdas = opt('--adm-lambdas', '')
  .split(',')
  .filter((x) => x !== '')
  .map(Number);
const trainOptions = (method: DatasetMethod, setting?: Setting): MethodTask['train'] => {
  if (method === 'adm')
    return {
      ...common,
      ...setting,
      pretrainSteps: pretrain,
      proposals,
      ...(setting?.colorWeight ? { colorModel } : {}),
    };
  if (method === 'pce' || method === 'full') return { ...common };
  if (method === 'gd-dense')
    return { ...common, ...setting, dense: { sigmaXy: 40 }, pretrainSteps: pretrain };
  return { ...common, ...setting, pretrainSteps: pretrain };
};
const channels = quick ? [8, 16, 24, 32] : [16, 32, 48, 64];

/** One training run: a method with its setting, checkpointed under `id`. */
interface Run {
  id: string;
  method: DatasetMethod;
  setting?: Setting;
}
const settingName = (m: DatasetMethod, x: Setting) =>
  `l${x.lambda}` +
  (x.mu !== undefined && x.mu !== 1 ? `-mu${x.mu}` : '') +
  (m === 'adm' && proposals === 'image' ? '-image' : '') +
  (x.colorWeight ? `-color${colorModel === 'proposals' ? 'P' : ''}${x.colorWeight}` : '');
/** A method's settings: its grid, ADM's narrowed by --adm-lambdas and times each γ. */
const grid = (m: DatasetMethod): Setting[] | null => {
  if (m !== 'adm') return SELECTION_GRID[m];
  const g = SELECTION_GRID.adm!.filter(
    (x) => admLambdas.length === 0 || admLambdas.includes(x.lambda),
  );
  if (g.length === 0)
    throw new Error(
      `experiment:dataset: --adm-lambdas ${admLambdas.join(',')}: no λ of ADM's grid`,
    );
  return g.flatMap((x) => colorWeights.map((c) => (c > 0 ? { ...x, colorWeight: c } : x)));
};
const runs: Run[] = methods.flatMap(
  (m): Run[] =>
    grid(m)?.map((x) => ({ id: `tune-${m}-${settingName(m, x)}`, method: m, setting: x })) ?? [
      { id: `tune-${m}`, method: m },
    ],
);
const curved = (r: Run) => r.method === 'adm' || r.method === 'gd-grid';
const task = (run: Run): MethodTask => ({
  method: run.method,
  trainDir: split.trainDir,
  trainNames: split.train,
  // the validation images (the training folder's); the test images are scored beside them
  testDir: split.trainDir,
  testNames: val,
  finalDir: split.testDir,
  finalNames: split.test,
  channels,
  netSeed: common.seed,
  train: trainOptions(run.method, run.setting),
  lossLambda: LOSS_LAMBDA,
  curveEvery: curved(run) ? (quick ? 20 : 100) : 0,
  curveImages: quick ? 8 : 40,
  checkpointPath: join(outDir, `${run.id}.json`),
  checkpointEvery: quick ? 20 : 100,
  graphCutLambda: 10,
  figureNames: figurePath ? split.test.slice(0, 4) : [],
});

console.log(
  `Data-set experiment${quick ? ' (quick)' : ''}: train ${split.train.length} and validation ${val.length} images of ${split.trainDir}, test ${split.test.length} of ${split.testDir}` +
    (split.seed !== null ? ` (seeded split, seed ${split.seed})` : ''),
);
console.log(
  `network channels ${channels.join('/')}, ${workers} workers; common ${JSON.stringify(common)}`,
);
for (const r of runs) console.log(`run ${r.id}: ${JSON.stringify(task(r).train)}`);

if (flag('--fresh')) {
  for (const r of [...runs, { id: 'tune-pce-pretrain' }])
    rmSync(join(outDir, `${r.id}.json`), { force: true });
}
// One pCE run to `pretrain` steps starts pce, GD and ADM alike (their first
// steps are exactly its steps: trainOnDataset's resume from a 'pce' checkpoint).
const pretrainPath = join(outDir, 'tune-pce-pretrain.json');
const pceTask = task({ id: 'tune-pce', method: 'pce' });
const pretrainTask: MethodTask = { ...pceTask, checkpointPath: pretrainPath, stopAt: pretrain };
const usesPretrain = (m: DatasetMethod) => m !== 'full' && pretrain > 0;

const t0 = performance.now();
// the classic per-image graph cut on the test images, with their scribbles
const anchorIoU = classicGraphCutIoU(split.testDir, split.test);
console.log(`classic graph cut (λ 50, with the test scribbles): ${anchorIoU.toFixed(4)}`);
if (flag('--anchor-only')) {
  console.log(`RESULT ${JSON.stringify({ graphCutIoU: anchorIoU, test: split.test.length })}`);
  process.exit(0);
}
if (flag('--label-quality')) {
  // the labels ADM trains on (issue 21's gap to full supervision): the
  // network's argmax and its Y-step proposal on every training image, for
  // the shared pCE pre-training and each ADM setting's final network
  await initBackend({ backend: 'wasm' });
  const train = loadDataset(split.trainDir, split.train);
  const scored: Record<string, LabelQuality> = {};
  const admRuns = runs.filter((r) => r.method === 'adm');
  const checkpoints = [
    ...admRuns.map((r) => ({
      id: r.id,
      path: join(outDir, `${r.id}.json`),
      meta: checkpointMeta(task(r)),
      setting: r.setting!,
    })),
    ...admRuns.map((r) => ({
      id: `tune-pce-pretrain (λ ${r.setting!.lambda})`,
      path: pretrainPath,
      meta: checkpointMeta(pceTask),
      setting: r.setting!,
    })),
  ];
  for (const c of checkpoints) {
    const cp = loadCheckpoint(c.path, c.meta);
    if (!cp) {
      console.log(`  ${c.id}: no checkpoint at ${c.path}`);
      continue;
    }
    const net = createEncoderDecoder({ channels, seed: common.seed });
    await restore('experiment:dataset', net, null, cp);
    const q = await labelQuality(net, train, common.shortSide, c.setting.lambda, c.setting.mu ?? 1);
    net.dispose();
    scored[c.id] = q;
    console.log(
      `  ${c.id} (step ${cp.step}): training images, network ${q.network.toFixed(4)}, Y-step proposal ${q.proposal.toFixed(4)}`,
    );
  }
  console.log(`RESULT ${JSON.stringify({ labelQuality: scored, train: split.train.length })}`);
  process.exit(0);
}
const pool = await WorkerPool.create({
  ...tsWorker(new URL('./dataset/worker.ts', import.meta.url)),
  size: workers,
});
const byId = new Map<string, MethodResult>();
try {
  // longest first, so the two workers finish together
  const cost = ['adm', 'gd-dense', 'gd-grid', 'full', 'pce'];
  const order = [...runs].sort((a, b) => cost.indexOf(a.method) - cost.indexOf(b.method));
  const pre = runs.some((r) => usesPretrain(r.method))
    ? pool.run<MethodResult>('run', [pretrainTask]).then((r) => {
        console.log(
          `  pCE pre-training: ${r.steps} steps in ${r.trainSec.toFixed(1)} s${existsSync(pretrainPath) ? '' : ' (no checkpoint!)'}`,
        );
        return r;
      })
    : null;
  await Promise.all(
    order.map(async (run) => {
      const initFrom = { path: pretrainPath, meta: checkpointMeta(pceTask) };
      if (usesPretrain(run.method)) await pre;
      const r = await pool.run<MethodResult>('run', [
        usesPretrain(run.method) ? { ...task(run), initFrom } : task(run),
      ]);
      console.log(
        `  ${run.id}: validation IoU ${r.iou.toFixed(4)}, test IoU ${r.final!.iou.toFixed(4)} (graph cut ${r.final!.iouGraphCut.toFixed(4)}, dense CRF ${r.final!.iouDenseCrf?.toFixed(4)}), ` +
          `train loss ${r.trainLoss.toFixed(4)}, ${r.steps} steps in ${r.trainSec.toFixed(1)} s` +
          (r.resumedFrom ? ` (resumed at ${r.resumedFrom})` : '') +
          `, Y-steps ${r.yStepSec.toFixed(1)} s, eval ${r.evalSec.toFixed(1)} s`,
      );
      byId.set(run.id, r);
    }),
  );
} finally {
  await pool.close();
}

const f4 = (v: number | null | undefined) => (v === null || v === undefined ? '' : v.toFixed(4));
const lossAt = (r: MethodResult, lambda: number) => r.trainPartialCE + lambda * r.trainPotts;
console.log('');
console.log(
  "Every run (each method's setting is chosen by the validation column alone; the test column of every run is shown for completeness):",
);
console.log(
  `| run | validation IoU | test IoU | + graph cut | + dense CRF | train loss at its λ | train s |`,
);
console.log('|---|---|---|---|---|---|---|');
for (const run of runs) {
  const r = byId.get(run.id)!;
  const lambda = run.setting?.lambda ?? LOSS_LAMBDA;
  console.log(
    `| ${run.id} | ${f4(r.iou)} | ${f4(r.final!.iou)} | ${f4(r.final!.iouGraphCut)} | ${f4(r.final!.iouDenseCrf)} | ${f4(lossAt(r, lambda))} | ${r.trainSec.toFixed(1)} |`,
  );
}
// each method's run: the best validation IoU of the network's argmax
const chosen = new Map<DatasetMethod, Run>();
for (const m of methods) {
  const best = runs
    .filter((r) => r.method === m)
    .reduce((a, b) => (byId.get(b.id)!.iou > byId.get(a.id)!.iou ? b : a));
  chosen.set(m, best);
}
const admRun = chosen.get('adm');
const LAMBDA = admRun?.setting?.lambda ?? LOSS_LAMBDA;
// GD on the grid CRF trained at ADM's chosen λ: the loss comparison at one λ
const gdAtAdmLambda = runs.find((r) => r.method === 'gd-grid' && r.setting?.lambda === LAMBDA);
console.log('');
console.log(
  `Chosen on validation, scored on the ${split.test.length} test images (training loss at ADM's λ = ${LAMBDA}):`,
);
console.log(
  `| method | setting | validation IoU | test IoU (argmax) | + graph cut | + dense CRF | train loss (λ=${LAMBDA}) | steps | train s |`,
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const m of methods) {
  const run = chosen.get(m)!;
  const r = byId.get(run.id)!;
  console.log(
    `| ${m} | ${run.setting ? JSON.stringify(run.setting) : ''} | ${f4(r.iou)} | ${f4(r.final!.iou)} | ${f4(r.final!.iouGraphCut)} | ${f4(r.final!.iouDenseCrf)} | ${f4(lossAt(r, LAMBDA))} | ${r.steps} | ${r.trainSec.toFixed(1)} |`,
  );
}
// the optimisation claim at every λ both GD (grid) and ADM were trained with
const pairedAdm = runs.filter(
  (r) =>
    r.method === 'adm' &&
    runs.some((g) => g.method === 'gd-grid' && g.setting?.lambda === r.setting?.lambda),
);
const lossPairs = pairedAdm.map((a) => {
  const lambda = a.setting!.lambda;
  const g = runs.find((r) => r.method === 'gd-grid' && r.setting?.lambda === lambda)!;
  return {
    lambda,
    ...(a.setting!.colorWeight ? { colorWeight: a.setting!.colorWeight } : {}),
    adm: lossAt(byId.get(a.id)!, lambda),
    gdGrid: lossAt(byId.get(g.id)!, lambda),
  };
});
if (lossPairs.length) {
  console.log('');
  console.log(
    'Training-set regularized loss pCE + (λ/N)·R(argmax S), GD (grid) and ADM trained at the same λ:',
  );
  console.log('| λ | GD (grid CRF) | ADM |');
  console.log('|---|---|---|');
  for (const p of lossPairs) console.log(`| ${p.lambda} | ${f4(p.gdGrid)} | ${f4(p.adm)} |`);
}

const key: Record<DatasetMethod, string> = {
  pce: 'pce',
  'gd-grid': 'gdGrid',
  'gd-dense': 'gdDense',
  adm: 'adm',
  full: 'full',
};
const result: Record<string, unknown> = {};
for (const m of methods) {
  const r = byId.get(chosen.get(m)!.id)!;
  const k = key[m];
  result[`${k}IoU`] = r.final!.iou;
  result[`${k}GraphCutIoU`] = r.final!.iouGraphCut;
  result[`${k}DenseCrfIoU`] = r.final!.iouDenseCrf;
  result[`${k}ValIoU`] = r.iou;
  result[`${k}Loss`] = lossAt(r, LAMBDA);
}
if (gdAtAdmLambda) result.gdGridLoss = lossAt(byId.get(gdAtAdmLambda.id)!, LAMBDA);
result.lossLambda = LAMBDA;
result.lossPairs = lossPairs;
result.chosen = Object.fromEntries([...chosen].map(([m, r]) => [m, r.setting ?? null]));
result.validation = Object.fromEntries(runs.map((r) => [r.id, byId.get(r.id)!.iou]));
result.testAll = Object.fromEntries(runs.map((r) => [r.id, byId.get(r.id)!.final!.iou]));
result.graphCutIoU = anchorIoU;
result.trainSec = Object.fromEntries(
  methods.map((m) => [m, byId.get(chosen.get(m)!.id)!.trainSec]),
);
result.trainSecAll = runs.reduce((t, r) => t + byId.get(r.id)!.trainSec, 0);
result.steps = steps;
result.seed = common.seed;
result.params = byId.get(runs[0]!.id)?.params;
result.split = {
  trainDir: split.trainDir,
  testDir: split.testDir,
  seed: split.seed,
  train: split.train.length,
  val: val.length,
  test: split.test.length,
  testNames: split.test,
};
result.quick = quick;
const admCurve = admRun ? byId.get(admRun.id)!.curve : [];
const gdCurve = gdAtAdmLambda ? byId.get(gdAtAdmLambda.id)!.curve : [];
if (admCurve.length && gdCurve.length) {
  const curveImages = task(admRun!).curveImages;
  const curveCount = split.train.filter(
    (_, i) => i % Math.max(1, Math.floor(split.train.length / curveImages)) === 0,
  ).length;
  const at = (c: typeof admCurve) =>
    c.map((p) => ({ steps: p.steps, loss: p.partialCE + LAMBDA * p.potts }));
  result.curves = { adm: at(admCurve), gdGrid: at(gdCurve) };
  if (svgPath) {
    writeFileSync(
      svgPath,
      lossCurveSvg(
        { ADM: at(admCurve), 'GD (grid CRF)': at(gdCurve) },
        `Training-set regularized loss (λ=${LAMBDA}), ${curveCount} of the ${split.train.length} training images`,
      ),
    );
    console.log(`loss curves: ${svgPath}`);
  }
}
if (figurePath) {
  writePredictionFigure(
    figurePath,
    loadDataset(split.testDir, split.test.slice(0, 4)),
    Object.fromEntries(methods.map((m) => [m, byId.get(chosen.get(m)!.id)!.figure])),
  );
  console.log(`figure (image, truth, ${methods.join(', ')}): ${figurePath}`);
}
result.wallSec = (performance.now() - t0) / 1000;
console.log(`total ${(result.wallSec as number).toFixed(1)} s`);
console.log(`RESULT ${JSON.stringify(result)}`);
