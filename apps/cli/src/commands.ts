/** The commands of `seg` (loaded on demand: `seg --help` does not load TensorFlow.js). */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import {
  DEFAULT_SEGMENT_MAX_BYTES,
  MAX_POTTS_WEIGHT,
  objectIoU,
  type SegmentMethod,
  segmentImage,
} from '@seg/optim-adm';
import { grabCutNames, readMask, readScribbles } from '@seg/optim-adm/node';
import { initBackend } from '@seg/tensor';
import { DEFAULT_MAX_PIXELS, readImage } from '@seg/tensor/node';
import {
  bytesOption,
  choiceOption,
  integerOption,
  numberOption,
  type ParsedArgs,
  stringOption,
  UsageError,
} from './args.js';
import {
  checkPartPath,
  makePart,
  mergeParts,
  type Part,
  pickShard,
  runJobs,
  shardOption,
  workersOption,
  writePart,
} from './batch.js';
import type { Progress } from './log.js';
import { type InputFile, prepareFolder, prepareOutput, saveMask } from './output.js';
import { progressLine } from './progress.js';
import { checkMemoryBudget, type ImageJob } from './task.js';

const METHODS: readonly SegmentMethod[] = ['adm', 'graphcut', 'gd-grid', 'gd-dense', 'pce'];
const IMAGE = /\.(png|jpe?g)$/i;

/** An input path that must exist and be a file. */
function needFile(command: string, path: string | undefined, what: string): string {
  if (!path)
    throw new UsageError(`seg ${command}: ${what} is missing (seg ${command} -h for help)`);
  if (!existsSync(path))
    throw new UsageError(`seg ${command}: ${what} ${JSON.stringify(path)} does not exist`);
  if (statSync(path).isDirectory())
    throw new UsageError(
      `seg ${command}: ${what} ${JSON.stringify(path)} is a folder, expected an image file${what === 'the image' ? '' : ' (a folder of images takes folders here)'}`,
    );
  return path;
}

/** An input path that must exist and be a folder. */
function needFolder(command: string, path: string | undefined, what: string): string {
  if (!path)
    throw new UsageError(`seg ${command}: ${what} is missing (seg ${command} -h for help)`);
  if (!existsSync(path))
    throw new UsageError(`seg ${command}: ${what} ${JSON.stringify(path)} does not exist`);
  if (!statSync(path).isDirectory())
    throw new UsageError(
      `seg ${command}: ${what} ${JSON.stringify(path)} is a file, expected a folder (a single image takes files here)`,
    );
  return path;
}

/** The options the segmentation takes, shared by segment and eval. */
function runOptions(args: ParsedArgs) {
  const method = choiceOption(args, 'method', METHODS, 'adm');
  const backend = choiceOption(args, 'backend', ['wasm', 'cpu'] as const, 'wasm');
  const lambda = args.options.has('lambda')
    ? numberOption(args, 'lambda', 0, 0, MAX_POTTS_WEIGHT)
    : undefined;
  const seed = integerOption(args, 'seed', 1, 0, 2 ** 32 - 1);
  const maxPixels = integerOption(
    args,
    'max-pixels',
    DEFAULT_MAX_PIXELS,
    1,
    Number.MAX_SAFE_INTEGER,
  );
  const maxBytes = bytesOption(args, 'max-memory', defaultMaxMemory());
  return { method, backend, lambda, seed, maxPixels, maxBytes };
}

/** The default of --max-memory: 4 GiB (segmentImage's default), at most 75 % of this machine's memory. */
export function defaultMaxMemory(): number {
  return Math.min(DEFAULT_SEGMENT_MAX_BYTES, Math.floor(0.75 * totalmem()));
}

