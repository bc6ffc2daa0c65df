/** Checks shared by the public functions of @seg/optim-adm. */
import {
  assertInt,
  assertLength,
  assertNonNegative,
  type LabelMap,
  labelMap,
  optionsObject,
  type ProbMap,
  type RgbImage,
  SegRangeError,
  SegShapeError,
  SegValueError,
} from '@seg/tensor';

/** Throws unless `options` is an object (or undefined); returns it, `{}` for undefined. */
export function checkOptions<T extends object>(fn: string, options: T | undefined): T {
  const o = optionsObject(fn, options);
  if (Array.isArray(o))
    throw new SegValueError(`${fn}: options is ${String(o)}, expected an object`);
  return o;
}

/** Throws unless `value` is a function (or undefined). */
export function checkCallback(fn: string, arg: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new SegValueError(`${fn}: ${arg} is ${typeof value}, expected a function`);
  }
}

/**
 * Throws unless `probs` is a ProbMap: integer sizes, at least 2 labels, a
 * Float32Array of width*height*numLabels finite entries ≥ 0. With `W`, `H`,
 * its size must be W×H.
 */
export function checkProbs(fn: string, arg: string, probs: ProbMap, W?: number, H?: number): void {
  if (!probs || typeof probs !== 'object' || !(probs.data instanceof Float32Array)) {
    throw new SegValueError(`${fn}: ${arg} is not a ProbMap (data must be a Float32Array)`);
  }
  const { width: w, height: h, numLabels: K } = probs;
  if (!(Number.isInteger(w) && w >= 1 && Number.isInteger(h) && h >= 1)) {
    throw new SegShapeError(`${fn}: ${arg} is ${w}×${h}, expected positive integer sizes`);
  }
  assertInt(fn, `${arg}.numLabels`, K, 2);
  if (W !== undefined && H !== undefined && (w !== W || h !== H)) {
    throw new SegShapeError(`${fn}: ${arg} is ${w}×${h}, expected the image's ${W}×${H}`);
  }
  assertLength(fn, `${arg}.data`, probs.data, w * h * K, 'width*height*numLabels');
  assertNonNegative(fn, `${arg}.data`, probs.data);
}

/** Throws unless `image` is an RgbImage with a data array of the right length. */
export function checkImage(fn: string, image: RgbImage): void {
  if (!image || !(image.data instanceof Uint8Array)) {
    throw new SegValueError(`${fn}: image is not an RgbImage (data must be a Uint8Array)`);
  }
  const { width: W, height: H } = image;
  if (!(Number.isInteger(W) && W >= 1 && Number.isInteger(H) && H >= 1)) {
    throw new SegShapeError(`${fn}: image is ${W}×${H}, expected positive integer sizes`);
  }
  if (image.data.length !== W * H * 3) {
    throw new SegShapeError(
      `${fn}: image.data has length ${image.data.length}, expected width*height*3 = ${W * H * 3}`,
    );
  }
}

/**
 * Throws unless `seeds` is a W×H LabelMap with labels in `[-1, K-1]` and,
 * when `needBoth`, at least one seed of every label.
 */
export function checkSeeds(
  fn: string,
  seeds: LabelMap,
  W: number,
  H: number,
  K: number,
  needEvery: boolean,
): void {
  checkSeedGrid(fn, seeds, W, H);
  const seen = new Uint8Array(K);
  const d = seeds.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (v === -1) continue;
    if (!(v >= 0 && v < K)) {
      throw new SegRangeError(
        `${fn}: seeds.data[${i}] is ${v}, expected -1 (unlabelled) or a label in [0, ${K - 1}]`,
      );
    }
    seen[v] = 1;
  }
  if (needEvery) {
    const missing: number[] = [];
    for (let k = 0; k < K; k++) if (!seen[k]) missing.push(k);
    if (missing.length === K)
      throw new SegValueError(`${fn}: seeds are empty, expected scribbles of every label`);
    if (missing.length > 0) {
      throw new SegValueError(
        `${fn}: seeds have no pixel of label ${missing.join(', ')}, expected scribbles of every label`,
      );
    }
  }
}

/** Throws unless `seeds` is a W×H LabelMap (an Int32Array of width*height labels). */
export function checkSeedGrid(fn: string, seeds: LabelMap, W: number, H: number): void {
  if (!seeds || !(seeds.data instanceof Int32Array)) {
    throw new SegValueError(`${fn}: seeds is not a LabelMap (data must be an Int32Array)`);
  }
  if (seeds.width !== W || seeds.height !== H) {
    throw new SegShapeError(
      `${fn}: seeds are ${seeds.width}×${seeds.height}, expected the image's ${W}×${H}`,
    );
  }
  if (seeds.data.length !== W * H) {
    throw new SegShapeError(
      `${fn}: seeds.data has length ${seeds.data.length}, expected width*height = ${W * H}`,
    );
  }
}

/** Returns a valid connectivity or throws. */
export function checkConnectivity(fn: string, c: unknown): 4 | 8 {
  if (c !== 4 && c !== 8)
    throw new SegValueError(`${fn}: options.connectivity is ${String(c)}, expected 4 or 8`);
  return c;
}

/** An 8-bit gray scribble map, as read by `readGray` (GrabCut's scribble PNGs). */
export interface ScribbleMap {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** The scribble map format, for messages. */
export const SCRIBBLE_FORMAT =
  'a scribble map coded 0 unlabelled, 1 object, 2 background (an 8-bit gray PNG, as the GrabCut scribble sets)';

/** `seedsFromScribbles` under another function's name, `what` naming the map in messages. */
export function scribbleSeeds(fn: string, scribbles: ScribbleMap, what: string): LabelMap {
  if (!scribbles || typeof scribbles !== 'object' || !(scribbles.data instanceof Uint8Array)) {
    throw new SegValueError(`${fn}: ${what} is not a gray image (data must be a Uint8Array)`);
  }
  const { width: W, height: H, data } = scribbles;
  if (!(Number.isInteger(W) && W >= 1 && Number.isInteger(H) && H >= 1)) {
    throw new SegShapeError(`${fn}: ${what} is ${W}×${H}, expected positive integer sizes`);
  }
  if (data.length !== W * H) {
    throw new SegShapeError(
      `${fn}: ${what} has ${data.length} values, expected width*height = ${W * H}`,
    );
  }
  const out = new Int32Array(W * H);
  const seen = new Uint32Array(256);
  for (let i = 0; i < out.length; i++) {
    const v = data[i]!;
    seen[v]!++;
    out[i] = v === 1 ? 1 : v === 2 ? 0 : -1;
  }
  const bad: string[] = [];
  for (let v = 3; v < 256; v++) if (seen[v]) bad.push(`${v} (${seen[v]} px)`);
  if (bad.length > 0) {
    const shown =
      bad.length > 8 ? `${bad.slice(0, 8).join(', ')}, … (${bad.length} values)` : bad.join(', ');
    throw new SegValueError(
      `${fn}: ${what} has the values ${shown} outside {0, 1, 2}, expected ${SCRIBBLE_FORMAT}`,
    );
  }
  return labelMap(W, H, out);
}
