/**
 * Node-only readers of the files `seg segment` takes: scribble maps and
 * ground-truth masks, checked for their coding when read (not left to
 * surface later as "seeds are empty" or an IoU of 1 on a misread mask).
 */
import type { LabelMap } from '@seg/tensor';
import { type ReadImageOptions, readGray } from '@seg/tensor/node';
import { checkMask, type GrayMask } from '../metrics/iou.js';
import { scribbleSeeds } from '../validate.js';

/**
 * Reads a scribble map (PNG or JPEG, read as 8-bit gray) coded 0
 * unlabelled, 1 object, 2 background, as the seeds `segmentImage` takes
 * (1 object, 0 background, -1 unlabelled). Any other value throws a
 * SegValueError naming the file and the values found (see
 * `seedsFromScribbles`); sizes past `options.maxPixels` (default 25 MP)
 * throw `ImageTooLargeError` before decoding.
 *
 * @example
 * const seeds = readScribbles('samples/grabcut/scribbles-1/teddy.png');
 */
export function readScribbles(path: string, options?: ReadImageOptions): LabelMap {
  return scribbleSeeds('readScribbles', readGray(path, options), path);
}

/**
 * Reads a ground-truth mask coded 0 background / 255 object (128: unknown
 * band) or 0 / 1, for `objectIoU` / `meanIoU`. Any other coding, or a mask
 * with no scored pixel, throws a SegValueError naming the file and the
 * values found.
 *
 * @example
 * const mask = readMask('samples/grabcut/masks/teddy.png');
 */
export function readMask(path: string, options?: ReadImageOptions): GrayMask {
  const mask = readGray(path, options);
  checkMask('readMask', mask, path);
  return mask;
}
