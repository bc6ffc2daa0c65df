/**
 * The memory budget of {@link segmentImage}: a model of its peak memory from
 * the image's size (bytes a pixel at full size, measured, plus a fixed
 * base), checked before any work against `maxBytes`, so a large image is
 * refused with a clear message instead of running the machine out of memory.
 */
import { assertInt, SegRangeError, SegValueError } from '@seg/tensor';

/** How {@link segmentImage} segments (defined here, beside its memory model, so this module imports nothing from segment.ts). */
export type SegmentMethod = 'adm' | 'gd-grid' | 'gd-dense' | 'pce' | 'graphcut';

/**
 * The default memory budget of {@link segmentImage}: 4 GiB (4 294 967 296
 * bytes). `seg` takes min(4 GiB, 75 % of the machine's memory).
 */
export const DEFAULT_SEGMENT_MAX_BYTES = 4 * 2 ** 30;

/**
 * Peak bytes a pixel of {@link segmentImage} at full size, by method, 8-connected:
 * an upper bound (about 5–10 % above) of the growth of the peak RSS measured
 * between 0.1 and 5.5 MP (`seg segment` on teddy upscaled; see the package
 * README, "Large images"). The network methods train on a reduced image;
 * what grows with the image is the full-size min cut (ADM's Y-steps, every
 * network method's clean-up, the graph cut), the contrast weights, the
 * upsampled probabilities and the image, seeds and mask. ADM takes the most:
 * its trainer keeps each Y-step's problem and the contrast weights alive
 * across the cut.
 */
export const SEGMENT_BYTES_PER_PIXEL: { readonly [M in SegmentMethod]: number } = {
  graphcut: 225,
  adm: 270,
  'gd-grid': 225,
  'gd-dense': 225,
  pce: 225,
};

/**
 * Fixed part of the model, in bytes: Node, the decoders and, for the
 * network methods, TensorFlow.js with its wasm heap and the network at its
 * reduced size (upper bounds of the peak RSS at 0.1 MP less its per-pixel
 * part: about 0.17 GB graph cut, 0.2 GB ADM).
 */
export const SEGMENT_BASE_BYTES: { readonly network: number; readonly graphcut: number } = {
  network: 300e6,
  graphcut: 250e6,
};

/**
 * Estimated peak memory, in bytes, of {@link segmentImage} on a
 * `width`×`height` image by `method`: {@link SEGMENT_BASE_BYTES} plus
 * {@link SEGMENT_BYTES_PER_PIXEL} per pixel. An upper bound of the measured
 * peak RSS (tested on a few sizes), for the default options; 4-connected
 * grids take less.
 *
 * @example
 * estimateSegmentBytes(6000, 6000, 'adm'); // 9.72e9 bytes: over the default budget (4 GiB)
 */
export function estimateSegmentBytes(
  width: number,
  height: number,
  method: SegmentMethod = 'adm',
): number {
  const fn = 'estimateSegmentBytes';
  assertInt(fn, 'width', width, 1);
  assertInt(fn, 'height', height, 1);
  if (!Object.hasOwn(SEGMENT_BYTES_PER_PIXEL, method)) {
    throw new SegValueError(
      `${fn}: method is ${JSON.stringify(method)}, expected one of ${Object.keys(SEGMENT_BYTES_PER_PIXEL).join(', ')}`,
    );
  }
  const base = method === 'graphcut' ? SEGMENT_BASE_BYTES.graphcut : SEGMENT_BASE_BYTES.network;
  return base + SEGMENT_BYTES_PER_PIXEL[method] * width * height;
}

/**
 * The estimated peak memory of a segmentation ({@link estimateSegmentBytes})
 * is over its budget (`options.maxBytes` of {@link segmentImage}, `seg
 * --max-memory`): thrown before any work. A {@link SegRangeError}.
 */
export class MemoryBudgetError extends SegRangeError {
  override name = 'MemoryBudgetError';
}

/** Bytes as GB with 3 significant digits (`4.29 GB`). */
export function formatGB(bytes: number): string {
  return `${Number((bytes / 1e9).toPrecision(3))} GB`;
}

/**
 * What a `width`×`height` image by `method` needs and why it is refused,
 * for the messages of `segmentImage` and `seg`: "a 6000×6000 image (36 MP)
 * by adm needs about 9.72 GB (270 bytes a pixel + 0.3 GB), over the memory
 * budget of 4.29 GB".
 */
export function memoryBudgetText(
  width: number,
  height: number,
  method: SegmentMethod,
  maxBytes: number,
): string {
  const need = estimateSegmentBytes(width, height, method);
  const base = need - SEGMENT_BYTES_PER_PIXEL[method] * width * height;
  const mp = Number(((width * height) / 1e6).toPrecision(3));
  return `a ${width}×${height} image (${mp} MP) by ${method} needs about ${formatGB(need)} (${SEGMENT_BYTES_PER_PIXEL[method]} bytes a pixel + ${formatGB(base)}), over the memory budget of ${formatGB(maxBytes)}`;
}

/**
 * Throws a {@link MemoryBudgetError} when a `width`×`height` image by
 * `method` needs more than `maxBytes` ({@link DEFAULT_SEGMENT_MAX_BYTES} when
 * undefined; `Infinity`: no budget), a SegValueError when `maxBytes` is not
 * a number > 0.
 */
export function checkMemory(
  fn: string,
  width: number,
  height: number,
  method: SegmentMethod,
  maxBytes: number | undefined,
): void {
  const budget = maxBytes ?? DEFAULT_SEGMENT_MAX_BYTES;
  if (typeof budget !== 'number' || !(budget > 0)) {
    throw new SegValueError(
      `${fn}: options.maxBytes is ${String(budget)}, expected a number of bytes > 0 (Infinity: no budget)`,
    );
  }
  if (estimateSegmentBytes(width, height, method) > budget) {
    throw new MemoryBudgetError(
      `${fn}: ${memoryBudgetText(width, height, method, budget)} (options.maxBytes = ${budget}); raise options.maxBytes or segment a smaller image`,
    );
  }
}
