/**
 * `seg bench`: runs the packages' benchmarks (each package's `bench` script,
 * which prints a table and a last line `BENCH {json}`) one after the other,
 * and prints their figures as one table. Works inside the repository only
 * (the benchmarks are sources run by tsx, not part of the built packages).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './args.js';
import type { Progress } from './log.js';

/** A package with a bench script. */
export interface BenchPackage {
  name: string;
  dir: string;
  /** The `bench` script, e.g. `tsx --conditions=@seg/source bench/bench.ts`. */
  script: string;
}

/** The repository root above `from` (the folder with pnpm-workspace.yaml and packages/), or null. */
export function workspaceRoot(from = dirname(fileURLToPath(import.meta.url))): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml')) && existsSync(join(dir, 'packages')))
      return dir;
    if (dirname(dir) === dir) return null;
  }
}

/** The packages of `root`/packages with a `bench` script, sorted by folder. */
export function benchPackages(root: string): BenchPackage[] {
  const dir = join(root, 'packages');
  return readdirSync(dir)
    .sort()
    .flatMap((d) => {
      const file = join(dir, d, 'package.json');
      if (!existsSync(file)) return [];
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as {
        name: string;
        scripts?: Record<string, string>;
      };
      const script = pkg.scripts?.bench;
      return script ? [{ name: pkg.name, dir: join(dir, d), script }] : [];
    });
}

/** `{a: {b: 1}, c: [1, 2]}` → `[['a.b', '1'], ['c', '[1,2]']]`. */
export function flatten(value: unknown, prefix = ''): [string, string][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
  }
  const text =
    typeof value === 'number'
      ? Number.isInteger(value)
        ? String(value)
        : String(Number(value.toPrecision(4)))
      : JSON.stringify(value);
  return [[prefix, text]];
}

/** Runs one package's benchmark; its output goes to `progress`; resolves to its BENCH figures. */
function runBench(pkg: BenchPackage, quick: boolean, progress: Progress): Promise<unknown> {
  const [command, ...rest] = pkg.script.split(/\s+/);
  const local = join(pkg.dir, 'node_modules', '.bin', command!);
  const args = [...rest, ...(quick ? ['--quick'] : [])];
  return new Promise((done, fail) => {
    const child = spawn(existsSync(local) ? local : command!, args, {
      cwd: pkg.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      for (const l of d.split('\n')) if (l && !l.startsWith('BENCH ')) progress.status(`  ${l}`);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('error', (e) => fail(new Error(`seg bench: ${pkg.name}: ${e.message}`)));
    child.on('close', (code) => {
      progress.clear();
      const line = out
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('BENCH '));
      if (code !== 0 || !line) {
        fail(
          new Error(
            `seg bench: ${pkg.name}'s benchmark ${code !== 0 ? `failed (exit status ${code})` : 'printed no BENCH line'}:\n${err.trim() || out.trim().split('\n').slice(-5).join('\n')}`,
          ),
        );
        return;
      }
      done(JSON.parse(line.slice('BENCH '.length)));
    });
  });
}

/** Runs the benchmarks of `only` (package names or folder names; default all), one table. */
export async function bench(
  only: readonly string[],
  quick: boolean,
  json: boolean,
  progress: Progress,
): Promise<number> {
  const root = workspaceRoot();
  if (!root)
    throw new Error(
      'seg bench: the benchmarks run inside the @seg repository (they are sources, not part of the built packages); no pnpm-workspace.yaml above the CLI',
    );
  const all = benchPackages(root);
  const pick = only.length === 0 ? all : [];
  for (const o of only) {
    const p = all.find((a) => a.name === o || a.name === `@seg/${o}`);
    if (!p)
      throw new UsageError(
        `seg bench: no package ${JSON.stringify(o)} with a benchmark, expected one of ${all.map((a) => a.name.replace('@seg/', '')).join(', ')}`,
      );
    pick.push(p);
  }
  const figures: Record<string, unknown> = {};
  for (const [i, p] of pick.entries()) {
    progress.line(`[${i + 1}/${pick.length}] ${p.name}: ${p.script}${quick ? ' --quick' : ''}`);
    const t0 = performance.now();
    figures[p.name] = await runBench(p, quick, progress);
    progress.line(
      `[${i + 1}/${pick.length}] ${p.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  if (json) {
    console.log(JSON.stringify(figures));
    return 0;
  }
  const rows = Object.entries(figures).flatMap(([name, f]) =>
    flatten(f).map(([k, v]) => [name, k, v] as const),
  );
  const w0 = Math.max(7, ...rows.map((r) => r[0].length));
  const w1 = Math.max(6, ...rows.map((r) => r[1].length));
  console.log(`${'package'.padEnd(w0)}  ${'figure'.padEnd(w1)}  value`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
  return 0;
}
