/**
 * Dense-CRF benchmark: pydensecrf's default kernels on a 500×375 crop of the
 * GrabCut `tennis.png`, 21 labels, 5 mean-field iterations, set-up included;
 * plus one permutohedral filtering of 21 channels in 5-D (the dense-CRF loss
 * of @seg/losses needs about two per forward + backward).
 *
 * Standalone: `npx tsx --conditions=@seg/source bench/dense-crf.ts [--quick]`.
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type RgbImage, Rng } from '@seg/tensor';
import { readImage } from '@seg/tensor/node';
import { median } from '@seg/tensor/testing';
import { bilateralFeatures, spatialFeatures } from '../src/dense-crf/features.js';
import { PermutohedralLattice } from '../src/dense-crf/lattice.js';
import { DenseCrf } from '../src/dense-crf/mean-field.js';

/** pydensecrf (C++), measured on this machine: 500×375, 21 labels (methods.md §3). */
const ANCHOR_SETUP_SEC = 0.22;
const ANCHOR_ITERS_SEC = 0.42;
/** The @seg/losses target for a dense-CRF loss forward + backward at 500×375, K = 21. */
const LOSS_TARGET_MS = 84;

/** One row of the dense-CRF table. */
export interface DenseCrfBenchRow {
  case: string;
  ms: number;
  anchorMs: number | null;
  ratio: number | null;
}

const WIDTH = 500;
const HEIGHT = 375;
const K = 21;

function sharedData(): string {
  return process.env.SEG_SHARED ?? fileURLToPath(new URL('../../../../shared', import.meta.url));
}

/** The 500×375 centre crop of `tennis.png` (500×472). */
async function loadImage(): Promise<RgbImage> {
  const full = await readImage(join(sharedData(), 'data/grabcut/images/tennis.png'));
  const x0 = Math.floor((full.width - WIDTH) / 2);
  const y0 = Math.floor((full.height - HEIGHT) / 2);
  const data = new Uint8Array(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y++) {
    const from = ((y + y0) * full.width + x0) * 3;
    data.set(full.data.subarray(from, from + WIDTH * 3), y * WIDTH * 3);
  }
  return { width: WIDTH, height: HEIGHT, data };
}

/** A noisy 21-label unary: blocks of labels plus Gaussian noise, −log softmax. */
function makeUnary(rng: Rng): Float32Array {
  const u = new Float32Array(WIDTH * HEIGHT * K);
  const logits = new Float64Array(K);
  for (let y = 0, p = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++, p++) {
      const truth = (Math.floor(x / 100) + 5 * Math.floor(y / 75)) % K;
      let mx = -Infinity;
      for (let l = 0; l < K; l++) {
        logits[l] = rng.normal(0, 1) + (l === truth ? 1.5 : 0);
        mx = Math.max(mx, logits[l]!);
      }
      let s = 0;
      for (let l = 0; l < K; l++) s += Math.exp(logits[l]! - mx);
      const lse = mx + Math.log(s);
      for (let l = 0; l < K; l++) u[p * K + l] = lse - logits[l]!;
    }
  }
  return u;
}

/**
 * Runs the dense-CRF benchmark: `denseCrfSec` is the median wall time of
 * set-up + 5 iterations over 7 runs (3 with `quick`), `denseCrfBestSec` the
 * fastest run (pydensecrf: 0.64 s here). The loss rows time one lattice
 * build and one K = 21 filtering forward and in reverse (the adjoint).
 */
export async function runDenseCrfBench(quick: boolean): Promise<{
  denseCrfSec: number;
  denseCrfBestSec: number;
  filterK21Ms: number;
  rows: DenseCrfBenchRow[];
}> {
  const img = await loadImage();
  const unary = makeUnary(new Rng(7));
  const reps = quick ? 3 : 7;
  const setup: number[] = [];
  const iters: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const crf = new DenseCrf(WIDTH, HEIGHT, K);
    crf.setUnaryEnergy(unary);
    crf.addPairwiseGaussian({ sxy: 3, compat: 3 });
    crf.addPairwiseBilateral({ sxy: 80, srgb: 13, rgbim: img, compat: 10 });
    const t1 = performance.now();
    crf.inference(5);
    const t2 = performance.now();
    setup.push(t1 - t0);
    iters.push(t2 - t1);
  }
  const setupMs = median(setup);
  const itersMs = median(iters);
  const totals = setup.map((s, i) => s + iters[i]!);
  const totalMs = median(totals);
  const bestTotalMs = Math.min(...totals);

  // The loss's kernel (σ_xy 100, σ_rgb 15): one lattice, K = 21 channels forward and reverse.
  const features = bilateralFeatures(img, { sigmaXy: 100, sigmaRgb: 15 });
  const builds: number[] = [];
  let lattice: PermutohedralLattice | null = null;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    lattice = new PermutohedralLattice(features, 5);
    builds.push(performance.now() - t0);
  }
  const values = new Rng(8).uniformArray(WIDTH * HEIGHT * K, 0, 1);
  const out = new Float32Array(values.length);
  const fwd: number[] = [];
  const bwd: number[] = [];
  for (let r = 0; r < reps + 2; r++) {
    let t0 = performance.now();
    lattice!.filter(values, K, out);
    fwd.push(performance.now() - t0);
    t0 = performance.now();
    lattice!.filter(values, K, out, { reverse: true });
    bwd.push(performance.now() - t0);
  }
  const buildMs = median(builds);
  const filterMs = median(fwd);
  const filterRevMs = median(bwd);
  const rows: DenseCrfBenchRow[] = [
    {
      case: 'dense CRF set-up (2 lattices + norms)',
      ms: setupMs,
      anchorMs: ANCHOR_SETUP_SEC * 1e3,
      ratio: null,
    },
    { case: 'dense CRF 5 iterations', ms: itersMs, anchorMs: ANCHOR_ITERS_SEC * 1e3, ratio: null },
    {
      case: 'dense CRF total (set-up + 5 it.)',
      ms: totalMs,
      anchorMs: (ANCHOR_SETUP_SEC + ANCHOR_ITERS_SEC) * 1e3,
      ratio: null,
    },
    {
      case: 'dense CRF total, best run',
      ms: bestTotalMs,
      anchorMs: (ANCHOR_SETUP_SEC + ANCHOR_ITERS_SEC) * 1e3,
      ratio: null,
    },
    { case: 'lattice build, d=5 (σ 100/15)', ms: buildMs, anchorMs: null, ratio: null },
    { case: 'filter K=21, d=5', ms: filterMs, anchorMs: null, ratio: null },
    { case: 'filter K=21, d=5, reverse', ms: filterRevMs, anchorMs: null, ratio: null },
    {
      case: 'loss budget: 2 filters (fwd+bwd)',
      ms: filterMs + filterRevMs,
      anchorMs: LOSS_TARGET_MS,
      ratio: null,
    },
  ];
  for (const row of rows) row.ratio = row.anchorMs === null ? null : row.ms / row.anchorMs;
  return {
    denseCrfSec: totalMs / 1e3,
    denseCrfBestSec: bestTotalMs / 1e3,
    filterK21Ms: filterMs,
    rows,
  };
}

