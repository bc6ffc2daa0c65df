/**
 * Node-only helpers: load a folder laid out like GrabCut-50
 * (`images/NAME.png|jpg`, `masks/NAME.png`, `scribbles-1/NAME.png`, optional
 * `scribbles-2/NAME.png`; scribbles coded 0 none, 1 object, 2 background).
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { assertInt, type LabelMap, type RgbImage, SegValueError } from '@seg/tensor';
import { readGray, readImage } from '@seg/tensor/node';
import type { GrayMask } from '../metrics/iou.js';
import { checkOptions, scribbleSeeds } from '../validate.js';

/** One example of a GrabCut-like folder. */
export interface GrabCutExample {
  name: string;
  image: RgbImage;
  /** 1 object, 0 background, -1 unlabelled. */
  seeds: LabelMap;
  /** 0 background, 255 object, 128 left out; null when the folder has no mask for it. */
  mask: GrayMask | null;
}

/** Options of {@link loadGrabCut}. */
export interface LoadGrabCutOptions {
  /** Which scribble set, `scribbles-<set>/`. @default 1 */
  scribbles?: number;
  /** Keep only these names (without extension), in this order. */
  names?: string[];
  /** Keep the first `limit` names (sorted). */
  limit?: number;
}

/** Names (without extension) of the images of a GrabCut-like folder, sorted. */
export function grabCutNames(dir: string): string[] {
  const imgDir = join(dir, 'images');
  if (!existsSync(imgDir))
    throw new SegValueError(`loadGrabCut: ${imgDir} does not exist, expected a folder of images`);
  return readdirSync(imgDir)
    .filter((f) => /\.(png|jpe?g)$/i.test(f))
    .map((f) => basename(f, extname(f)))
    .sort();
}

/** True when the folder has a `scribbles-<set>/` folder. */
export function hasScribbleSet(dir: string, set: number): boolean {
  return existsSync(join(dir, `scribbles-${set}`));
}

/**
 * Loads the images, scribbles and masks of a GrabCut-like folder.
 *
 * @example
 * const examples = loadGrabCut('/work/shared/data/grabcut', { scribbles: 1 });
 */
export function loadGrabCut(dir: string, options: LoadGrabCutOptions = {}): GrabCutExample[] {
  const fn = 'loadGrabCut';
  options = checkOptions(fn, options);
  const set = options.scribbles ?? 1;
  assertInt(fn, 'options.scribbles', set, 1);
  if (options.limit !== undefined) assertInt(fn, 'options.limit', options.limit, 0);
  if (
    options.names !== undefined &&
    !(Array.isArray(options.names) && options.names.every((n) => typeof n === 'string'))
  ) {
    throw new SegValueError(
      `${fn}: options.names is ${JSON.stringify(options.names)}, expected an array of image names`,
    );
  }
  let names = options.names ?? grabCutNames(dir);
  if (options.limit !== undefined) names = names.slice(0, options.limit);
  const scrDir = join(dir, `scribbles-${set}`);
  if (names.length > 0 && !existsSync(scrDir)) {
    throw new SegValueError(
      `${fn}: ${scrDir} does not exist, expected the scribble set ${set} (options.scribbles)`,
    );
  }
  const files = readdirSync(join(dir, 'images'));
  return names.map((name) => {
    const file = files.find((f) => basename(f, extname(f)) === name);
    if (!file)
      throw new SegValueError(`loadGrabCut: no image named ${name} in ${join(dir, 'images')}`);
    const image = readImage(join(dir, 'images', file));
    const scr = readGray(join(dir, `scribbles-${set}`, `${name}.png`));
    if (scr.width !== image.width || scr.height !== image.height) {
      throw new SegValueError(
        `loadGrabCut: scribbles-${set}/${name}.png is ${scr.width}×${scr.height}, expected the image's ${image.width}×${image.height}`,
      );
    }
    const seeds = scribbleSeeds(fn, scr, `scribbles-${set}/${name}.png`);
    const maskPath = join(dir, 'masks', `${name}.png`);
    const mask = existsSync(maskPath) ? readGray(maskPath) : null;
    return { name, image, seeds, mask };
  });
}
