/**
 * Folder runs: images on worker threads, shards (`--shard I/N`, or a
 * Kubernetes Indexed Job's JOB_COMPLETION_INDEX / JOB_COMPLETIONS), the JSON
 * part each shard writes, and `seg merge`'s check and combination of parts.
 */
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { WorkerPool } from '@seg/tensor';
import { makeFolder } from '@seg/tensor/node';
import { integerOption, type ParsedArgs, stringOption, UsageError } from './args.js';
import type { Progress } from './log.js';
import type { ImageJob, ImageResult } from './task.js';

/** Shard `index` of `count` (0-based): the images index, index + count, … in name order. */
export interface Shard {
  index: number;
  count: number;
}

/**
 * `--shard I/N`, else JOB_COMPLETION_INDEX / JOB_COMPLETIONS from `env` (as a
 * Kubernetes Indexed Job sets the first; the manifest sets the second), else 0/1.
 */
export function shardOption(args: ParsedArgs, command: string, env = process.env): Shard {
  const given = stringOption(args, 'shard');
  let text: string;
  let from: string;
  if (given !== undefined) {
    text = given;
    from = '--shard';
  } else if (env.JOB_COMPLETION_INDEX !== undefined) {
    if (env.JOB_COMPLETIONS === undefined)
      throw new UsageError(
        `seg ${command}: JOB_COMPLETION_INDEX is ${JSON.stringify(env.JOB_COMPLETION_INDEX)} but JOB_COMPLETIONS is not set, expected both (set JOB_COMPLETIONS to the Job's completions) or --shard I/N`,
      );
    text = `${env.JOB_COMPLETION_INDEX}/${env.JOB_COMPLETIONS}`;
    from = 'JOB_COMPLETION_INDEX/JOB_COMPLETIONS';
  } else return { index: 0, count: 1 };
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || count > 1e6 || index >= count) {
    throw new UsageError(
      `seg ${command}: ${from} is ${JSON.stringify(text)}, expected I/N with integers 0 ≤ I < N (e.g. 0/3)`,
    );
  }
  return { index, count };
}

/** The items of shard `s`: positions s.index, s.index + s.count, … */
export function pickShard<T>(items: readonly T[], s: Shard): T[] {
  return items.filter((_, i) => i % s.count === s.index);
}

/** `--workers N` (default: the cores, at most `jobs`, at least 1). */
export function workersOption(args: ParsedArgs, jobs: number): number {
  return integerOption(
    args,
    'workers',
    Math.max(1, Math.min(availableParallelism(), jobs)),
    1,
    256,
  );
}

/**
 * Runs `jobs` on `workers` worker threads (src/worker.ts, built beside this
 * module), reporting each image as it ends. Results in the order of `jobs`.
 * The first failure stops the run with an error naming the image.
 */
export async function runJobs(
  jobs: readonly ImageJob[],
  workers: number,
  progress: Progress,
  command: string,
): Promise<ImageResult[]> {
  if (jobs.length === 0) return [];
  const pool = await WorkerPool.create({
    script: new URL('./worker.js', import.meta.url),
    size: Math.min(workers, jobs.length),
  });
  let done = 0;
  const t0 = performance.now();
  try {
    return await Promise.all(
      jobs.map((job) =>
        pool.run<ImageResult>('image', [job]).then(
          (r) => {
            done++;
            const iou = r.iou === null ? '' : ` IoU ${r.iou.toFixed(4)}`;
            const wall = ((performance.now() - t0) / 1000).toFixed(1);
            progress.line(
              `[${done}/${jobs.length}] ${r.name}: ${r.width}×${r.height}${iou} in ${r.seconds.toFixed(1)} s (${wall} s elapsed)`,
            );
            return r;
          },
          (e: unknown) => {
            const why = (e as Error).message.replace(
              /^WorkerPool: task "image" failed in a worker: /,
              '',
            );
            throw new Error(`seg ${command}: ${job.name}: ${why}`);
          },
        ),
      ),
    );
  } finally {
    await pool.close();
  }
}

/** Per-image IoU and the mean, in name order: what eval prints and merge rebuilds. */
export interface Summary {
  /** Mean of the images' IoU (those with a ground truth); null when none has one. */
  meanIoU: number | null;
  images: { name: string; iou: number | null; mask?: string | null }[];
}

