// Files of the data-set experiment: a folder in the GrabCut / horses layout
// (images/, masks/, scribbles-1/) read as DatasetExamples, and checkpoints
// written as JSON with their float arrays in base64.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DatasetCheckpoint, DatasetExample } from '../../src/index.js';
import { grabCutNames, loadGrabCut } from '../../src/node/index.js';
import type { MethodTask } from './worker.js';

/** The project's horses (`$SEG_SHARED`, or `shared/` beside the clone). */
export const SHARED_HORSES = process.env.SEG_SHARED
  ? join(process.env.SEG_SHARED, 'data/horses')
  : new URL('../../../../../shared/data/horses', import.meta.url).pathname;

/** Image names of a folder in the horses layout (sorted). */
export function datasetNames(dir: string): string[] {
  if (!existsSync(join(dir, 'images')))
    throw new Error(`experiment:dataset: ${dir}/images does not exist`);
  return grabCutNames(dir);
}

/** Loads `names` of `dir` (scribble set 1; masks where present). */
export function loadDataset(dir: string, names: string[]): DatasetExample[] {
  return loadGrabCut(dir, { scribbles: 1, names });
}

const b64 = (a: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const f32 = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

/** Writes a checkpoint (atomically: a temporary file, then a rename). */
export function saveCheckpoint(path: string, cp: DatasetCheckpoint, meta: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const json = {
    meta,
    method: cp.method,
    step: cp.step,
    history: cp.history,
    params: Object.fromEntries(
      Object.entries(cp.params).map(([k, v]) => [k, { shape: v.shape, data: b64(v.data) }]),
    ),
    optimizer: cp.optimizer.map((o) => ({ name: o.name, shape: o.shape, data: b64(o.data) })),
  };
  writeFileSync(`${path}.tmp`, JSON.stringify(json));
  renameSync(`${path}.tmp`, path);
}

/** JSON with every object's keys sorted: settings compare by content, not by the order they were written in. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );

/** Reads a checkpoint of {@link saveCheckpoint}, or null if absent or written for other settings. */
export function loadCheckpoint(path: string, meta: unknown): DatasetCheckpoint | null {
  if (!existsSync(path)) return null;
  const j = JSON.parse(readFileSync(path, 'utf8'));
  if (canonical(j.meta) !== canonical(meta)) return null;
  return {
    method: j.method,
    step: j.step,
    history: j.history,
    params: Object.fromEntries(
      Object.entries(j.params as Record<string, { shape: number[]; data: string }>).map(
        ([k, v]) => [k, { shape: v.shape, data: f32(v.data) }],
      ),
    ),
    optimizer: (j.optimizer as { name: string; shape: number[]; data: string }[]).map((o) => ({
      name: o.name,
      shape: o.shape,
      data: f32(o.data),
    })),
  };
}

/** The settings a checkpoint of `task` is valid for (what changes the training). */
export function checkpointMeta(task: MethodTask): unknown {
  const {
    checkpointPath,
    curveEvery,
    stopAt,
    initFrom,
    figureNames,
    finalDir,
    finalNames,
    ...meta
  } = task;
  return meta;
}
