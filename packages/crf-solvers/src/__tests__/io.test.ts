import { SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import { expectThrow } from '@seg/tensor/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  readGridInstance,
  readPottsInstance,
  writeGridInstance,
  writePottsInstance,
} from '../index.js';

const f64 = (n: number) =>
  fc
    .array(fc.double({ noNaN: true }), { minLength: n, maxLength: n })
    .map((a) => Float64Array.from(a));

describe('SEGGRID1 / SEGPOTTS', () => {
  it('round-trips grid instances', () => {
    fc.assert(
      fc.property(
        fc
          .record({
            w: fc.integer({ min: 1, max: 5 }),
            h: fc.integer({ min: 1, max: 5 }),
            c: fc.constantFrom(4 as const, 8 as const),
          })
          .chain(({ w, h, c }) =>
            fc.record({
              width: fc.constant(w),
              height: fc.constant(h),
              connectivity: fc.constant(c),
              source: f64(w * h),
              sink: f64(w * h),
              edges: fc.array(f64(w * h), { minLength: c / 2, maxLength: c / 2 }),
            }),
          ),
        (inst) => {
          const back = readGridInstance(writeGridInstance(inst));
          expect(back).toEqual(inst);
        },
      ),
    );
  });

  it('round-trips Potts instances', () => {
    fc.assert(
      fc.property(
        fc
          .record({
            w: fc.integer({ min: 1, max: 4 }),
            h: fc.integer({ min: 1, max: 4 }),
            k: fc.integer({ min: 2, max: 4 }),
            c: fc.constantFrom(4 as const, 8 as const),
          })
          .chain(({ w, h, k, c }) =>
            fc.record({
              width: fc.constant(w),
              height: fc.constant(h),
              numLabels: fc.constant(k),
              connectivity: fc.constant(c),
              unary: f64(w * h * k),
              weights: fc.array(f64(w * h), { minLength: c / 2, maxLength: c / 2 }),
            }),
          ),
        (inst) => {
          expect(readPottsInstance(writePottsInstance(inst))).toEqual(inst);
        },
      ),
    );
  });

  it('rejects malformed data', () => {
    const ok = writeGridInstance({
      width: 2,
      height: 1,
      connectivity: 4,
      source: new Float64Array(2),
      sink: new Float64Array(2),
      edges: [new Float64Array(2), new Float64Array(2)],
    });
    expectThrow(
      () => readGridInstance(ok.subarray(0, ok.length - 8)),
      SegShapeError,
      'readGridInstance: the data has 76 bytes, expected 20 + 8·W·H·(2 + C/2) = 84',
    );
    expectThrow(
      () => readPottsInstance(ok),
      SegValueError,
      'readPottsInstance: the data starts with "SEGGRID1", expected "SEGPOTTS"',
    );
    const bad = ok.slice();
    bad[16] = 6;
    expectThrow(
      () => readGridInstance(bad),
      SegValueError,
      'readGridInstance: connectivity is 6, expected 4 or 8',
    );
    expectThrow(
      () => readGridInstance(new Uint8Array(4)),
      SegShapeError,
      'readGridInstance: the data has 4 bytes, expected at least 20',
    );
  });

  it('refuses to write malformed instances, and reads no K = 0 instance', () => {
    const n2 = () => new Float64Array(2);
    const grid = { width: 2, height: 1, connectivity: 4 as const, source: n2(), sink: n2() };
    expectThrow(
      () => writeGridInstance({ ...grid, source: new Float64Array(1), edges: [n2(), n2()] }),
      SegShapeError,
      'writeGridInstance: source has length 1, expected width*height = 2',
    );
    expectThrow(
      () => writeGridInstance({ ...grid, edges: [n2()] }),
      SegShapeError,
      'writeGridInstance: edges has 1 arrays, expected 2 (one per forward direction of connectivity 4)',
    );
    expectThrow(
      () => writeGridInstance({ ...grid, width: 1.5, edges: [n2(), n2()] }),
      SegRangeError,
      'writeGridInstance: width is 1.5, expected an integer in [1, 4294967295]',
    );
    const potts = { width: 2, height: 1, connectivity: 4 as const, weights: [n2(), n2()] };
    expectThrow(
      () => writePottsInstance({ ...potts, numLabels: 2, unary: new Float64Array(3) }),
      SegShapeError,
      'writePottsInstance: unary has length 3, expected width*height*numLabels = 4',
    );
    expectThrow(
      () => writePottsInstance({ ...potts, numLabels: 0, unary: new Float64Array(0) }),
      SegRangeError,
      'writePottsInstance: numLabels is 0, expected an integer in [1, 4294967295]',
    );
    const bytes = writePottsInstance({ ...potts, numLabels: 1, unary: n2() });
    new DataView(bytes.buffer).setUint32(16, 0, true); // K = 0; the size then fits W·H·(0 + 2)
    expectThrow(
      () => readPottsInstance(bytes.subarray(0, 24 + 8 * 2 * 2)),
      SegRangeError,
      'readPottsInstance: numLabels is 0, expected an integer ≥ 1',
    );
  });
});
