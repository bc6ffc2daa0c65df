// Issue 17: masks not coded 0/255 scored 1.0 (their object pixels were left out as the
// "unknown band"), and scribble values outside {0, 1, 2} were silently unlabelled.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { labelMap, SegShapeError, SegValueError } from '@seg/tensor';
import { encodePng } from '@seg/tensor/node';
import { expectThrow } from '@seg/tensor/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { meanIoU, objectIoU } from '../metrics/iou.js';
import { readMask, readScribbles } from '../node/files.js';
import { loadGrabCut } from '../node/grabcut.js';
import { seedsFromScribbles } from '../segment.js';

const gray = (w: number, h: number, v: number[]) => ({
  width: w,
  height: h,
  data: Uint8Array.from(v),
});
const labels = (w: number, h: number, v: number[]) => labelMap(w, h, Int32Array.from(v));

describe('objectIoU / meanIoU: mask codings', () => {
  it('scores a 0/1 mask as its 0/255 twin (was 1.0 for an all-background result)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(0, 1), { minLength: 1, maxLength: 30 }),
        fc.array(fc.constantFrom(0, 1), { minLength: 30, maxLength: 30 }),
        (m, p) => {
          const n = m.length;
          const pred = labels(n, 1, p.slice(0, n));
          const m01 = gray(n, 1, m);
          const m255 = gray(
            n,
            1,
            m.map((v) => v * 255),
          );
          expect(objectIoU(pred, m01)).toBe(objectIoU(pred, m255));
          expect(meanIoU(pred, m01)).toBe(meanIoU(pred, m255));
        },
      ),
    );
    expect(objectIoU(labels(3, 1, [0, 0, 0]), gray(3, 1, [1, 1, 0]))).toBe(0);
  });

  it('defines the empty union: no object in the mask nor the prediction scores 1', () => {
    expect(objectIoU(labels(2, 1, [0, 0]), gray(2, 1, [0, 0]))).toBe(1);
    expect(objectIoU(labels(2, 1, [0, 1]), gray(2, 1, [0, 0]))).toBe(0);
    expect(objectIoU(labels(2, 1, [1, 0]), gray(2, 1, [0, 128]))).toBe(0);
  });

  it('refuses other codings and masks with nothing to score, naming the values found', () => {
    expectThrow(
      () => objectIoU(labels(3, 1, [1, 0, 0]), gray(3, 1, [0, 1, 255])),
      SegValueError,
      'objectIoU: mask has the values 0, 1, 255, expected a mask coded 0 background / 255 object (128: unknown band, left out) or 0 background / 1 object',
    );
    expectThrow(
      () => meanIoU(labels(2, 1, [1, 0]), gray(2, 1, [7, 200])),
      SegValueError,
      'meanIoU: mask has the values 7, 200, expected a mask coded 0 background / 255 object (128: unknown band, left out) or 0 background / 1 object',
    );
    const jpegish = gray(
      20,
      1,
      Array.from({ length: 20 }, (_, i) => i * 13),
    );
    expectThrow(
      () => objectIoU(labels(20, 1, new Array(20).fill(0)), jpegish),
      SegValueError,
      'objectIoU: mask has the values 0, 13, 26, 39, 52, 65, 78, 91, 104, 117, 130, 143, … (20 values), expected a mask coded 0 background / 255 object (128: unknown band, left out) or 0 background / 1 object',
    );
    expectThrow(
      () => objectIoU(labels(2, 1, [1, 0]), gray(2, 1, [128, 128])),
      SegValueError,
      'objectIoU: mask has no pixel outside the unknown band (128), expected at least one scored pixel (0 or 255)',
    );
  });
});

/** A palette PNG (colour type 3) of `w`×`h` palette indices, the palette black / red / green. */
function palettePng(w: number, h: number, idx: number[]): Uint8Array {
  const chunk = (type: string, data: Uint8Array) => {
    const b = new Uint8Array(12 + data.length);
    const v = new DataView(b.buffer);
    v.setUint32(0, data.length);
    b.set(Buffer.from(type, 'latin1'), 4);
    b.set(data, 8);
    v.setUint32(8 + data.length, crc32(b.subarray(4, 8 + data.length)) >>> 0);
    return b;
  };
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, w);
  new DataView(ihdr.buffer).setUint32(4, h);
  ihdr.set([8, 3, 0, 0, 0], 8);
  const rows = new Uint8Array(h * (w + 1));
  for (let y = 0; y < h; y++) rows.set(idx.slice(y * w, (y + 1) * w), y * (w + 1) + 1);
  const parts = [
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('PLTE', Uint8Array.from([0, 0, 0, 255, 0, 0, 0, 255, 0])),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', new Uint8Array(0)),
  ];
  return Buffer.concat(parts);
}