/** Sorts by name and takes the mean (summed in name order, so shards merge to the same float). */
export function summarize(images: Summary['images']): Summary {
  const sorted = [...images].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const scored = sorted.filter((i) => i.iou !== null);
  let sum = 0;
  for (const i of scored) sum += i.iou!;
  return { meanIoU: scored.length > 0 ? sum / scored.length : null, images: sorted };
}

/** A shard's JSON part: its images, and what `seg merge` checks. */
export interface Part extends Summary {
  /** The command that wrote it. */
  seg: 'eval' | 'segment';
  /** The options that must agree across parts (method, λ, seed, scribble set, backend). */
  run: Record<string, string | number | null>;
  /** [index, count] */
  shard: [number, number];
  /** Images in the whole run (all shards). */
  total: number;
}

/** A part, its keys in a fixed order (meanIoU and images first), so equal runs print equal JSON. */
export function makePart(
  seg: Part['seg'],
  run: Part['run'],
  shard: Shard,
  total: number,
  images: Summary['images'],
): Part {
  const { meanIoU, images: sorted } = summarize(images);
  return { meanIoU, images: sorted, seg, run, shard: [shard.index, shard.count], total };
}

/** Checks `--part` before the run: a .json name, in a folder that exists or can be made. */
export function checkPartPath(path: string, command: string): void {
  if (!path.toLowerCase().endsWith('.json'))
    throw new UsageError(
      `seg ${command}: --part ${JSON.stringify(path)} is not a .json file name, expected e.g. part-0.json`,
    );
  if (existsSync(path) && statSync(path).isDirectory())
    throw new UsageError(
      `seg ${command}: --part ${JSON.stringify(path)} is a folder, expected a .json file name`,
    );
  try {
    makeFolder(dirname(path), `seg ${command}`);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Writes a part (atomically: a temporary file renamed into place). */
export function writePart(path: string, part: Part, command: string): void {
  checkPartPath(path, command);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(part)}\n`);
  renameSync(tmp, path);
}

/**
 * Reads and combines parts: same command and options, the same shard count,
 * every shard exactly once, no image twice, all the run's images there.
 */
export function mergeParts(paths: readonly string[]): Part {
  const fn = 'seg merge';
  if (paths.length === 0) throw new UsageError(`${fn}: no parts given, expected PART.json…`);
  const parts = paths.map((p) => {
    let part: Part;
    try {
      // a part file, or a saved stdout of `--json` (the JSON is its last line)
      const lines = readFileSync(p, 'utf8').trim().split('\n');
      part = JSON.parse(lines[lines.length - 1]!) as Part;
    } catch (e) {
      throw new Error(`${fn}: cannot read ${p} (${(e as Error).message})`);
    }
    if (
      !part ||
      (part.seg !== 'eval' && part.seg !== 'segment') ||
      !Array.isArray(part.shard) ||
      !Array.isArray(part.images)
    )
      throw new Error(`${fn}: ${p} is not a part written by seg eval or seg segment --part`);
    return part;
  });
  const first = parts[0]!;
  const key = JSON.stringify([first.seg, first.run, first.shard[1], first.total]);
  const seen = new Map<number, string>();
  const names = new Set<string>();
  parts.forEach((part, i) => {
    if (JSON.stringify([part.seg, part.run, part.shard[1], part.total]) !== key) {
      throw new Error(
        `${fn}: ${paths[i]} is from another run (${part.seg} ${JSON.stringify(part.run)}, shard ${part.shard.join('/')}, ${part.total} images) than ${paths[0]} (${first.seg} ${JSON.stringify(first.run)}, shard ${first.shard.join('/')}, ${first.total} images)`,
      );
    }
    const prev = seen.get(part.shard[0]);
    if (prev !== undefined)
      throw new Error(
        `${fn}: shard ${part.shard.join('/')} is given twice (${prev} and ${paths[i]})`,
      );
    seen.set(part.shard[0], paths[i]!);
    for (const im of part.images) {
      if (names.has(im.name)) throw new Error(`${fn}: image ${im.name} is in two parts`);
      names.add(im.name);
    }
  });
  const count = first.shard[1];
  const missing = [...Array(count).keys()].filter((i) => !seen.has(i));
  if (missing.length > 0)
    throw new Error(
      `${fn}: shards ${missing.map((i) => `${i}/${count}`).join(', ')} are missing, expected all ${count}`,
    );
  if (names.size !== first.total)
    throw new Error(
      `${fn}: the parts hold ${names.size} images, expected the run's ${first.total}`,
    );
  return makePart(
    first.seg,
    first.run,
    { index: 0, count: 1 },
    first.total,
    parts.flatMap((p) => p.images),
  );
}
