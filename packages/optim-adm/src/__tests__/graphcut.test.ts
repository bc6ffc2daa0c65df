import { gridWeights } from '@seg/losses';
import { labelMap, rgbImage } from '@seg/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { colorCosts, interactiveGraphCut } from '../graphcut/interactive.js';
import { pottsProblemEnergy } from '../proposals/potts-problem.js';

/** Brute-force minimum of the classic energy over labelings that keep the seeds. */
function bruteForce(
  image: ReturnType<typeof rgbImage>,
  seeds: Int32Array,
  lambda: number,
  conn: 4 | 8,
) {
  const unary = colorCosts(image, labelMap(image.width, image.height, seeds));
  const potts = gridWeights(image, { connectivity: conn }).edges.map((e) =>
    e.map((v) => v * lambda),
  );
  const problem = { width: image.width, height: image.height, numLabels: 2, unary, potts };
  const n = image.width * image.height;
  let best = Number.POSITIVE_INFINITY;
  const L = new Int32Array(n);
  for (let m = 0; m < 1 << n; m++) {
    let ok = true;
    for (let p = 0; p < n; p++) {
      L[p] = (m >> p) & 1;
      if (seeds[p]! >= 0 && seeds[p] !== L[p]) ok = false;
    }
    if (ok) best = Math.min(best, pottsProblemEnergy(problem, L));
  }
  return { best, energy: (l: Int32Array) => pottsProblemEnergy(problem, l) };
}

describe('interactiveGraphCut', () => {
  it('finds the minimum energy labeling on tiny images (brute force)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 2, max: 3 }),
        fc.constantFrom(4 as const, 8 as const),
        fc.double({ min: 0, max: 20, noNaN: true }),
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 36, maxLength: 36 }),
        fc.array(fc.integer({ min: -1, max: 1 }), { minLength: 12, maxLength: 12 }),
        (w, h, conn, lambda, pix, sd) => {
          const n = w * h;
          const image = rgbImage(w, h, Uint8Array.from(pix.slice(0, 3 * n)));
          const seeds = Int32Array.from(sd.slice(0, n));
          seeds[0] = 1;
          seeds[n - 1] = 0;
          const out = interactiveGraphCut(image, labelMap(w, h, seeds), {
            lambda,
            connectivity: conn,
          });
          for (let p = 0; p < n; p++) if (seeds[p]! >= 0) expect(out.data[p]).toBe(seeds[p]);
          const { best, energy } = bruteForce(image, seeds, lambda, conn);
          expect(energy(out.data)).toBeLessThanOrEqual(best + 1e-4 * (1 + Math.abs(best)));
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });

  it('rejects empty scribbles and scribbles of one label only', () => {
    const image = rgbImage(2, 2, new Uint8Array(12));
    expect(() =>
      interactiveGraphCut(image, labelMap(2, 2, Int32Array.from([-1, -1, -1, -1]))),
    ).toThrow('interactiveGraphCut: seeds are empty, expected scribbles of every label');
    expect(() =>
      interactiveGraphCut(image, labelMap(2, 2, Int32Array.from([1, -1, -1, 1]))),
    ).toThrow(
      'interactiveGraphCut: seeds have no pixel of label 0, expected scribbles of every label',
    );
  });

  it('rejects seeds of another size', () => {
    const image = rgbImage(2, 2, new Uint8Array(12));
    expect(() =>
      interactiveGraphCut(image, labelMap(4, 1, Int32Array.from([1, 0, -1, -1]))),
    ).toThrow("interactiveGraphCut: seeds are 4×1, expected the image's 2×2");
  });
});
