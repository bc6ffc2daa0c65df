import { initBackend, labelMap, rgbImage } from '@seg/tensor';
import { expectNoLeaks } from '@seg/tensor/testing';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { inputChannels, networkInput } from '../net/network.js';
import { geodesicSeedDistances } from '../net/seed-distance.js';

/** Bellman–Ford relaxation over the 8-connected grid, float64, the same step cost. */
function reference(
  data: Uint8Array,
  w: number,
  h: number,
  seeds: Int32Array,
  K: number,
  gamma: number,
): Float64Array {
  const n = w * h;
  const mean = [0, 0, 0];
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) mean[c]! += data[3 * p + c]! / n;
  let v = 0;
  for (let p = 0; p < n; p++)
    for (let c = 0; c < 3; c++) v += (data[3 * p + c]! - mean[c]!) ** 2 / n;
  const scale = gamma / Math.sqrt(Math.max(v, 1));
  const out = new Float64Array(n * K);
  for (let k = 0; k < K; k++) {
    const d = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
    for (let p = 0; p < n; p++) if (seeds[p] === k) d[p] = 0;
    for (let round = 0; round < n; round++) {
      for (let p = 0; p < n; p++)
        for (let q = 0; q < n; q++) {
          const dx = Math.abs((p % w) - (q % w));
          const dy = Math.abs(Math.floor(p / w) - Math.floor(q / w));
          if (p === q || dx > 1 || dy > 1) continue;
          let colour = 0;
          for (let c = 0; c < 3; c++) colour += (data[3 * p + c]! - data[3 * q + c]!) ** 2;
          const len = dx + dy === 2 ? Math.SQRT2 : 1;
          d[q] = Math.min(d[q]!, d[p]! + len * (1 + scale * Math.sqrt(colour)));
        }
    }
    for (let p = 0; p < n; p++) out[p * K + k] = d[p]!;
  }
  return out;
}

describe('geodesicSeedDistances', () => {
  it('equals shortest paths by Bellman–Ford on small images', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 2, max: 3 }),
        fc.constantFrom(0, 3, 10),
        fc.integer(),
        (w, h, K, gamma, seed) => {
          let s = seed >>> 0;
          const next = () => {
            s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
            return s;
          };
          const data = Uint8Array.from({ length: 3 * w * h }, () => next() & 255);
          const seeds = Int32Array.from({ length: w * h }, () =>
            Math.max(-1, (next() % (K + 2)) - 2),
          ); // unlabelled twice as often as each label
          const got = geodesicSeedDistances(rgbImage(w, h, data), labelMap(w, h, seeds), K, gamma);
          const want = reference(data, w, h, seeds, K, gamma);
          for (let i = 0; i < want.length; i++) {
            if (want[i] === Number.POSITIVE_INFINITY) expect(got[i]).toBe(Number.POSITIVE_INFINITY);
            else expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-4 * (1 + want[i]!));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is shorter within a colour region than across an edge', () => {
    // left half black, right half white, a seed of label 0 at the far left
    const w = 8;
    const h = 3;
    const data = new Uint8Array(3 * w * h);
    for (let y = 0; y < h; y++)
      for (let x = 4; x < w; x++) data.fill(255, 3 * (y * w + x), 3 * (y * w + x) + 3);
    const seeds = new Int32Array(w * h).fill(-1);
    seeds[w] = 0;
    const d = geodesicSeedDistances(rgbImage(w, h, data), labelMap(w, h, seeds), 1, 10);
    expect(d[w + 3]).toBeCloseTo(3, 5); // three steps inside the black region
    expect(d[w + 4]! - d[w + 3]!).toBeGreaterThan(10); // crossing the edge is expensive
  });

  it('rejects bad arguments', () => {
    const img = rgbImage(2, 2, new Uint8Array(12));
    expect(() => geodesicSeedDistances(img, labelMap(3, 2, new Int32Array(6)), 2, 1)).toThrow(
      /geodesicSeedDistances: seeds are 3×2, expected the image's 2×2/,
    );
    expect(() => geodesicSeedDistances(img, labelMap(2, 2, new Int32Array(4)), 2, -1)).toThrow(
      /geodesicSeedDistances: gamma/,
    );
    expect(() => geodesicSeedDistances(img, labelMap(2, 2, new Int32Array(4)), 0, 1)).toThrow(
      /geodesicSeedDistances: numLabels/,
    );
    expect(() =>
      geodesicSeedDistances(img, labelMap(2, 2, Int32Array.from([0, -1, 2, 1])), 2, 1),
    ).toThrow(/geodesicSeedDistances: seeds.data\[2\] is 2, expected an integer in \[-1, 1\]/);
  });
});