export async function segment(args: ParsedArgs, progress: Progress): Promise<number> {
  if (args.positionals.length > 2) {
    throw new UsageError(
      `seg segment: expected one IMAGE, got ${args.positionals.length - 1} arguments (${args.positionals
        .slice(1)
        .map((p) => JSON.stringify(p))
        .join(', ')})`,
    );
  }
  const target = args.positionals[1];
  if (target && existsSync(target) && statSync(target).isDirectory())
    return segmentFolder(args, target, progress);
  for (const name of ['workers', 'shard', 'part', 'json'] as const) {
    if (args.options.has(name))
      throw new UsageError(`seg segment: --${name} is for a folder of images, and IMAGE is a file`);
  }
  // every argument, input and the output path are checked before any work
  const imagePath = needFile('segment', target, 'the image');
  const scribblesPath = needFile('segment', stringOption(args, 'scribbles'), '--scribbles');
  const maskOption = stringOption(args, 'mask');
  const maskPath = maskOption === undefined ? undefined : needFile('segment', maskOption, '--mask');
  const { method, backend, lambda, seed, maxPixels, maxBytes } = runOptions(args);
  const out =
    stringOption(args, 'out') ?? `out/${basename(imagePath).replace(/\.[^.]+$/, '')}-mask.png`;
  const inputs: InputFile[] = [
    { what: 'the image', path: imagePath },
    { what: '--scribbles', path: scribblesPath },
    ...(maskPath ? [{ what: '--mask', path: maskPath }] : []),
  ];
  prepareOutput(out, inputs, args.options.has('force'));

  const image = readImage(imagePath, { maxPixels });
  // the memory budget, from the image's size, before anything else is read or allocated
  checkMemoryBudget('seg segment', image.width, image.height, method, maxBytes, UsageError);
  const seeds = readScribbles(scribblesPath, { maxPixels });
  if (seeds.width !== image.width || seeds.height !== image.height) {
    throw new UsageError(
      `seg segment: the scribbles are ${seeds.width}×${seeds.height}, expected the image's size ${image.width}×${image.height}`,
    );
  }
  // read before the run: the score is against the mask as it was, whatever --out overwrites
  const mask = maskPath ? readMask(maskPath, { maxPixels }) : undefined;
  if (mask && (mask.width !== image.width || mask.height !== image.height)) {
    throw new UsageError(
      `seg segment: the mask is ${mask.width}×${mask.height}, expected the image's size ${image.width}×${image.height}`,
    );
  }

  const report = await initBackend({ backend });
  progress.line(
    `backend: ${report.backend} (SIMD ${report.simd ? 'on' : 'off'}, ${report.threads} thread${report.threads === 1 ? '' : 's'})`,
  );
  const t0 = performance.now();
  const result = await segmentImage(image, seeds, {
    method,
    seed,
    ...(lambda !== undefined ? { lambda } : {}),
    maxBytes,
    onProgress: (p) => progress.status(`  ${progressLine(p)}`),
  });
  progress.clear();
  const secs = (performance.now() - t0) / 1000;
  const data = new Uint8Array(image.width * image.height);
  for (let i = 0; i < data.length; i++) data[i] = result.labels.data[i] === 1 ? 255 : 0;
  const saved = saveMask(out, { width: image.width, height: image.height, data });
  console.log(
    `${method}: ${image.width}×${image.height} segmented in ${secs.toFixed(1)} s → ${saved.path ?? '(not saved)'}`,
  );
  if (mask && maskPath) {
    const iou = objectIoU(result.labels, mask);
    console.log(`object IoU against ${maskPath}: ${iou.toFixed(4)}`);
  }
  if (saved.problem) {
    console.error(saved.problem);
    return 1;
  }
  return 0;
}

