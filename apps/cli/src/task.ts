/**
 * One image of a folder run (`seg segment DIR`, `seg eval`): read, check,
 * segment, score, write the mask. Runs on a worker thread (src/worker.ts),
 * so it takes and returns plain data.
 */
import {
  estimateSegmentBytes,
  memoryBudgetText,
  objectIoU,
  type SegmentMethod,
  segmentImage,
} from '@seg/optim-adm';
import { readMask, readScribbles } from '@seg/optim-adm/node';
import { type BackendName, initBackend } from '@seg/tensor';
import { readImage } from '@seg/tensor/node';
import { saveMask } from './output.js';

/** What to do with one image. */
export interface ImageJob {
  name: string;
  image: string;
  scribbles: string;
  /** Ground truth: the IoU is computed when given. */
  mask?: string;
  /** Where the mask goes (already checked by the caller); not written when absent. */
  out?: string;
  method: SegmentMethod;
  lambda?: number;
  seed: number;
  backend: BackendName;
  maxPixels: number;
  /** Memory budget of this image in bytes (its worker's share of --max-memory). */
  maxBytes: number;
  /** Workers sharing --max-memory. @default 1 */
  workers?: number;
}

/** What came of it. */
export interface ImageResult {
  name: string;
  /** Object IoU against the mask, or null without one. */
  iou: number | null;
  width: number;
  height: number;
  /** Seconds spent segmenting (not reading or writing). */
  seconds: number;
  /** Where the mask was written (null when not written). */
  out: string | null;
  /** Set when the mask could not be written where asked. */
  problem?: string;
}

let backend: Promise<unknown> | null = null;

/** Segments one image as `job` says. Errors name the image. */
export async function runImageJob(job: ImageJob): Promise<ImageResult> {
  backend ??= initBackend({ backend: job.backend });
  await backend;
  const image = readImage(job.image, { maxPixels: job.maxPixels });
  checkMemoryBudget(
    job.name,
    image.width,
    image.height,
    job.method,
    job.maxBytes,
    Error,
    job.workers ?? 1,
  );
  const seeds = readScribbles(job.scribbles, { maxPixels: job.maxPixels });
  if (seeds.width !== image.width || seeds.height !== image.height) {
    throw new Error(
      `${job.name}: the scribbles ${job.scribbles} are ${seeds.width}×${seeds.height}, expected the image's size ${image.width}×${image.height}`,
    );
  }
  const mask = job.mask ? readMask(job.mask, { maxPixels: job.maxPixels }) : undefined;
  if (mask && (mask.width !== image.width || mask.height !== image.height)) {
    throw new Error(
      `${job.name}: the mask ${job.mask} is ${mask.width}×${mask.height}, expected the image's size ${image.width}×${image.height}`,
    );
  }
  const t0 = performance.now();
  const result = await segmentImage(image, seeds, {
    method: job.method,
    seed: job.seed,
    ...(job.lambda !== undefined ? { lambda: job.lambda } : {}),
    maxBytes: job.maxBytes,
  });
  const seconds = (performance.now() - t0) / 1000;
  const iou = mask ? objectIoU(result.labels, mask) : null;
  let out: string | null = null;
  let problem: string | undefined;
  if (job.out) {
    const data = new Uint8Array(image.width * image.height);
    for (let i = 0; i < data.length; i++) data[i] = result.labels.data[i] === 1 ? 255 : 0;
    const saved = saveMask(job.out, { width: image.width, height: image.height, data });
    out = saved.path;
    problem = saved.problem;
  }
  return {
    name: job.name,
    iou,
    width: image.width,
    height: image.height,
    seconds,
    out,
    ...(problem ? { problem } : {}),
  };
}

/**
 * Throws `cls` (a UsageError for one image: exit status 2) when segmenting a
 * `width`×`height` image by `method` is estimated to need more than
 * `maxBytes` (segmentImage's model, `estimateSegmentBytes`); the message
 * says how to raise the budget. `workers`: how many images share it at once.
 */
export function checkMemoryBudget(
  who: string,
  width: number,
  height: number,
  method: SegmentMethod,
  maxBytes: number,
  cls: new (message: string) => Error,
  workers = 1,
): void {
  if (estimateSegmentBytes(width, height, method) <= maxBytes) return;
  const budget =
    workers > 1 ? `1/${workers} of --max-memory, one share a worker` : `--max-memory ${maxBytes}`;
  throw new cls(
    `${who}: ${memoryBudgetText(width, height, method, maxBytes)} (${budget}); raise --max-memory (e.g. --max-memory ${Math.ceil(estimateSegmentBytes(width, height, method) / 1e9)}GB) if the machine has the memory, or segment a smaller image`,
  );
}
