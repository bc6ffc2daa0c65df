/**
 * Test helpers for `@seg` packages (vitest).
 *
 * @example
 * describeBackends('partialCrossEntropy', () => {
 *   it('does not leak', async () => { await expectNoLeaks(() => loss(x, y).dispose()); });
 * });
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect } from 'vitest';
import { type BackendName, initBackend } from '../backend.js';
import { assertNumber } from '../errors.js';

/** The backends every suite runs on. */
export const BACKENDS: readonly BackendName[] = ['wasm', 'cpu'];

/** Runs `body` once per backend, inside `describe('<title> [<backend>]')`, with that backend set. */
export function describeBackends(title: string, body: (backend: BackendName) => void): void {
  for (const backend of BACKENDS) {
    describe(`${title} [${backend}]`, () => {
      beforeAll(async () => {
        await initBackend({ backend });
      });
      body(backend);
    });
  }
}

/**
 * Runs `fn` and fails unless `tf.memory().numTensors` is the same after it
 * (what `fn` returns is disposed first, if it is a tensor or a list of them).
 */
export async function expectNoLeaks(fn: () => unknown): Promise<void> {
  const before = tf.memory().numTensors;
  const out = await fn();
  tf.dispose(out as tf.TensorContainer);
  expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
}

/**
 * Fails unless `f` throws an instance of `cls` whose message is exactly
 * `message` (vitest's `toThrow(error)` compares the message only).
 */
export function expectThrow(
  f: () => unknown,
  cls: new (m: string) => Error,
  message: string,
): void {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(cls);
  expect((error as Error).message).toBe(message);
}

/** {@link expectThrow} for a promise: fails unless `p` rejects with an instance of `cls` whose message is exactly `message`. */
export async function expectRejects(
  p: Promise<unknown>,
  cls: new (m: string) => Error,
  message: string,
): Promise<void> {
  let error: unknown;
  let rejected = false;
  try {
    await p;
  } catch (e) {
    error = e;
    rejected = true;
  }
  expect(rejected, 'the promise rejects').toBe(true);
  expect(error).toBeInstanceOf(cls);
  expect((error as Error).message).toBe(message);
}

/** Central finite differences of a float64 function: `(f(x+εe_i) − f(x−εe_i)) / 2ε` for every i. */
export function numericGradient(
  f: (x: Float64Array) => number,
  x: ArrayLike<number>,
  eps = 1e-6,
): Float64Array {
  assertNumber('numericGradient', 'eps', eps, Number.MIN_VALUE);
  const xx = Float64Array.from(x);
  const g = new Float64Array(xx.length);
  for (let i = 0; i < xx.length; i++) {
    const v = xx[i]!;
    xx[i] = v + eps;
    const fp = f(xx);
    xx[i] = v - eps;
    const fm = f(xx);
    xx[i] = v;
    g[i] = (fp - fm) / (2 * eps);
  }
  return g;
}

/** Largest `|a_i − b_i| / max(|b_i|, floor)`: a relative error that tolerates entries near zero. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-3): number {
  if (a.length !== b.length)
    throw new Error(`maxRelativeError: lengths differ (${a.length} vs ${b.length})`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), floor);
    if (e > m || Number.isNaN(e)) m = Number.isNaN(e) ? Infinity : e;
  }
  return m;
}

/** `max_i |a_i − b_i| / max_i |b_i|`: the error relative to the largest entry (0 when both are 0). */
export function maxNormRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length)
    throw new Error(`maxNormRelativeError: lengths differ (${a.length} vs ${b.length})`);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! - b[i]!);
    d = Number.isNaN(e) ? Infinity : Math.max(d, e);
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d === 0 ? 0 : d / m;
}

/**
 * Pool options that run a TypeScript worker module of this workspace (tests
 * only): a small bootstrap loads it through tsx, with workspace packages
 * resolved to their sources.
 *
 * @example
 * const pool = await WorkerPool.create({ ...tsWorker(new URL('./fixtures/tasks.ts', import.meta.url)), size: 2 });
 */
export function tsWorker(script: URL): {
  script: URL;
  execArgv: string[];
  workerData: { segTsScript: string };
} {
  return {
    script: new URL('./ts-worker.mjs', import.meta.url),
    execArgv: ['--conditions=@seg/source'],
    workerData: { segTsScript: script.href },
  };
}

/**
 * The project's `shared/` folder (data sets and native anchors), or `null`
 * when this machine has none: `$SEG_SHARED` if set, else the first `shared/`
 * holding `data/` found beside the working directory or one of its parents.
 * Tests that need it skip, and say so, when it is `null`.
 */
export function sharedDir(): string | null {
  const env = process.env.SEG_SHARED;
  if (env) return existsSync(join(env, 'data')) ? resolve(env) : null;
  let dir = process.cwd();
  for (;;) {
    const candidate = join(dir, 'shared');
    if (existsSync(join(candidate, 'data')) && existsSync(join(candidate, 'docs')))
      return candidate;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/**
 * The median of `xs`: the middle value, the mean of the two middle ones when
 * there are an even number, NaN when there are none. For benchmark timings.
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The repository root above `dir`: the first folder holding `pnpm-workspace.yaml`. */
function workspaceRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'pnpm-workspace.yaml'))) return d;
    if (dirname(d) === d) throw new Error(`workspaceRoot: no pnpm-workspace.yaml above ${dir}`);
  }
}

/**
 * Fails unless the first fenced code block of `readme` (the opening example)
 * is, character for character, the file `example`: a README example is kept
 * in a file that a test runs ({@link runExample}), and the README mirrors it.
 */
export function expectReadmeMirrors(readme: URL, example: URL): void {
  const block = /^```[\w-]*\n([\s\S]*?)^```$/m.exec(readFileSync(readme, 'utf8'))?.[1];
  expect(block, `${fileURLToPath(readme)}: no fenced code block`).toBeDefined();
  expect(block, `the opening example of ${fileURLToPath(readme)}`).toBe(
    readFileSync(example, 'utf8'),
  );
}

/**
 * Runs an example as a user runs it (tests only): a separate process from the
 * repository root (where the bundled `samples/` are) — a `.ts` file by Node
 * through tsx with workspace packages resolved to their sources (as the
 * packages' bench scripts), a `.sh` file by bash. Returns what it printed on
 * stdout; throws with its stderr if it fails or outlasts `timeoutMs`.
 */
export function runExample(example: URL, timeoutMs = 60_000): string {
  const file = fileURLToPath(example);
  const cwd = workspaceRoot(dirname(file));
  const [cmd, args] = file.endsWith('.sh')
    ? ['bash', ['-eo', 'pipefail', file]]
    : [
        process.execPath,
        [
          '--import',
          pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href,
          '--conditions=@seg/source',
          file,
        ],
      ];
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) {
    const why = r.error ? r.error.message : `exit code ${r.status ?? r.signal}`;
    throw new Error(`runExample: ${file} failed (${why}):\n${r.stderr}`);
  }
  return r.stdout;
}
