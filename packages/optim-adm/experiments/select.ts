// GrabCut-50: each method's setting chosen on other images (5-fold nested
// selection), a check of the per-image experiment's 10-image tuning protocol
// with four times the data.
//   npx pnpm@10.34.8 --filter @seg/optim-adm experiment:select
//     [--data DIR] [--workers 2] [--methods adm,gd-grid,gd-dense,pce,adm-iterations] [--cache FILE]
// Every cell of each method's grid below is run on every image with both
// scribble sets (per-image training, the experiment's COMMON setting). Then,
// for each fold f (the images i with i mod 5 = f), a method's cell with the
// best mean IoU over both sets on the 40 other images is applied to the 10
// held-out images. The held-out IoUs of the five folds make each method's
// score: no image scores a setting that was chosen on it.
// Per-image results go to --cache (JSON, reused by a rerun). Last line: RESULT {json}.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkerPool } from '@seg/tensor';
import { tsWorker } from '@seg/tensor/testing';
import { interactiveGraphCut, objectIoU, type SegmentOptions } from '../src/index.js';
import { grabCutNames, loadGrabCut } from '../src/node/index.js';
import { ADM, COMMON, cli, SHARED_GRABCUT } from './settings.js';
import type { TaskResult } from './worker.js';

const { opt } = cli();
const dataDir = opt('--data', SHARED_GRABCUT);
const workers = Number(opt('--workers', '2'));
const cachePath = opt('--cache', join(tmpdir(), 'seg-optim-adm-select.json'));
const SETS = [1, 2];
const FOLDS = 5;

/** Each method's grid: the cells the folds choose from. */
const GRIDS: Record<string, Record<string, SegmentOptions>> = {
  pce: Object.fromEntries(
    [3, 10].map((c) => [`colorModel ${c}`, { ...COMMON, method: 'pce', colorModel: c }]),
  ),
  'gd-grid': Object.fromEntries(
    [0.1, 0.5, 2, 5].flatMap((l) =>
      [3, 10].map((c) => [
        `λ ${l}, colorModel ${c}`,
        { ...COMMON, method: 'gd-grid', lambda: l, colorModel: c },
      ]),
    ),
  ),
  'gd-dense': Object.fromEntries(
    [0.005, 0.02, 0.2].flatMap((l) =>
      [3, 10].map((c) => [
        `λ ${l}, colorModel ${c}`,
        { ...COMMON, method: 'gd-dense', lambda: l, colorModel: c },
      ]),
    ),
  ),
  adm: Object.fromEntries(
    (['network', 'color', 'both'] as const).map((init) => [`init ${init}`, { ...ADM, init }]),
  ),
  // segmentImage's ADM as it runs by default (init both), by its outer iterations
  'adm-iterations': Object.fromEntries(
    [3, 4, 5, 6, 8, 10].map((k) => [`iterations ${k}`, { method: 'adm', iterations: k }]),
  ),
};
const methods = opt('--methods', Object.keys(GRIDS).join(',')).split(',');
for (const m of methods)
  if (!GRIDS[m])
    throw new Error(`experiment:select: --methods ${m}: expected one of ${Object.keys(GRIDS)}`);
if (!existsSync(join(dataDir, 'images')))
  throw new Error(`experiment:select: ${dataDir}/images does not exist (use --data DIR)`);

const names = grabCutNames(dataDir);
type Cache = Record<string, Record<string, number>>; // key (setting + set) → image → IoU
const cache: Cache = existsSync(cachePath) ? JSON.parse(readFileSync(cachePath, 'utf8')) : {};
const keyOf = (o: SegmentOptions, s: number) => `${JSON.stringify(o)} set ${s}`;

console.log(
  `Nested selection: ${names.length} images from ${dataDir}, sets ${SETS}, ${FOLDS} folds, ${workers} workers; cache ${cachePath}`,
);
console.log(`common: ${JSON.stringify(COMMON)}`);
const t0 = performance.now();
const pool = await WorkerPool.create({
  ...tsWorker(new URL('./worker.ts', import.meta.url)),
  size: workers,
});
try {
  for (const m of methods) {
    for (const [cell, o] of Object.entries(GRIDS[m]!)) {
      for (const s of SETS) {
        const key = keyOf(o, s);
        if (names.every((n) => cache[key]?.[n] !== undefined)) continue;
        const ts = performance.now();
        const res = await Promise.all(
          names.map((n) => pool.run<TaskResult>('run', [dataDir, n, s, o, 5])),
        );
        cache[key] = Object.fromEntries(res.map((r) => [r.name, r.iou]));
        writeFileSync(cachePath, JSON.stringify(cache));
        const mean = res.reduce((a, r) => a + r.iou, 0) / res.length;
        console.log(
          `  ${m} [${cell}] set ${s}: ${mean.toFixed(3)} on all ${names.length}, ${((performance.now() - ts) / 1000).toFixed(0)} s`,
        );
      }
    }
  }
} finally {
  await pool.close();
}

const camel = (m: string) => m.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const result: Record<string, number> = {};
const table: string[] = [];
for (const s of SETS) {
  const gc = loadGrabCut(dataDir, { scribbles: s, names }).map((ex) =>
    objectIoU(interactiveGraphCut(ex.image, ex.seeds), ex.mask!),
  );
  result[`graphcutIoU${s}`] = mean(gc);
}
for (const m of methods) {
  const cells = Object.entries(GRIDS[m]!);
  const iou = (o: SegmentOptions, s: number, n: string) => cache[keyOf(o, s)]![n]!;
  const heldOut: Record<number, number[]> = { 1: [], 2: [] };
  const picks: string[] = [];
  for (let f = 0; f < FOLDS; f++) {
    const train = names.filter((_, i) => i % FOLDS !== f);
    const test = names.filter((_, i) => i % FOLDS === f);
    const score = (o: SegmentOptions) => mean(SETS.flatMap((s) => train.map((n) => iou(o, s, n))));
    const [cell, o] = cells.reduce((best, c) => (score(c[1]) > score(best[1]) ? c : best));
    picks.push(cell);
    for (const s of SETS) heldOut[s]!.push(...test.map((n) => iou(o, s, n)));
  }
  for (const s of SETS) result[`${camel(m)}IoU${s}`] = mean(heldOut[s]!);
  console.log(`${m}: folds pick ${picks.map((p) => `[${p}]`).join(' ')}`);
  for (const [cell, o] of cells)
    console.log(
      `    [${cell}] on all: ${SETS.map((s) => mean(names.map((n) => iou(o, s, n))).toFixed(3)).join(' / ')}`,
    );
  table.push(
    `| ${m} | ${result[`${camel(m)}IoU1`]!.toFixed(3)} | ${result[`${camel(m)}IoU2`]!.toFixed(3)} | ${[...new Set(picks)].join('; ')} |`,
  );
}
console.log('');
console.log('| method | scribbles-1, held out | scribbles-2, held out | cells the folds picked |');
console.log('|---|---|---|---|');
console.log(
  `| classic graph cut (no setting chosen) | ${result.graphcutIoU1!.toFixed(3)} | ${result.graphcutIoU2!.toFixed(3)} | |`,
);
for (const row of table) console.log(row);
console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
console.log(`RESULT ${JSON.stringify(result)}`);
