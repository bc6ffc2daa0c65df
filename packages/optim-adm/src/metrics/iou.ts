/**
 * Overlap scores of a segmentation against a ground-truth mask with an
 * optional "unknown" band (GrabCut: 0 background, 255 object, 128 left out),
 * or a 0/1 mask. Any other coding is refused, naming the values found.
 */
import { type LabelMap, SegShapeError, SegValueError } from '@seg/tensor';

/**
 * A ground-truth mask, 8-bit gray, in one of two codings: 0 background /
 * 255 object / 128 unknown band (left out of the scores), as GrabCut's
 * masks; or 0 background / 1 object. Other values are refused.
 */
export interface GrayMask {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

function checkPair(fn: string, pred: LabelMap, mask: GrayMask): void {
  if (!pred || !(pred.data instanceof Int32Array)) {
    throw new SegValueError(`${fn}: pred is not a LabelMap (data must be an Int32Array)`);
  }
  if (!mask || !(mask.data instanceof Uint8Array)) {
    throw new SegValueError(`${fn}: mask is not a gray image (data must be a Uint8Array)`);
  }
  if (pred.width !== mask.width || pred.height !== mask.height) {
    throw new SegShapeError(
      `${fn}: pred is ${pred.width}×${pred.height}, expected the mask's ${mask.width}×${mask.height}`,
    );
  }
  const n = pred.width * pred.height;
  if (pred.data.length !== n || mask.data.length !== n) {
    throw new SegShapeError(
      `${fn}: pred.data has length ${pred.data.length} and mask.data ${mask.data.length}, expected width*height = ${n}`,
    );
  }
}

/** How a mask codes the object: its object value and whether 128 is the unknown band. */
interface MaskCoding {
  object: number;
}

/**
 * Throws a SegValueError unless `mask` is a {@link GrayMask} coded 0/255
 * (128 the unknown band) or 0/1 that scores at least one pixel; the
 * message names `what` (e.g. its file) and lists the values found.
 */
export function checkMask(fn: string, mask: GrayMask, what = 'mask'): void {
  if (!mask || !(mask.data instanceof Uint8Array)) {
    throw new SegValueError(`${fn}: ${what} is not a gray image (data must be a Uint8Array)`);
  }
  const { object } = maskCoding(fn, mask, what);
  const M = mask.data;
  for (let i = 0; i < M.length; i++) if (M[i] === 0 || M[i] === object) return;
  noScoredPixel(fn, what);
}

/** The coding of a mask: 0/1 or 0/128/255; anything else throws, naming the values found. */
function maskCoding(fn: string, mask: GrayMask, what = 'mask'): MaskCoding {
  const seen = new Uint8Array(256);
  const M = mask.data;
  for (let i = 0; i < M.length; i++) seen[M[i]!] = 1;
  const values: number[] = [];
  for (let v = 0; v < 256; v++) if (seen[v]) values.push(v);
  if (values.every((v) => v === 0 || v === 1)) return { object: 1 };
  if (values.every((v) => v === 0 || v === 128 || v === 255)) return { object: 255 };
  const shown =
    values.length > 12
      ? `${values.slice(0, 12).join(', ')}, … (${values.length} values)`
      : values.join(', ');
  throw new SegValueError(
    `${fn}: ${what} has the values ${shown}, expected a mask coded 0 background / 255 object (128: unknown band, left out) or 0 background / 1 object`,
  );
}

/**
 * Intersection over union of the object: pixels with `pred = 1` against
 * the mask's object pixels (255, or 1 in a 0/1 mask), over the pixels the
 * mask scores (the 128 band of a 0/128/255 mask is left out).
 *
 * Empty union: when neither the prediction nor the mask has an object
 * pixel among the scored pixels, the prediction matches the mask exactly
 * and the IoU is 1. A mask that scores no pixel at all (all 128) throws a
 * SegValueError, as does a mask coded otherwise (the message lists the values found).
 *
 * @example
 * const iou = objectIoU(labels, readGray('masks/banana1.png')); // 0.93
 */
export function objectIoU(pred: LabelMap, mask: GrayMask): number {
  const [inter, union] = objectCounts('objectIoU', pred, mask);
  return union === 0 ? 1 : inter / union;
}

function objectCounts(fn: string, pred: LabelMap, mask: GrayMask): [number, number] {
  checkPair(fn, pred, mask);
  const { object } = maskCoding(fn, mask);
  const P = pred.data;
  const M = mask.data;
  let inter = 0;
  let union = 0;
  let scored = 0;
  for (let i = 0; i < P.length; i++) {
    const m = M[i]!;
    if (m !== 0 && m !== object) continue;
    scored++;
    const a = P[i] === 1;
    const b = m === object;
    if (a && b) inter++;
    if (a || b) union++;
  }
  if (scored === 0) noScoredPixel(fn);
  return [inter, union];
}

function noScoredPixel(fn: string, what = 'mask'): never {
  throw new SegValueError(
    `${fn}: ${what} has no pixel outside the unknown band (128), expected at least one scored pixel (0 or 255)`,
  );
}

/**
 * Mean over the two classes (background, object) of their IoU, on the
 * pixels the mask scores (codings as in {@link objectIoU}):
 * `(IoU_bg + IoU_obj) / 2`. A class absent from both the prediction and
 * the mask counts as IoU 1; a mask with no scored pixel throws.
 *
 * @example
 * const miou = meanIoU(labels, mask);
 */
export function meanIoU(pred: LabelMap, mask: GrayMask): number {
  const fn = 'meanIoU';
  checkPair(fn, pred, mask);
  const { object } = maskCoding(fn, mask);
  const P = pred.data;
  const M = mask.data;
  const inter = [0, 0];
  const union = [0, 0];
  let scored = 0;
  for (let i = 0; i < P.length; i++) {
    const m = M[i]!;
    if (m !== 0 && m !== object) continue;
    scored++;
    const a = P[i] === 1 ? 1 : 0;
    const b = m === object ? 1 : 0;
    if (a === b) {
      inter[a]!++;
      union[a]!++;
    } else {
      union[a]!++;
      union[b]!++;
    }
  }
  if (scored === 0) noScoredPixel(fn);
  let s = 0;
  for (let c = 0; c < 2; c++) s += union[c] === 0 ? 1 : inter[c]! / union[c]!;
  return s / 2;
}
