/**
 * The classic interactive graph cut (Boykov & Jolly, ICCV 2001), built
 * exactly as the anchor instance of `shared/bench/anchors/grid-instance.mjs`:
 * 16³-bin colour histograms of the object and background scribbles with +1
 * smoothing, terminal costs −log P(colour | label), hard seeds, and
 * contrast-sensitive Potts edges `λ·exp(−‖ΔI‖²/2σ²)/dist` with σ² the
 * image's mean squared neighbour difference; one exact min cut.
 */
import { assertInt, assertNumber, type LabelMap, labelMap, type RgbImage } from '@seg/tensor';
import { classicCut } from '../full-size.js';
import { histogramCosts } from '../net/colour-histogram.js';
import { MAX_POTTS_WEIGHT } from '../proposals/potts-problem.js';
import { checkConnectivity, checkImage, checkSeedGrid, checkSeeds } from '../validate.js';

/** Options of {@link interactiveGraphCut}. */
export interface InteractiveGraphCutOptions {
  /** Weight of the contrast-sensitive Potts edges, at most {@link MAX_POTTS_WEIGHT} (seeds hold for every value). @default 50 */
  lambda?: number;
  /** @default 8 */
  connectivity?: 4 | 8;
}

/**
 * Per-pixel colour costs `−log P(color | k)` for K labels (default 2: 0
 * background, 1 object) from a 16³-bin histogram of label k's seed pixels,
 * every bin started at 1 — the terminal costs of the classic interactive
 * graph cut. Returns N·K values, site-major. Seeds outside [0, K) are ignored.
 */
export function colorCosts(image: RgbImage, seeds: LabelMap, K = 2): Float32Array {
  const fn = 'colorCosts';
  checkImage(fn, image);
  assertInt(fn, 'K', K, 1);
  checkSeedGrid(fn, seeds, image.width, image.height);
  return histogramCosts(image, seeds, K);
}

/**
 * @deprecated Renamed {@link colorCosts} (it returns costs, not likelihoods);
 * this alias goes in the next minor release.
 */
export function colourLikelihoods(image: RgbImage, seeds: LabelMap): Float32Array {
  return colorCosts(image, seeds, 2);
}

/** @deprecated Renamed {@link colorCosts} (one spelling in the API); this alias goes in the next minor release. */
export function colourCosts(image: RgbImage, seeds: LabelMap, K: number): Float32Array {
  return colorCosts(image, seeds, K);
}

/**
 * Segments an image from its scribbles by one exact min cut (the classic
 * anchor: 0.699 / 0.905 mean object IoU on GrabCut-50 with scribbles-1 / -2,
 * see the package README).
 *
 * @param seeds 1 object, 0 background, -1 unlabelled (e.g.
 *   `labelMapFromCodes(gray, { 1: 1, 2: 0 })` for GrabCut scribble PNGs).
 * @returns 1 object, 0 background, at every pixel; seeds keep their label.
 *
 * @example
 * const seeds = labelMapFromCodes(await readGray('scribbles-1/banana1.png'), { 1: 1, 2: 0 });
 * const labels = interactiveGraphCut(await readImage('images/banana1.png'), seeds, { lambda: 50 });
 */
export function interactiveGraphCut(
  image: RgbImage,
  seeds: LabelMap,
  options: InteractiveGraphCutOptions = {},
): LabelMap {
  const fn = 'interactiveGraphCut';
  checkImage(fn, image);
  const lambda = options.lambda ?? 50;
  assertNumber(fn, 'options.lambda', lambda, 0, MAX_POTTS_WEIGHT);
  const connectivity = checkConnectivity(fn, options.connectivity ?? 8);
  checkSeeds(fn, seeds, image.width, image.height, 2, true);
  // built and solved with no more alive at once than the solver needs (see full-size.ts)
  return labelMap(image.width, image.height, classicCut(image, seeds, lambda, connectivity));
}
