import { Rng } from '@seg/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keepSeedConnected } from '../proposals/connectivity.js';

const grid = (rows: string[]) => Int32Array.from(rows.join(''), (c) => (c === '.' ? -1 : +c));

/**
 * Reference: a pixel of a constrained label k is kept iff a seed of k
 * reaches it through label-k pixels, by relaxing "reached" until nothing
 * changes (no flood fill, no stack).
 */
function reachedBySeeds(
  labels: Int32Array,
  w: number,
  h: number,
  seeds: Int32Array,
  k: number,
): boolean[] {
  const r = Array.from(labels, (l, p) => l === k && seeds[p] === k);
  for (let changed = true; changed; ) {
    changed = false;
    for (let p = 0; p < w * h; p++) {
      if (r[p] || labels[p] !== k) continue;
      const x = p % w;
      const y = (p - x) / w;
      for (let dy = -1; dy <= 1 && !r[p]; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          if (r[yy * w + xx]) {
            r[p] = changed = true;
            break;
          }
        }
      }
    }
  }
  return r;
}

describe('keepSeedConnected', () => {
  it('drops the object island with no object seed, keeps the seeded one (diagonal steps connect)', () => {
    const labels = grid(['1100000', '1000011', '0100011', '0000000']);
    const seeds = grid(['1......', '.......', '.......', '......0']);
    const out = keepSeedConnected(labels, 7, 4, seeds, [1]);
    expect(Array.from(out)).toEqual(Array.from(grid(['1100000', '1000000', '0100000', '0000000'])));
  });

  it('gives a dropped region the label it shares the longest border with', () => {
    // the 2-region in the middle has no seed of 2; it borders 1 on 5 sides, 0 on 1
    const labels = grid(['0111', '0221', '0111']);
    const seeds = grid(['0...', '...1', '....']);
    expect(Array.from(keepSeedConnected(labels, 4, 3, seeds, [2]))).toEqual(
      Array.from(grid(['0111', '0111', '0111'])),
    );
  });

  it('matches the reachability reference on random labelings (K = 2 and 3)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 2, max: 3 }),
        fc.integer({ min: 0, max: 1e9 }),
        (w, h, K, seed) => {
          const rng = new Rng(seed);
          const labels = Int32Array.from({ length: w * h }, () => rng.int(K));
          const seeds = Int32Array.from(labels, (l) => (rng.uniform() < 0.1 ? l : -1));
          const constrained = K === 2 ? [1] : [1, 2];
          const out = keepSeedConnected(labels, w, h, seeds, constrained);
          for (const k of constrained) {
            const kept = reachedBySeeds(labels, w, h, seeds, k);
            for (let p = 0; p < w * h; p++) {
              if (labels[p] !== k) continue;
              // kept pixels keep k; dropped ones take another label
              if (kept[p]) expect(out[p]).toBe(k);
              else if (!labels.every((l) => l === k)) expect(out[p]).not.toBe(k);
            }
          }
          // unconstrained labels never change
          for (let p = 0; p < w * h; p++) if (labels[p] === 0) expect(out[p]).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps a region that covers the whole image, and rejects bad arguments', () => {
    const ones = new Int32Array(6).fill(1);
    expect(Array.from(keepSeedConnected(ones, 3, 2, new Int32Array(6).fill(-1), [1]))).toEqual(
      Array.from(ones),
    );
    expect(() => keepSeedConnected(ones, 3, 3, new Int32Array(6), [1])).toThrow(
      'keepSeedConnected: labels has length 6 and seeds 6, expected width*height = 9',
    );
    expect(() => keepSeedConnected(ones, 3, 2, new Int32Array(6), [-1])).toThrow(
      'keepSeedConnected: constrained holds -1, expected labels ≥ 0',
    );
  });
});