/**
 * Accuracy of the lattice against the exact sum at 400 random pixels of the
 * 500×375 crops of tennis.png and llama.png (`--accuracy`, about a minute).
 */
export async function runDenseCrfAccuracy(): Promise<string[]> {
  const lines: string[] = [];
  for (const name of ['tennis', 'llama']) {
    const full = await readImage(join(sharedData(), `data/grabcut/images/${name}.png`));
    const w = WIDTH;
    const h = Math.min(HEIGHT, full.height);
    const x0 = Math.floor((full.width - w) / 2);
    const y0 = Math.floor((full.height - h) / 2);
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      const from = ((y + y0) * full.width + x0) * 3;
      data.set(full.data.subarray(from, from + w * 3), y * w * 3);
    }
    const img = { width: w, height: h, data };
    const rng = new Rng(3);
    const n = w * h;
    const samples = Array.from({ length: 400 }, () => rng.int(n));
    const cases: [string, Float32Array, number][] = [
      ['xy σ3', spatialFeatures(w, h, 3), 2],
      ['xy σ10', spatialFeatures(w, h, 10), 2],
      ['xyrgb 80/13', bilateralFeatures(img, { sigmaXy: 80, sigmaRgb: 13 }), 5],
      ['xyrgb 100/15', bilateralFeatures(img, { sigmaXy: 100, sigmaRgb: 15 }), 5],
    ];
    for (const [label, f, d] of cases) {
      const v = rng.uniformArray(n, 0, 1);
      const lattice = new PermutohedralLattice(f, d);
      const o = lattice.filter(v, 1);
      const errs = samples
        .map((i) => {
          let s = 0;
          for (let j = 0; j < n; j++) {
            let r = 0;
            for (let k = 0; k < d; k++) {
              const t = f[i * d + k]! - f[j * d + k]!;
              r += t * t;
            }
            if (r < 60) s += Math.exp(-0.5 * r) * v[j]!;
          }
          return Math.abs(o[i]! - s) / s;
        })
        .sort((a, b) => a - b);
      const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
      const mean = errs.reduce((a, b) => a + b, 0) / errs.length;
      lines.push(
        `${name} ${label}: mean ${pct(mean)} median ${pct(errs[200]!)} p95 ${pct(errs[380]!)} max ${pct(errs[399]!)} (scale ${lattice.scale.toFixed(3)})`,
      );
    }
  }
  return lines;
}

/** Prints the rows as a table. */
export function printDenseCrfTable(rows: DenseCrfBenchRow[]): void {
  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(`${pad('case', 40)} ${pad('@seg ms', 10)} ${pad('anchor ms', 10)} ratio`);
  for (const r of rows) {
    console.log(
      `${pad(r.case, 40)} ${pad(r.ms.toFixed(1), 10)} ${pad(r.anchorMs === null ? '—' : r.anchorMs.toFixed(0), 10)} ${
        r.ratio === null ? '—' : r.ratio.toFixed(2)
      }`,
    );
  }
}

const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && process.argv.includes('--accuracy')) {
  for (const line of await runDenseCrfAccuracy()) console.log(line);
} else if (isMain) {
  const quick = process.argv.includes('--quick');
  const res = await runDenseCrfBench(quick);
  console.log(
    `Dense CRF, ${WIDTH}×${HEIGHT}, ${K} labels (pydensecrf defaults), tennis.png crop${quick ? ' (quick)' : ''}`,
  );
  printDenseCrfTable(res.rows);
  console.log(
    `BENCH ${JSON.stringify({
      denseCrfSec: res.denseCrfSec,
      denseCrfBestSec: res.denseCrfBestSec,
      denseCrfRatio: res.denseCrfSec / (ANCHOR_SETUP_SEC + ANCHOR_ITERS_SEC),
      filterK21Ms: res.filterK21Ms,
      rows: res.rows,
    })}`,
  );
}
