/**
 * Overlap scores of a segmentation against a ground-truth mask with an
 * optional "unknown" band (GrabCut: 0 background, 255 object, 128 left out).
 */
import { type LabelMap, SegShapeError, SegValueError } from '@seg/tensor';

/** A ground-truth mask: 8-bit gray, 0 background, 255 object, 128 (or any other value) left out. */
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

/**
 * Intersection over union of the object: pixels with `pred = 1` against
 * mask pixels of value 255, over the pixels whose mask is 0 or 255 (the
 * 128 band and any other value are left out). Returns 1 when both are empty.
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
  const P = pred.data;
  const M = mask.data;
  let inter = 0;
  let union = 0;
  for (let i = 0; i < P.length; i++) {
    const m = M[i]!;
    if (m !== 0 && m !== 255) continue;
    const a = P[i] === 1;
    const b = m === 255;
    if (a && b) inter++;
    if (a || b) union++;
  }
  return [inter, union];
}

/**
 * Mean over the two classes (background, object) of their IoU, on the
 * pixels whose mask is 0 or 255: `(IoU_bg + IoU_obj) / 2`. A class absent
 * from both counts as IoU 1.
 *
 * @example
 * const miou = meanIoU(labels, mask);
 */
export function meanIoU(pred: LabelMap, mask: GrayMask): number {
  checkPair('meanIoU', pred, mask);
  const P = pred.data;
  const M = mask.data;
  const inter = [0, 0];
  const union = [0, 0];
  for (let i = 0; i < P.length; i++) {
    const m = M[i]!;
    if (m !== 0 && m !== 255) continue;
    const a = P[i] === 1 ? 1 : 0;
    const b = m === 255 ? 1 : 0;
    if (a === b) {
      inter[a]!++;
      union[a]!++;
    } else {
      union[a]!++;
      union[b]!++;
    }
  }
  let s = 0;
  for (let c = 0; c < 2; c++) s += union[c] === 0 ? 1 : inter[c]! / union[c]!;
  return s / 2;
}
