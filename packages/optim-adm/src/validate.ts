/** Checks shared by the public functions of @seg/optim-adm. */
import {
  type LabelMap,
  type RgbImage,
  SegRangeError,
  SegShapeError,
  SegValueError,
} from '@seg/tensor';

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

/** Returns a valid connectivity or throws. */
export function checkConnectivity(fn: string, c: unknown): 4 | 8 {
  if (c !== 4 && c !== 8)
    throw new SegValueError(`${fn}: options.connectivity is ${String(c)}, expected 4 or 8`);
  return c;
}