describe('networkInput', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('has 5 + 2K channels: colour, x, y, the clipped, scaled seed distances, then the colour model', async () => {
    const w = 6;
    const h = 4;
    const data = Uint8Array.from({ length: 3 * w * h }, (_, i) => (i * 37) % 256);
    const seeds = new Int32Array(w * h).fill(-1);
    seeds[0] = 0;
    seeds[w * h - 1] = 1;
    const image = rgbImage(w, h, data);
    const lm = labelMap(w, h, seeds);
    await expectNoLeaks(() => {
      const x = networkInput(image, { seeds: lm, seedDistance: 2, coordScale: 1, colorModel: 3 });
      expect(x.shape).toEqual([1, h, w, inputChannels(2)]);
      const v = x.dataSync();
      const d = geodesicSeedDistances(image, lm, 2, 10);
      const diag = Math.hypot(w, h);
      for (let p = 0; p < w * h; p++) {
        for (let k = 0; k < 2; k++) {
          expect(v[p * 9 + 5 + k]).toBeCloseTo(2 * Math.min(d[p * 2 + k]! / diag, 4), 5);
        }
      }
      // colour model: each label's histogram holds its one seed's bin (count 2 of 4097), every other bin 1
      const bin = (p: number) =>
        ((data[3 * p]! >> 4) * 16 + (data[3 * p + 1]! >> 4)) * 16 + (data[3 * p + 2]! >> 4);
      for (let p = 0; p < w * h; p++) {
        const logP = [0, w * h - 1].map((s) => Math.log((bin(p) === bin(s) ? 2 : 1) / 4097));
        const m = (logP[0]! + logP[1]!) / 2;
        for (let k = 0; k < 2; k++) {
          const r = Math.max(-5, Math.min(5, logP[k]! - m));
          expect(v[p * 9 + 7 + k]).toBeCloseTo((3 * r) / 5, 5);
        }
      }
      expect(v[7]).toBeCloseTo((3 * Math.log(2) * 0.5) / 5, 5); // pixel 0: the colour of label 0's seed
      expect(v[5]).toBe(0); // pixel 0 is a seed of label 0
      // the deprecated spelling colourModel is read when colorModel is absent
      const old = networkInput(image, {
        seeds: lm,
        seedDistance: 2,
        coordScale: 1,
        colourModel: 3,
      });
      expect(Array.from(old.dataSync())).toEqual(Array.from(v));
      const off = networkInput(image, { seeds: lm });
      expect(
        Array.from(off.dataSync())
          .filter((_, i) => i % 9 >= 5)
          .every((z) => z === 0),
      ).toBe(true);
      return [x, old, off];
    });
    expect(() =>
      networkInput(image, { seeds: labelMap(2, 2, new Int32Array(4)), seedDistance: 1 }),
    ).toThrow(/networkInput: options.seeds is 2×2, expected the image's 6×4/);
    expect(() => networkInput(image, { seedDistance: Number.NaN })).toThrow(
      /networkInput: options.seedDistance/,
    );
    expect(() => networkInput(image, { colorModel: -1 })).toThrow(
      /networkInput: options.colorModel is -1/,
    );
  });
});
