// QM9 SMILES → molecular graph with learned differentiable surrogate losses
// (Yang, Labeau, d'Alché-Buc, arXiv 2411.11682; §6 of methods.md).
//
//   pnpm --filter @seg/losses experiment:ile [--quick] [--data FILE] [--workers 2] [--seed 1] [--svg FILE]
//
// Test GED of the learned loss, a fixed loss (Hamming on padded node types
// and adjacency) and nearest-neighbour retrieval, each with both decodings
// (candidates = training outputs; projected gradient). Training jobs run one
// per worker thread (learned loss ∥ fixed loss), then the decoding jobs
// (test halves). Last line: RESULT {json}.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkerPool } from '@seg/tensor';
import { sharedDir, tsWorker } from '@seg/tensor/testing';
import { gridSvg } from './draw.js';
import { HAMMING_SIZE } from './graph-encoder.js';
import type { MolGraph } from './mol-graph.js';
import {
  type Config,
  type Diagnostics,
  type LearnedModel,
  loadData,
  type MethodResult,
  rdkit,
} from './pipeline.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1]! : fallback;
};
const quick = args.includes('--quick');
const here = dirname(fileURLToPath(import.meta.url));
const shared = sharedDir();
const data = opt('--data', shared ? join(shared, 'data/qm9/qm9_5k.csv') : '');
if (!data) {
  console.log(
    'experiment:ile: no data (set $SEG_SHARED or pass --data FILE with a "smiles" column)',
  );
  process.exit(1);
}
const workers = Number(opt('--workers', '2'));
const seed = Number(opt('--seed', '1'));
const svgPath = opt('--svg', quick ? '' : join(here, 'decoded.svg'));

const full: Config = {
  data,
  seed,
  trainSize: 4000,
  testSize: 989,
  embedEpochs: 40,
  embedBatch: 256,
  temperature: 0.1,
  embedLr: 2e-3,
  dim: 128,
  hidden: 64,
  readout: 'sum+ordered',
  augmentRate: 0.2,
  surrogateEpochs: 40,
  surrogateLr: 1e-3,
  mlpHidden: 256,
  starts: 8,
  gradSteps: 30,
  gradLr: 1,
  gradRoundEvery: 10,
  alpha: 0.7,
  holdout: 0,
};
const cfg: Config = quick
  ? { ...full, embedEpochs: 8, surrogateEpochs: 10, testSize: 200 }
  : { ...full };
// --set key=value (repeatable) overrides a numeric setting, e.g. --set embedEpochs=60.
args.forEach((a, i) => {
  if (a !== '--set') return;
  const [key, value] = (args[i + 1] ?? '').split('=');
  if (!key || !(key in cfg) || typeof cfg[key as keyof Config] !== 'number') {
    throw new Error(`experiment:ile: --set ${args[i + 1]}: unknown numeric setting`);
  }
  (cfg as unknown as Record<string, number>)[key] = Number(value);
});

// --alphas a,b,... decodes the learned-plus-Hamming loss for each α (the first one goes to RESULT).
const alphas = opt('--alphas', String(cfg.alpha))
  .split(',')
  .map(Number)
  .filter((a) => a > 0 && a < 1);

const t0 = performance.now();
const loaded = await loadData(cfg);
const { set } = loaded;
console.log(
  `ILE experiment${quick ? ' (quick)' : ''}: ${set.graphs.length} molecules read from ${data}, ${set.skipped.length} skipped; ` +
    `train ${loaded.train.length}, ${cfg.holdout > 0 ? 'validation (held out of the training molecules)' : 'test'} ${loaded.test.length}; ${workers} workers`,
);
for (const e of set.skipped.slice(0, 5)) console.log(`  skipped: ${e.message}`);
const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;

