import { assertInt, WorkerPool } from '@seg/tensor';
import type { BinaryCutOptions } from '../alpha-expansion/moves.js';
import type { LabelingProblem, LabelingResult, MoveOptions } from '../alpha-expansion/problem.js';
import type { GridInstance } from '../io/formats.js';
import type { MaxflowResult } from '../maxflow/grid-graph.js';

/** Options of {@link createSolverPool}. */
export interface SolverPoolOptions {
  /** Number of workers. @default the number of cores */
  size?: number;
  /** The worker module. @default `worker.js` beside this bundle (the package's built worker) */
  script?: string | URL;
  /** Node only: `execArgv` of each worker. */
  execArgv?: string[];
  /** Node only: `workerData` of each worker. */
  workerData?: unknown;
}

/** Per-call options: move the problem's buffers to the worker instead of copying them; bound its time. */
export interface SolveCallOptions {
  /** Buffers to transfer (the caller loses them). */
  transfer?: ArrayBuffer[];
  /** Time limit in ms: past it the worker is terminated and replaced, the call rejects with a `WorkerTimeoutError`. */
  timeout?: number;
  /** Cancels the call (a running solve's worker is terminated and replaced). */
  signal?: AbortSignal;
}

/** Solvers that run on a pool of worker threads (Web Workers in the browser), one problem per task. */
export interface SolverPool {
  /** Number of workers. */
  readonly size: number;
  /** {@link binaryGraphCut} in a worker. */
  binaryGraphCut(
    problem: LabelingProblem,
    options?: BinaryCutOptions,
    call?: SolveCallOptions,
  ): Promise<LabelingResult>;
  /** {@link alphaExpansion} in a worker. */
  alphaExpansion(
    problem: LabelingProblem,
    options?: MoveOptions,
    call?: SolveCallOptions,
  ): Promise<LabelingResult>;
  /** {@link alphaBetaSwap} in a worker. */
  alphaBetaSwap(
    problem: LabelingProblem,
    options?: MoveOptions,
    call?: SolveCallOptions,
  ): Promise<LabelingResult>;
  /** Max-flow of a grid instance ({@link GridGraph}) in a worker. */
  gridMaxflow(instance: GridInstance, call?: SolveCallOptions): Promise<MaxflowResult>;
  /** Stops the workers. */
  close(): Promise<void>;
}

/**
 * Starts a pool of workers that solve many labeling problems in parallel,
 * e.g. one image per task in each iteration of an ADM trainer. Errors thrown
 * by a solver (bad input) reject the call with a `WorkerTaskError` carrying
 * the solver's message.
 *
 * @example
 * const pool = await createSolverPool({ size: 2 });
 * const results = await Promise.all(problems.map((p) => pool.binaryGraphCut(p, { seeds: seedsOf(p) })));
 * await pool.close();
 */
export async function createSolverPool(options: SolverPoolOptions = {}): Promise<SolverPool> {
  if (options.size !== undefined) assertInt('createSolverPool', 'size', options.size, 1);
  const pool = await WorkerPool.create({
    script: options.script ?? new URL('./worker.js', import.meta.url),
    ...(options.size !== undefined ? { size: options.size } : {}),
    ...(options.execArgv ? { execArgv: options.execArgv } : {}),
    ...(options.workerData !== undefined ? { workerData: options.workerData } : {}),
  });
  const run = <R>(task: string, args: unknown[], call: SolveCallOptions = {}) =>
    pool.run<R>(task, args, {
      ...(call.transfer ? { transfer: call.transfer } : {}),
      ...(call.timeout !== undefined ? { timeout: call.timeout } : {}),
      ...(call.signal ? { signal: call.signal } : {}),
    });
  return {
    size: pool.size,
    binaryGraphCut: (problem, opts = {}, call) => run('binaryGraphCut', [problem, opts], call),
    alphaExpansion: (problem, opts = {}, call) => run('alphaExpansion', [problem, opts], call),
    alphaBetaSwap: (problem, opts = {}, call) => run('alphaBetaSwap', [problem, opts], call),
    gridMaxflow: (instance, call) => run('gridMaxflow', [instance], call),
    close: () => pool.close(),
  };
}