/** Image files of a folder, by name without extension, sorted. */
function imagesOf(dir: string): { name: string; file: string }[] {
  return readdirSync(dir)
    .filter((f) => IMAGE.test(f) && !statSync(join(dir, f)).isDirectory())
    .map((f) => ({ name: basename(f, extname(f)), file: join(dir, f) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function segmentFolder(args: ParsedArgs, dir: string, progress: Progress): Promise<number> {
  const fn = 'seg segment';
  const scribblesDir = needFolder('segment', stringOption(args, 'scribbles'), '--scribbles');
  const maskOption = stringOption(args, 'mask');
  const maskDir =
    maskOption === undefined ? undefined : needFolder('segment', maskOption, '--mask');
  const { method, backend, lambda, seed, maxPixels, maxBytes } = runOptions(args);
  const shard = shardOption(args, 'segment');
  const all = imagesOf(dir);
  if (all.length === 0) throw new UsageError(`${fn}: ${dir} holds no .png, .jpg or .jpeg image`);
  const names = new Set<string>();
  for (const { name, file } of all) {
    if (names.has(name))
      throw new UsageError(`${fn}: ${dir} has two images named ${name} (${file} and another)`);
    names.add(name);
    if (!existsSync(join(scribblesDir, `${name}.png`)))
      throw new UsageError(
        `${fn}: ${join(scribblesDir, `${name}.png`)} is missing, expected the scribbles of ${file}`,
      );
  }
  const outDir = stringOption(args, 'out') ?? `out/${basename(resolve(dir))}-masks`;
  prepareFolder(
    outDir,
    [
      { what: 'the image folder', path: dir },
      { what: '--scribbles', path: scribblesDir },
      ...(maskDir ? [{ what: '--mask', path: maskDir }] : []),
    ],
    args.options.has('force'),
  );
  const mine = pickShard(all, shard);
  const jobs: ImageJob[] = mine.map(({ name, file }) => {
    const mask = maskDir ? join(maskDir, `${name}.png`) : undefined;
    return {
      name,
      image: file,
      scribbles: join(scribblesDir, `${name}.png`),
      ...(mask && existsSync(mask) ? { mask } : {}),
      out: join(outDir, `${name}.png`),
      method,
      ...(lambda !== undefined ? { lambda } : {}),
      seed,
      backend,
      maxPixels,
      maxBytes,
    };
  });
  const part = stringOption(args, 'part');
  if (part !== undefined) checkPartPath(part, 'segment');
  const workers = workersOption(args, jobs.length);
  // the images of a folder run at once, one a worker: each gets its share of the budget
  for (const job of jobs) {
    job.maxBytes = Math.floor(maxBytes / workers);
    job.workers = workers;
  }
  progress.line(
    `${fn}: ${jobs.length} of ${all.length} images (shard ${shard.index}/${shard.count}), ${method}, ${workers} worker${workers > 1 ? 's' : ''} → ${outDir}`,
  );
  const t0 = performance.now();
  const results = await runJobs(jobs, workers, progress, 'segment');
  const problems = results.flatMap((r) => (r.problem ? [r.problem] : []));
  const result = makePart(
    'segment',
    { method, lambda: lambda ?? null, seed, backend },
    shard,
    all.length,
    results.map((r) => ({ name: r.name, iou: r.iou, mask: r.out })),
  );
  if (part) writePart(part, result, 'segment');
  if (args.options.has('json')) console.log(JSON.stringify(result));
  else {
    for (const r of results)
      console.log(
        `${r.name}\t${r.out ?? '(not saved)'}${r.iou === null ? '' : `\tIoU ${r.iou.toFixed(4)}`}`,
      );
    console.log(
      `${results.length} masks in ${((performance.now() - t0) / 1000).toFixed(1)} s${result.meanIoU === null ? '' : `, mean IoU ${result.meanIoU.toFixed(4)}`}`,
    );
  }
  for (const p of problems) console.error(p);
  return problems.length > 0 ? 1 : 0;
}

export async function evaluate(args: ParsedArgs, progress: Progress): Promise<number> {
  const fn = 'seg eval';
  if (args.positionals.length > 1)
    throw new UsageError(
      `${fn}: takes no positional arguments, got ${args.positionals.slice(1).join(' ')} (the folder goes after --data)`,
    );
  if (args.options.has('json') && args.options.has('csv'))
    throw new UsageError(`${fn}: --json and --csv are exclusive, expected one`);
  const data = needFolder('eval', stringOption(args, 'data'), '--data');
  const set = integerOption(args, 'scribbles', 1, 1, 2);
  const { method, backend, lambda, seed, maxPixels, maxBytes } = runOptions(args);
  const shard = shardOption(args, 'eval');
  for (const sub of ['images', 'masks', `scribbles-${set}`]) {
    if (!existsSync(join(data, sub)))
      throw new UsageError(
        `${fn}: ${join(data, sub)} does not exist, expected a folder laid out as GrabCut (images/, masks/, scribbles-1/, [scribbles-2/])`,
      );
  }
  const all = grabCutNames(data);
  const files = readdirSync(join(data, 'images'));
  for (const name of all) {
    for (const sub of ['masks', `scribbles-${set}`]) {
      if (!existsSync(join(data, sub, `${name}.png`)))
        throw new UsageError(
          `${fn}: ${join(data, sub, `${name}.png`)} is missing, expected one for images/${name}`,
        );
    }
  }
  if (all.length === 0) throw new UsageError(`${fn}: ${join(data, 'images')} holds no image`);
  const jobs: ImageJob[] = pickShard(all, shard).map((name) => ({
    name,
    image: join(data, 'images', files.find((f) => basename(f, extname(f)) === name)!),
    scribbles: join(data, `scribbles-${set}`, `${name}.png`),
    mask: join(data, 'masks', `${name}.png`),
    method,
    ...(lambda !== undefined ? { lambda } : {}),
    seed,
    backend,
    maxPixels,
    maxBytes,
  }));
  const workers = workersOption(args, jobs.length);
  // the images of a folder run at once, one a worker: each gets its share of the budget
  for (const job of jobs) {
    job.maxBytes = Math.floor(maxBytes / workers);
    job.workers = workers;
  }
  const part = stringOption(args, 'part');
  if (part !== undefined) checkPartPath(part, 'eval');
  progress.line(
    `${fn}: ${jobs.length} of ${all.length} images of ${data} (shard ${shard.index}/${shard.count}), scribbles-${set}, ${method}, ${workers} worker${workers > 1 ? 's' : ''}`,
  );
  const t0 = performance.now();
  const results = await runJobs(jobs, workers, progress, 'eval');
  const wall = (performance.now() - t0) / 1000;
  const result = makePart(
    'eval',
    { method, scribbles: set, lambda: lambda ?? null, seed, backend },
    shard,
    all.length,
    results.map((r) => ({ name: r.name, iou: r.iou })),
  );
  if (part) writePart(part, result, 'eval');
  progress.line(`${fn}: ${results.length} images in ${wall.toFixed(1)} s`);
  printResult(result, args);
  return 0;
}

/** The per-image IoU and the mean, as a table, CSV or JSON (last line). */
function printResult(result: Part, args: ParsedArgs): void {
  if (args.options.has('json')) {
    console.log(JSON.stringify(result));
    return;
  }
  const mean = result.meanIoU === null ? 'n/a' : result.meanIoU.toFixed(4);
  if (args.options.has('csv')) {
    console.log('name,iou');
    for (const i of result.images) console.log(`${i.name},${i.iou ?? ''}`);
    console.log(`mean,${result.meanIoU ?? ''}`);
    return;
  }
  const width = Math.max(5, ...result.images.map((i) => i.name.length));
  console.log(`${'image'.padEnd(width)}  IoU`);
  for (const i of result.images)
    console.log(`${i.name.padEnd(width)}  ${i.iou === null ? 'n/a' : i.iou.toFixed(4)}`);
  const shard = result.shard[1] > 1 ? ` (shard ${result.shard.join('/')})` : '';
  console.log(`mean IoU over ${result.images.length} images${shard}: ${mean}`);
}

export async function merge(args: ParsedArgs): Promise<number> {
  if (args.options.has('json') && args.options.has('csv'))
    throw new UsageError('seg merge: --json and --csv are exclusive, expected one');
  const paths = args.positionals.slice(1);
  for (const p of paths) needFile('merge', p, 'the part');
  printResult(mergeParts(paths), args);
  return 0;
}

export async function info(args: ParsedArgs): Promise<number> {
  const extra = [
    ...args.positionals.slice(1),
    ...[...args.options.keys()].filter((k) => k !== 'quiet').map((k) => `--${k}`),
  ];
  if (extra.length > 0) {
    throw new UsageError(`seg info: takes no arguments, got ${extra.join(' ')}`);
  }
  const report = await initBackend();
  console.log(JSON.stringify(report));
  return 0;
}
