/**
 * Benchmark of @seg/crf-solvers against the native anchors of
 * shared/bench/anchors, side by side in the same run:
 *
 * - grid max-flow on the 50 GrabCut instances (scribbles-1, 8-connected,
 *   λ = 50) and their `--scale 2` versions vs `maxflow_bk` (Debian's BK v3):
 *   median of per-instance time ratios, solve vs solve and build+solve vs
 *   build+solve; the flows must agree to 1e-9 relative;
 * - α-expansion on SEGPOTTS instances (321×321, 21 labels, 8-connected,
 *   λ = 1) vs `alpha_expansion_bk`, same cycles: time and energy ratios;
 * - batch solving: speed-up of 2 workers over 1 on GrabCut-sized problems;
 * - the dense CRF (bench/dense-crf.ts) vs `dense_crf_kk` (densecrf, the C++
 *   core of pydensecrf), in turns on the same instance: `denseCrfRatio` and
 *   the set-up / iterations ratios, the MAP labels' agreement, merged in.
 *
 * The anchors are built here, in `.anchors/` (git-ignored), when g++ and
 * libmaxflow-dev are present; the copy of maxflow_bk prints the flow with 17
 * digits instead of 9 so the 1e-9 agreement can be checked.
 *
 * Usage: pnpm --filter @seg/crf-solvers bench [--quick] [--only alpha|solvers]
 */

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { anchorBinary } from '@seg/anchors';
import { median } from '@seg/tensor/testing';
import {
  alphaExpansion,
  createSolverPool,
  GRID_DIRECTION_NAMES,
  GridGraph,
  type GridInstance,
  readGridInstance,
  readPottsInstance,
} from '../src/index.js';
import { GridBK } from '../src/maxflow/grid-bk.js';
import type { DenseCrfBenchResult } from './dense-crf.js';

const quick = process.argv.includes('--quick');
/**
 * `--only alpha`: the α-expansion section alone (a few minutes); `--only
 * solvers`: max-flow, α-expansion and batch, without the dense CRF.
 */
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? (process.argv[onlyAt + 1] ?? '') : '';
if (only !== '' && only !== 'alpha' && only !== 'solvers') {
  throw new Error(`bench: --only ${only}, expected alpha or solvers`);
}
const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const work = join(pkg, '.anchors');
const shared = process.env.SEG_SHARED ?? join(pkg, '../../../shared');
const anchorSrc = join(shared, 'bench', 'anchors');
const grabcut = join(shared, 'data', 'grabcut');