describe('scribble maps: values outside {0, 1, 2}', () => {
  it('seedsFromScribbles maps 0 / 1 / 2 to -1 / 1 / 0', () => {
    expect(Array.from(seedsFromScribbles(gray(4, 1, [0, 1, 2, 0])).data)).toEqual([-1, 1, 0, -1]);
  });

  it('refuses 7, 200, a 0/255 map and a palette or colour map read as luma, listing the values', () => {
    const fmt =
      'expected a scribble map coded 0 unlabelled, 1 object, 2 background (an 8-bit gray PNG, as the GrabCut scribble sets)';
    expectThrow(
      () => seedsFromScribbles(gray(3, 1, [0, 1, 7])),
      SegValueError,
      `seedsFromScribbles: scribbles has the values 7 (1 px) outside {0, 1, 2}, ${fmt}`,
    );
    expectThrow(
      () => seedsFromScribbles(gray(3, 1, [0, 255, 255])),
      SegValueError,
      `seedsFromScribbles: scribbles has the values 255 (2 px) outside {0, 1, 2}, ${fmt}`,
    );
    // a palette PNG of red / green strokes reads as their luma (76, 150)
    expectThrow(
      () => seedsFromScribbles(gray(4, 1, [0, 76, 150, 200]), 'strokes.png'),
      SegValueError,
      `seedsFromScribbles: strokes.png has the values 76 (1 px), 150 (1 px), 200 (1 px) outside {0, 1, 2}, ${fmt}`,
    );
    expectThrow(
      () => seedsFromScribbles({ width: 2, height: 2, data: new Uint8Array(3) }),
      SegShapeError,
      'seedsFromScribbles: scribbles has 3 values, expected width*height = 4',
    );
  });

  it('readScribbles / readMask / loadGrabCut name the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seg-codes-'));
    const scr = join(dir, 's.png');
    writeFileSync(scr, encodePng(gray(3, 1, [0, 1, 200])));
    expectThrow(
      () => readScribbles(scr),
      SegValueError,
      `readScribbles: ${scr} has the values 200 (1 px) outside {0, 1, 2}, expected a scribble map coded 0 unlabelled, 1 object, 2 background (an 8-bit gray PNG, as the GrabCut scribble sets)`,
    );
    const mask = join(dir, 'm.png');
    writeFileSync(mask, encodePng(gray(3, 1, [0, 100, 255])));
    expectThrow(
      () => readMask(mask),
      SegValueError,
      `readMask: ${mask} has the values 0, 100, 255, expected a mask coded 0 background / 255 object (128: unknown band, left out) or 0 background / 1 object`,
    );
    // a palette PNG whose indices are 0 / 1 / 2 reads as the luma of its colours
    const pal = join(dir, 'palette.png');
    writeFileSync(pal, palettePng(3, 1, [0, 1, 2]));
    expectThrow(
      () => readScribbles(pal),
      SegValueError,
      `readScribbles: ${pal} has the values 76 (1 px), 150 (1 px) outside {0, 1, 2}, expected a scribble map coded 0 unlabelled, 1 object, 2 background (an 8-bit gray PNG, as the GrabCut scribble sets)`,
    );
    writeFileSync(mask, encodePng(gray(3, 1, [0, 1, 1])));
    expect(Array.from(readMask(mask).data)).toEqual([0, 1, 1]);
    // a GrabCut-like folder whose scribbles are 0/255
    const gc = mkdtempSync(join(tmpdir(), 'seg-gc-'));
    for (const sub of ['images', 'scribbles-1']) mkdirSync(join(gc, sub));
    writeFileSync(
      join(gc, 'images', 'a.png'),
      encodePng({ width: 2, height: 1, data: new Uint8Array(6) }),
    );
    writeFileSync(join(gc, 'scribbles-1', 'a.png'), encodePng(gray(2, 1, [0, 255])));
    expectThrow(
      () => loadGrabCut(gc),
      SegValueError,
      'loadGrabCut: scribbles-1/a.png has the values 255 (1 px) outside {0, 1, 2}, expected a scribble map coded 0 unlabelled, 1 object, 2 background (an 8-bit gray PNG, as the GrabCut scribble sets)',
    );
  });
});
