import { labelMap, rgbImage, SegShapeError } from '@seg/tensor';
import { describe, expect, it } from 'vitest';
import { meanIoU, objectIoU } from '../metrics/iou.js';
import { regularizedLoss } from '../metrics/regularized-loss.js';

const mask = (w: number, h: number, v: number[]) => ({
  width: w,
  height: h,
  data: Uint8Array.from(v),
});
const labels = (w: number, h: number, v: number[]) => labelMap(w, h, Int32Array.from(v));

describe('objectIoU / meanIoU', () => {
  it('match hand-computed values and leave the 128 band out', () => {
    // mask: obj obj band bg | bg obj bg bg ; pred: 1 0 1 1 | 0 1 0 0
    const m = mask(4, 2, [255, 255, 128, 0, 0, 255, 0, 0]);
    const p = labels(4, 2, [1, 0, 1, 1, 0, 1, 0, 0]);
    // object: inter {0,5} = 2, union {0,1,3,5} = 4 (pixel 2 is left out)
    expect(objectIoU(p, m)).toBeCloseTo(2 / 4, 12);
    // background: inter {4,6,7} = 3, union {1,3,4,6,7} = 5
    expect(meanIoU(p, m)).toBeCloseTo((2 / 4 + 3 / 5) / 2, 12);
  });

  it('ignores whatever the prediction says inside the band', () => {
    const m = mask(3, 1, [255, 128, 0]);
    expect(objectIoU(labels(3, 1, [1, 0, 0]), m)).toBe(1);
    expect(objectIoU(labels(3, 1, [1, 1, 0]), m)).toBe(1);
    expect(objectIoU(labels(3, 1, [1, 1, 1]), m)).toBe(0.5);
  });

  it('rejects mismatched sizes with a clear message', () => {
    expect(() => objectIoU(labels(2, 1, [0, 1]), mask(1, 2, [0, 255]))).toThrow(
      new SegShapeError("objectIoU: pred is 2×1, expected the mask's 1×2"),
    );
  });
});

describe('regularizedLoss', () => {
  it('is partial CE plus λ·Potts(argmax)/N, computed by hand on a 2×1 image', () => {
    const image = rgbImage(2, 1, Uint8Array.from([0, 0, 0, 30, 40, 0]));
    // argmax: pixel 0 → 0, pixel 1 → 1: one edge cut (4-neighbourhood: right only)
    const probs = {
      width: 2,
      height: 1,
      numLabels: 2,
      data: Float32Array.from([0.8, 0.2, 0.3, 0.7]),
    };
    const seeds = labels(2, 1, [0, -1]);
    const r = regularizedLoss(probs, seeds, image, { lambda: 3, connectivity: 4 });
    // σ² = mean squared difference over the only pair = 2500 → w = exp(-2500/5000)
    const w = Math.exp(-0.5);
    expect(r.partialCE).toBeCloseTo(-Math.log(0.8), 6);
    expect(r.potts).toBeCloseTo(w, 6);
    expect(r.total).toBeCloseTo(-Math.log(0.8) + (3 * w) / 2, 6);
  });

  it('rejects seeds with a label ≥ K', () => {
    const image = rgbImage(2, 1, new Uint8Array(6));
    const probs = {
      width: 2,
      height: 1,
      numLabels: 2,
      data: Float32Array.from([0.5, 0.5, 0.5, 0.5]),
    };
    expect(() => regularizedLoss(probs, labels(2, 1, [2, -1]), image)).toThrow(
      'regularizedLoss: seeds.data[0] is 2, expected -1 (unlabelled) or a label in [0, 1]',
    );
  });
});