interface Row {
  case: string;
  ms: number;
  anchorMs: number | null;
  ratio: number | null;
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

let anchorBins: { maxflow: string; alpha: string } | null = null;

/** The anchor binaries (built once by @seg/anchors), or null after saying why they are missing. */
function buildAnchors(): { maxflow: string; alpha: string } | null {
  const mf = anchorBinary(shared, 'maxflow_bk17');
  const ae = anchorBinary(shared, 'alpha_expansion_bk');
  if (mf.path && ae.path) return { maxflow: mf.path, alpha: ae.path };
  console.log(`anchors not built: ${mf.reason ?? ae.reason}`);
  return null;
}

/** Makes the instances with the anchors' own generators, once. */
function makeInstances(names: string[], scales: number[], potts: string[]): void {
  for (const scale of scales) {
    const dir = join(work, scale === 1 ? 'grid' : `grid${scale}`);
    mkdirSync(dir, { recursive: true });
    for (const b of names) {
      const out = join(dir, `${b}.grid`);
      if (existsSync(out)) continue;
      sh('node', [
        join(anchorSrc, 'grid-instance.mjs'),
        join(grabcut, 'images', `${b}.png`),
        join(grabcut, 'scribbles-1', `${b}.png`),
        out,
        '--lambda',
        '50',
        '--conn',
        '8',
        '--scale',
        String(scale),
      ]);
    }
  }
  const pdir = join(work, 'potts');
  mkdirSync(pdir, { recursive: true });
  for (const b of potts) {
    const out = join(pdir, `${b}.potts`);
    if (existsSync(out)) continue;
    sh('node', [
      join(anchorSrc, 'potts-instance.mjs'),
      join(grabcut, 'images', `${b}.png`),
      out,
      '--labels',
      '21',
      '--lambda',
      '1',
      '--conn',
      '8',
      '--side',
      '321',
    ]);
  }
}

/** Our side of one grid instance: build (arrays → graph) and solve (search) times. */
function ours(inst: GridInstance): {
  flow: number;
  cutCost: number;
  buildMs: number;
  solveMs: number;
} {
  const t0 = performance.now();
  const g = new GridGraph(inst);
  g.setTerminals(inst.source, inst.sink);
  inst.edges.forEach((e, k) => {
    g.setEdges(GRID_DIRECTION_NAMES[k]!, e);
  });
  const t1 = performance.now();
  const r = g.maxflow();
  const t2 = performance.now();
  const solveMs = GridBK.lastSolveMs;
  // build = graph set-up + loading the residual graph; the search alone is the solve
  return { flow: r.flow, cutCost: r.cutCost, buildMs: t1 - t0 + (t2 - t1 - solveMs), solveMs };
}

interface MaxflowStats {
  solveRatios: number[];
  totalRatios: number[];
  worstRel: number;
  worstCut: number;
  oursMs: number[];
  anchorMs: number[];
}

function benchMaxflow(dir: string, names: string[], anchors: boolean, reps: number): MaxflowStats {
  const s: MaxflowStats = {
    solveRatios: [],
    totalRatios: [],
    worstRel: 0,
    worstCut: 0,
    oursMs: [],
    anchorMs: [],
  };
  for (const b of names) {
    const file = join(dir, `${b}.grid`);
    const inst = readGridInstance(readFileSync(file));
    let best = { solve: Infinity, total: Infinity };
    let bestA = { solve: Infinity, total: Infinity };
    let flow = 0;
    let cut = 0;
    let aflow = Number.NaN;
    for (let r = 0; r < reps; r++) {
      // interleaved, best of reps on each side: the machine is shared
      if (anchors) {
        const a = JSON.parse(sh(anchorBins!.maxflow, [file])) as {
          flow: number;
          buildMs: number;
          solveMs: number;
        };
        aflow = a.flow;
        bestA = {
          solve: Math.min(bestA.solve, a.solveMs),
          total: Math.min(bestA.total, a.buildMs + a.solveMs),
        };
      }
      const o = ours(inst);
      flow = o.flow;
      cut = o.cutCost;
      best = {
        solve: Math.min(best.solve, o.solveMs),
        total: Math.min(best.total, o.buildMs + o.solveMs),
      };
    }
    s.worstCut = Math.max(s.worstCut, Math.abs(cut - flow) / Math.abs(flow));
    s.oursMs.push(best.solve);
    if (anchors) {
      s.worstRel = Math.max(s.worstRel, Math.abs(flow - aflow) / Math.abs(aflow));
      s.solveRatios.push(best.solve / bestA.solve);
      s.totalRatios.push(best.total / bestA.total);
      s.anchorMs.push(bestA.solve);
    }
  }
  return s;
}

interface AlphaStats {
  timeRatios: number[];
  energyRatios: number[];
  msPerCycle: number[];
  anchorMsPerCycle: number[];
  /** Instances whose energy traces differ from the anchor's by more than 1e-9 relative. */
  traceMismatches: string[];
}

/**
 * α-expansion vs `alpha_expansion_bk` on each SEGPOTTS instance: the two
 * sides alternate `reps` times (anchor, ours, anchor, ours, …) and each keeps
 * its best time, so a burst of load from other jobs hits both alike.
 */
function benchAlpha(
  names: string[],
  anchors: boolean,
  maxCycles: number,
  reps: number,
): AlphaStats {
  const s: AlphaStats = {
    timeRatios: [],
    energyRatios: [],
    msPerCycle: [],
    anchorMsPerCycle: [],
    traceMismatches: [],
  };
  for (const b of names) {
    const file = join(work, 'potts', `${b}.potts`);
    const inst = readPottsInstance(readFileSync(file));
    let cycles = maxCycles;
    let a: { ms: number; energy: number; cycles: number; energyTrace: number[] } | null = null;
    let ms = Number.POSITIVE_INFINITY;
    let r: ReturnType<typeof alphaExpansion> | null = null;
    for (let rep = 0; rep < reps; rep++) {
      if (anchors) {
        const ar = JSON.parse(sh(anchorBins!.alpha, [file, String(maxCycles)]));
        if (a === null || ar.ms < a.ms) a = ar;
        cycles = ar.cycles;
      }
      const t0 = performance.now();
      r = alphaExpansion(inst, { maxCycles: cycles });
      ms = Math.min(ms, performance.now() - t0);
    }
    if (r === null) continue;
    s.msPerCycle.push(ms / r.cycles);
    if (a) {
      s.timeRatios.push(ms / a.ms);
      s.energyRatios.push(r.energy / a.energy);
      s.anchorMsPerCycle.push(a.ms / a.cycles);
      // the anchor's trace starts with the initial energy and prints 6 decimals
      const trace = a.energyTrace.slice(1);
      const same =
        trace.length === r.energies.length &&
        trace.every((e, i) => Math.abs(e - r!.energies[i]!) <= 1e-9 * Math.abs(e) + 1e-6);
      if (!same) s.traceMismatches.push(b);
    }
    console.log(
      `  α-expansion ${b}: ${r.cycles} cycles, ${ms.toFixed(0)} ms, E = ${r.energy.toFixed(3)}` +
        (a
          ? ` | anchor ${a.cycles} cycles, ${a.ms.toFixed(0)} ms, E = ${a.energy.toFixed(3)}`
          : ''),
    );
  }
  return s;
}

/** Speed-up of 2 workers over 1 on a batch of GrabCut-sized binary problems. */
async function benchBatch(names: string[]): Promise<{ ms1: number; ms2: number; speedup: number }> {
  const insts = names.map((b) => readGridInstance(readFileSync(join(work, 'grid', `${b}.grid`))));
  const problems = insts.map((g) => ({
    width: g.width,
    height: g.height,
    numLabels: 2,
    // label 1 = object = the source side of the instance: unary[p*2+1] is paid on the source side
    unary: Float64Array.from({ length: 2 * g.width * g.height }, (_, i) =>
      i & 1 ? g.sink[i >> 1]! : g.source[i >> 1]!,
    ),
    weights: g.edges,
  }));
  const built = join(pkg, 'dist', 'worker.js');
  const tensorTesting = import.meta.resolve('@seg/tensor/testing');
  const options = existsSync(built)
    ? { script: pathToFileURL(built) }
    : {
        script: new URL('./ts-worker.mjs', tensorTesting),
        execArgv: ['--conditions=@seg/source'],
        workerData: { segTsScript: pathToFileURL(join(pkg, 'src', 'batch', 'worker.ts')).href },
      };
  const time = async (size: number) => {
    const pool = await createSolverPool({ ...options, size });
    try {
      await Promise.all(problems.slice(0, size).map((p) => pool.binaryGraphCut(p))); // warm-up
      const t0 = performance.now();
      await Promise.all(problems.map((p) => pool.binaryGraphCut(p)));
      return performance.now() - t0;
    } finally {
      await pool.close();
    }
  };
  const ms1 = await time(1);
  const ms2 = await time(2);
  return { ms1, ms2, speedup: ms1 / ms2 };
}

function printAlphaSummary(al: AlphaStats, anchors: boolean): void {
  if (!anchors) return;
  console.log(
    `α-expansion energy ratio (median): ${median(al.energyRatios).toFixed(10)}, time ratios ${al.timeRatios.map((x) => x.toFixed(2)).join(' ')}`,
  );
  console.log(
    `α-expansion energy traces equal to the anchor's: ${al.traceMismatches.length === 0 ? 'all' : `not on ${al.traceMismatches.join(', ')}`}`,
  );
}

/** `--only alpha`: the α-expansion comparison alone, best of 3 per side (1 with --quick). */
async function alphaOnly(potts: string[], anchors: boolean): Promise<void> {
  console.log('α-expansion, 321×321, 21 labels, 8-conn, λ = 1…');
  const al = benchAlpha(potts, anchors, quick ? 2 : 5, quick ? 1 : 3);
  const r = (x: number) => (anchors ? x : null);
  console.log(
    `α-expansion ×${potts.length}: ${median(al.msPerCycle).toFixed(1)} ms per cycle, anchor ${anchors ? median(al.anchorMsPerCycle).toFixed(1) : '—'} ms, ratio ${anchors ? median(al.timeRatios).toFixed(2) : '—'}`,
  );
  printAlphaSummary(al, anchors);
  const bench = {
    quick,
    only: 'alpha',
    anchorsBuilt: anchors,
    alphaExpansionRatio: r(median(al.timeRatios)),
    alphaExpansionEnergyRatio: r(median(al.energyRatios)),
    alphaExpansionMsPerCycle: median(al.msPerCycle),
    alphaExpansionInstances: potts.length,
    alphaExpansionTraceMismatches: r(al.traceMismatches.length),
  };
  console.log(`BENCH ${JSON.stringify(bench)}`);
}

async function main(): Promise<void> {
  if (!existsSync(grabcut)) {
    console.log(`no data at ${grabcut}: set SEG_SHARED to the shared folder`);
    return;
  }
  const all = readdirSync(join(grabcut, 'images'))
    .filter((f) => f.endsWith('.png'))
    .map((f) => f.replace(/\.png$/, ''))
    .sort();
  const names = quick ? all.filter((_, i) => i % 5 === 0) : all;
  const names2 = quick ? all.filter((_, i) => i % 12 === 0) : all;
  const potts = quick ? ['llama'] : ['llama', 'banana1', 'flower', 'person1', 'sheep'];
  anchorBins = buildAnchors();
  const anchors = anchorBins !== null;
  if (only === 'alpha') {
    makeInstances([], [], potts);
    await alphaOnly(potts, anchors);
    return;
  }
  makeInstances(names, [1], potts);
  makeInstances(names2, [2], []);
  const rows: Row[] = [];

  console.log(`grid max-flow, ${names.length} GrabCut instances (8-conn, λ = 50)…`);
  const m1 = benchMaxflow(join(work, 'grid'), names, anchors, quick ? 1 : 2);
  console.log(`grid max-flow, ${names2.length} GrabCut instances at scale 2…`);
  const m2 = benchMaxflow(join(work, 'grid2'), names2, anchors, 1);
  const r = (x: number) => (anchors ? x : null);
  rows.push({
    case: `max-flow GrabCut ×${names.length}, solve (median)`,
    ms: median(m1.oursMs),
    anchorMs: r(median(m1.anchorMs)),
    ratio: r(median(m1.solveRatios)),
  });
  rows.push({
    case: `max-flow GrabCut ×${names2.length} scale 2, solve (median)`,
    ms: median(m2.oursMs),
    anchorMs: r(median(m2.anchorMs)),
    ratio: r(median(m2.solveRatios)),
  });
  rows.push({
    case: 'max-flow GrabCut, build+solve ratio (median)',
    ms: Number.NaN,
    anchorMs: null,
    ratio: r(median(m1.totalRatios)),
  });
  rows.push({
    case: 'max-flow GrabCut scale 2, build+solve ratio',
    ms: Number.NaN,
    anchorMs: null,
    ratio: r(median(m2.totalRatios)),
  });

  console.log('α-expansion, 321×321, 21 labels, 8-conn, λ = 1…');
  const al = benchAlpha(potts, anchors, quick ? 2 : 5, quick ? 1 : 2);
  rows.push({
    case: `α-expansion ×${potts.length}, ms per cycle (median)`,
    ms: median(al.msPerCycle),
    anchorMs: r(median(al.anchorMsPerCycle)),
    ratio: r(median(al.timeRatios)),
  });

  console.log('batch: binary graph cuts on 2 workers vs 1…');
  // the instances made above (with --quick, every 5th image)
  const batchNames = names.slice(0, quick ? 6 : 16);
  const bt = await benchBatch(batchNames);
  rows.push({
    case: `batch ×${batchNames.length} binaryGraphCut, 1 → 2 workers`,
    ms: bt.ms2,
    anchorMs: null,
    ratio: null,
  });

  let dense: DenseCrfBenchResult | null = null;
  let printDense: ((res: DenseCrfBenchResult) => void) | null = null;
  const denseFile = join(here, 'dense-crf.ts');
  if (only !== 'solvers' && existsSync(denseFile)) {
    const mod = (await import(pathToFileURL(denseFile).href)) as {
      runDenseCrfBench(quick: boolean): Promise<DenseCrfBenchResult>;
      printDenseCrfSummary(res: DenseCrfBenchResult): void;
    };
    dense = await mod.runDenseCrfBench(quick);
    printDense = mod.printDenseCrfSummary;
    rows.push(...dense.rows);
  }

  const pad = (s: string, n: number) => s.padEnd(n);
  const f = (x: number | null, d: number) => (x === null || Number.isNaN(x) ? '—' : x.toFixed(d));
  console.log(`\n@seg/crf-solvers vs native anchors${quick ? ' (quick)' : ''}`);
  console.log(`${pad('case', 48)} ${pad('@seg ms', 10)} ${pad('anchor ms', 10)} ratio`);
  for (const row of rows)
    console.log(
      `${pad(row.case, 48)} ${pad(f(row.ms, 1), 10)} ${pad(f(row.anchorMs, 1), 10)} ${f(row.ratio, 2)}`,
    );
  console.log(
    `flow vs maxflow_bk, worst relative difference: ${anchors ? m1.worstRel.toExponential(2) : '—'} (scale 2: ${anchors ? m2.worstRel.toExponential(2) : '—'})`,
  );
  console.log(
    `cut cost vs flow, worst relative difference: ${Math.max(m1.worstCut, m2.worstCut).toExponential(2)}`,
  );
  printAlphaSummary(al, anchors);
  console.log(
    `batch: 1 worker ${bt.ms1.toFixed(0)} ms, 2 workers ${bt.ms2.toFixed(0)} ms, speed-up ${bt.speedup.toFixed(2)}×`,
  );
  if (dense && printDense) printDense(dense);

  const bench = {
    quick,
    anchorsBuilt: anchors,
    maxflowRatioMedian: r(median(m1.solveRatios)),
    maxflowRatioMedianScale2: r(median(m2.solveRatios)),
    maxflowBuildSolveRatioMedian: r(median(m1.totalRatios)),
    maxflowBuildSolveRatioMedianScale2: r(median(m2.totalRatios)),
    maxflowSolveMsMedian: median(m1.oursMs),
    maxflowWorstRelFlowDiff: r(Math.max(m1.worstRel, m2.worstRel)),
    maxflowInstances: names.length,
    maxflowInstancesScale2: names2.length,
    alphaExpansionRatio: r(median(al.timeRatios)),
    alphaExpansionEnergyRatio: r(median(al.energyRatios)),
    alphaExpansionMsPerCycle: median(al.msPerCycle),
    alphaExpansionInstances: potts.length,
    alphaExpansionTraceMismatches: r(al.traceMismatches.length),
    batchSpeedup2Workers: bt.speedup,
    batchMs1: bt.ms1,
    batchMs2: bt.ms2,
    denseCrfSec: dense ? dense.denseCrfSec : null,
    // every dense-CRF ratio is against the native densecrf run in turns with it
    denseCrfRatio: dense ? dense.denseCrfRatio : null,
    denseCrfSetupRatio: dense ? dense.denseCrfSetupRatio : null,
    denseCrfIterationsRatio: dense ? dense.denseCrfIterationsRatio : null,
    denseCrfMapAgreement: dense ? dense.denseCrfMapAgreement : null,
    denseCrfAnchorMs: dense ? dense.denseCrfAnchorMs : null,
    denseCrfLoadAvg: dense ? dense.loadAvg : null,
  };
  console.log(`BENCH ${JSON.stringify(bench)}`);
}

await main();