const pool = await WorkerPool.create({
  ...tsWorker(new URL('./worker.ts', import.meta.url)),
  size: workers,
});
const examples = 4;
try {
  // Training: the learned loss (ψ then h) and the fixed loss in parallel.
  const tTrain = performance.now();
  const [learned, fixed] = await Promise.all([
    pool.run<LearnedModel>('trainLearned', [cfg]),
    pool.run<MethodResult & { ms: number; h: Float32Array }>('runFixed', [cfg, examples]),
  ]);
  const trainSec = (performance.now() - tTrain) / 1000;
  console.log(
    `training: ${trainSec.toFixed(1)} s (learned ${(learned.ms / 1000).toFixed(1)} s, fixed ${(fixed.ms / 1000).toFixed(1)} s, in parallel)`,
  );

  // Decoding: test halves of the learned loss and of nearest-neighbour retrieval.
  const tDecode = performance.now();
  const b = loaded.test.length;
  const half = Math.ceil(b / 2);
  const slices = [
    [0, half],
    [half, b],
  ] as const;
  const decode = (h: Float32Array, alpha = 0) =>
    slices.map(([from, to]) =>
      pool.run<MethodResult>('decodeLearned', [
        cfg,
        learned.encoderWeights,
        h.slice(from * cfg.dim, to * cfg.dim),
        from,
        to,
        from === 0 ? examples : 0,
        ...(alpha > 0 ? [{ alpha, h: fixed.h.slice(from * HAMMING_SIZE, to * HAMMING_SIZE) }] : []),
      ]),
    );
  const diagnostics = pool.run<Diagnostics>('diagnose', [
    cfg,
    learned.encoderWeights,
    learned.h,
    fixed.h,
    quick ? 500 : 2000,
  ]);
  const parts = await Promise.all([
    ...decode(learned.h),
    ...decode(learned.hNearest),
    ...alphas.flatMap((a) => decode(learned.h, a)),
  ]);
  const join2 = (p: MethodResult[]): MethodResult => ({
    candidates: Float64Array.from([...p[0]!.candidates, ...p[1]!.candidates]),
    gradient: Float64Array.from([...p[0]!.gradient, ...p[1]!.gradient]),
    descended: (p[0]!.descended ?? 0) + (p[1]!.descended ?? 0),
    examples: p[0]!.examples,
  });
  const lr = join2(parts.slice(0, 2));
  const nn = join2(parts.slice(2, 4));
  const hybrids = alphas.map((_, k) => join2(parts.slice(4 + 2 * k, 6 + 2 * k)));
  const diag = await diagnostics;
  const decodeSec = (performance.now() - tDecode) / 1000;

  const rows: (readonly [string, MethodResult])[] = [
    ['learned loss (ILE)', lr],
    ['fixed loss (Hamming)', fixed],
    ['nearest neighbour', nn],
    ...alphas.map((a, k) => [`learned + Hamming α=${a}`, hybrids[k]!] as const),
  ];
  console.log(
    '\nmethod                 | GED, candidates | GED, projected gradient | exact (best)',
  );
  console.log('-----------------------|-----------------|-------------------------|-------------');
  for (const [name, r] of rows) {
    const best = mean(r.candidates) <= mean(r.gradient) ? r.candidates : r.gradient;
    const exact = best.filter((v) => v === 0).length / best.length;
    console.log(
      `${name.padEnd(23)}| ${mean(r.candidates).toFixed(3).padStart(15)} | ${mean(r.gradient).toFixed(3).padStart(23)} | ${(100 * exact).toFixed(1)}%`,
    );
  }
  console.log(
    `projected gradient: output differs from the candidate decoding for ${lr.descended} of ${b} test molecules (learned), ${nn.descended} (nearest neighbour)${hybrids.map((r, k) => `, ${r.descended} (learned + Hamming α=${alphas[k]})`).join('')}`,
  );
  const f3 = (v: number) => v.toFixed(3);
  const c = diag.correlation;
  console.log(
    `diagnostics: 1 − R² of h: learned ψ ${f3(diag.regressionError.learned)}, fixed code ${f3(diag.regressionError.fixed)}; ` +
      `loss vs GED over ${c.pairs} test pairs, Pearson / Spearman: learned ${f3(c.learnedPearson)} / ${f3(c.learnedSpearman)}, ` +
      `Hamming ${f3(c.fixedPearson)} / ${f3(c.fixedSpearman)}; GED to the nearest training graph under the loss: ` +
      `learned ${f3(diag.nearestGed.learned)}, Hamming ${f3(diag.nearestGed.fixed)}`,
  );
  console.log(
    `decoding: ${decodeSec.toFixed(1)} s; total ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  console.log(
    `ψ NT-Xent: ${learned.embedLosses[0]!.toFixed(3)} → ${learned.embedLosses.at(-1)!.toFixed(3)}; h ‖h − ψ‖²: ${learned.surrogateLosses.at(-1)!.toFixed(4)}`,
  );

  const best = (r: MethodResult) => Math.min(mean(r.candidates), mean(r.gradient));
  const bestGraphs = (r: MethodResult) =>
    mean(r.candidates) <= mean(r.gradient) ? r.examples.candidates : r.examples.gradient;
  if (svgPath) {
    const R = await rdkit();
    const truth = loaded.test.slice(0, examples).map((i) => set.graphs[i]!);
    const { graphEditDistance } = await import('./ged.js');
    const cell = (g: MolGraph, t: MolGraph) => ({
      graph: g,
      caption: `GED ${graphEditDistance(g, t)}`,
    });
    const svg = gridSvg(
      R,
      [
        'truth',
        'learned loss',
        ...(hybrids.length > 0 ? [`learned+Hamming α=${alphas[0]}`] : []),
        'fixed loss',
        'nearest neighbour',
      ],
      truth.map((t, i) => ({
        cells: [
          { graph: t, caption: loaded.set.smiles[loaded.test[i]!]! },
          cell(bestGraphs(lr)[i]!, t),
          ...(hybrids.length > 0 ? [cell(bestGraphs(hybrids[0]!)[i]!, t)] : []),
          cell(bestGraphs(fixed)[i]!, t),
          cell(bestGraphs(nn)[i]!, t),
        ],
      })),
    );
    writeFileSync(svgPath, svg);
    console.log(`figure: ${svgPath}`);
  }
  const result = {
    gedLearned: +best(lr).toFixed(4),
    gedFixed: +best(fixed).toFixed(4),
    gedNearestNeighbour: +best(nn).toFixed(4),
    gedLearnedCandidates: +mean(lr.candidates).toFixed(4),
    gedLearnedGradient: +mean(lr.gradient).toFixed(4),
    gedFixedCandidates: +mean(fixed.candidates).toFixed(4),
    gedFixedGradient: +mean(fixed.gradient).toFixed(4),
    gedNearestNeighbourCandidates: +mean(nn.candidates).toFixed(4),
    gedNearestNeighbourGradient: +mean(nn.gradient).toFixed(4),
    ...(hybrids.length > 0
      ? {
          alpha: alphas[0],
          gedLearnedHamming: +best(hybrids[0]!).toFixed(4),
          gedLearnedHammingCandidates: +mean(hybrids[0]!.candidates).toFixed(4),
          gedLearnedHammingGradient: +mean(hybrids[0]!.gradient).toFixed(4),
        }
      : {}),
    ...(hybrids.length > 1
      ? {
          alphas: alphas.map((a, k) => ({
            alpha: a,
            candidates: +mean(hybrids[k]!.candidates).toFixed(4),
            gradient: +mean(hybrids[k]!.gradient).toFixed(4),
          })),
        }
      : {}),
    diagnostics: diag,
    trainSec: +trainSec.toFixed(1),
    decodeSec: +decodeSec.toFixed(1),
    train: loaded.train.length,
    test: loaded.test.length,
    skipped: set.skipped.length,
    quick,
    holdout: cfg.holdout,
    seed,
    anchorGedDsokr: 2.94,
  };
  console.log(`RESULT ${JSON.stringify(result)}`);
} finally {
  await pool.close();
}
