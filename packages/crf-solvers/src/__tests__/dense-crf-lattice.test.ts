import { join } from 'node:path';
import { Rng, SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import { readImage } from '@seg/tensor/node';
import { expectThrow, sharedDir } from '@seg/tensor/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bilateralFeatures, spatialFeatures } from '../dense-crf/features.js';
import { bilateralFilter, exactGaussianFilter } from '../dense-crf/filter.js';
import { checkFinite } from '../dense-crf/finite.js';
import { LATTICE_MAX_BYTES, LatticeForms, PermutohedralLattice } from '../dense-crf/lattice.js';
import { latticeBytes } from '../dense-crf/lattice-build.js';
import { WasmWorkspace } from '../dense-crf/wasm/kernels.js';

/** Relative errors of `lat` against `ex`, per entry, each relative to the exact value. */
function relErrors(
  lat: ArrayLike<number>,
  ex: ArrayLike<number>,
): { mean: number; p99: number; max: number } {
  const e = Array.from(ex, (x, i) => Math.abs(lat[i]! - x) / Math.abs(x)).sort((a, b) => a - b);
  const mean = e.reduce((a, b) => a + b, 0) / e.length;
  return { mean, p99: e[Math.floor(e.length * 0.99)]!, max: e[e.length - 1]! };
}

function randomCloud(rng: Rng, n: number, d: number, spread: number): Float32Array {
  return rng.uniformArray(n * d, 0, spread);
}

/** A w×h image downscaled from `img` by box averaging over f×f blocks. */
function downscale(img: { width: number; height: number; data: Uint8Array }, f: number) {
  const w = Math.floor(img.width / f);
  const h = Math.floor(img.height / f);
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < 3; ch++) {
        let s = 0;
        for (let dy = 0; dy < f; dy++) {
          for (let dx = 0; dx < f; dx++)
            s += img.data[((y * f + dy) * img.width + x * f + dx) * 3 + ch]!;
        }
        data[(y * w + x) * 3 + ch] = Math.round(s / (f * f));
      }
    }
  }
  return { width: w, height: h, data };
}

describe('PermutohedralLattice vs the exact Gaussian sum', () => {
  it('matches on random clouds (d = 1, 2, 3, 5) within the documented tolerance', () => {
    // Clouds of 20–80 points, dense enough that each point has neighbours
    // (≈ 4 points per unit cube of feature space, spread ≥ 1.5σ).
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.constantFrom(1, 2, 3, 5),
        fc.integer({ min: 20, max: 80 }),
        fc.integer({ min: 1, max: 3 }),
        (seed, d, n, c) => {
          const rng = new Rng(seed);
          const spread = Math.max(1.5, (n / 4) ** (1 / d));
          const f = randomCloud(rng, n, d, spread);
          const v = rng.uniformArray(n * c, 0.1, 1);
          const lat = new PermutohedralLattice(f, d).filter(v, c);
          const ex = exactGaussianFilter(f, d, v, c);
          const err = relErrors(lat, ex);
          // Values ≥ 0.1 and every exact sum ≥ its self term: relative errors are well defined.
          expect(err.mean).toBeLessThan(d <= 2 ? 0.08 : 0.15);
          expect(err.max).toBeLessThan(0.6);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('matches on an xy grid at σ = 3 px (d = 2): mean relative error < 2%, max < 20%', () => {
    const f = spatialFeatures(48, 40, 3);
    const rng = new Rng(5);
    const v = rng.uniformArray(48 * 40 * 2, 0, 1);
    const err = relErrors(
      new PermutohedralLattice(f, 2).filter(v, 2),
      exactGaussianFilter(f, 2, v, 2),
    );
    // Measured: mean 1.0%, max 14% (at the corners; 0.3% / 4% on 500×375).
    expect(err.mean).toBeLessThan(0.02);
    expect(err.max).toBeLessThan(0.2);
  });

  const shared = sharedDir();
  it.skipIf(shared === null)(
    'matches on a GrabCut image at σ_xy 80 / σ_rgb 13 (d = 5): mean relative error < 12%, p99 < 50%',
    async () => {
      // tennis.png downscaled 8× (62×59), positions in full-size pixels (scale 8).
      const full = await readImage(join(shared!, 'data/grabcut/images/tennis.png'));
      const img = downscale(full, 8);
      const n = img.width * img.height;
      const f = bilateralFeatures(img, { sigmaXy: 80, sigmaRgb: 13, scale: 8 });
      const v = new Rng(9).uniformArray(n, 0, 1);
      const err = relErrors(
        new PermutohedralLattice(f, 5).filter(v, 1),
        exactGaussianFilter(f, 5, v, 1),
      );
      // Measured: mean 9.3%, median 7%, p99 45%, max 66% (README, "Accuracy").
      expect(err.mean).toBeLessThan(0.12);
      expect(err.p99).toBeLessThan(0.5);
      expect(err.max).toBeLessThan(1);
    },
  );

  it('gives a nearly constant output for a constant input away from the borders', () => {
    const w = 40;
    const h = 40;
    const f = spatialFeatures(w, h, 2);
    const out = new PermutohedralLattice(f, 2).filter(new Float32Array(w * h).fill(2), 1);
    // Interior (≥ 4σ from every border): exact value 2·Σ_{grid} exp(−r²/8) ≈ 2·2π·4.
    let lo = Infinity;
    let hi = -Infinity;
    for (let y = 8; y < h - 8; y++) {
      for (let x = 8; x < w - 8; x++) {
        lo = Math.min(lo, out[y * w + x]!);
        hi = Math.max(hi, out[y * w + x]!);
      }
    }
    let exact = 0;
    for (let dy = -12; dy <= 12; dy++)
      for (let dx = -12; dx <= 12; dx++) exact += Math.exp(-(dx * dx + dy * dy) / 8);
    expect((hi - lo) / exact / 2).toBeLessThan(0.03);
    expect(Math.abs((lo + hi) / 2 - 2 * exact) / (2 * exact)).toBeLessThan(0.02);
  });

  it('reverse is the adjoint, excludeSelf drops exactly v, and the wasm and js kernels agree', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.constantFrom(1, 2, 3, 5, 7),
        fc.integer({ min: 2, max: 120 }),
        fc.integer({ min: 1, max: 9 }),
        (seed, d, n, c) => {
          const rng = new Rng(seed);
          const f = randomCloud(rng, n, d, 3);
          const u = rng.uniformArray(n * c, -1, 1);
          const v = rng.uniformArray(n * c, -1, 1);
          const lat = new PermutohedralLattice(f, d);
          const lu = lat.filter(u, c);
          const ltv = lat.filter(v, c, undefined, { reverse: true });
          let a = 0;
          let b = 0;
          let scale = 0;
          for (let i = 0; i < n * c; i++) {
            a += lu[i]! * v[i]!;
            b += u[i]! * ltv[i]!;
            scale += Math.abs(lu[i]! * v[i]!);
          }
          expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-5 * (scale + 1));
          const others = lat.filter(u, c, undefined, { excludeSelf: true });
          for (let i = 0; i < n * c; i++) expect(others[i]!).toBeCloseTo(lu[i]! - u[i]!, 4);
          const jsLattice = new PermutohedralLattice(f, d, { kernels: 'js' });
          expect(jsLattice.numVertices).toBe(lat.numVertices);
          // float32 sums in another order; with 2–3 points the fit divides small
          // differences (measured up to 6e-6 relative), so compare relatively
          expect(Math.abs(jsLattice.scale - lat.scale)).toBeLessThan(1e-4 * lat.scale);
          const js = jsLattice.filter(u, c);
          for (let i = 0; i < n * c; i++) expect(js[i]!).toBeCloseTo(lu[i]!, 4);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('bilateralFilter equals building a lattice and filtering once', () => {
    const rng = new Rng(2);
    const f = randomCloud(rng, 50, 5, 2);
    const v = rng.uniformArray(100, 0, 1);
    expect(Array.from(bilateralFilter(f, 5, v, 2))).toEqual(
      Array.from(new PermutohedralLattice(f, 5).filter(v, 2)),
    );
  });

  it('builds features as documented', () => {
    const img = {
      width: 2,
      height: 2,
      data: Uint8Array.from([0, 13, 26, 39, 52, 65, 78, 91, 104, 117, 130, 143]),
    };
    const f = bilateralFeatures(img, { sigmaXy: 2, sigmaRgb: 13, scale: 4 });
    // pixel 3 = (x 1, y 1): positions 1·4/2, colour /13
    expect(Array.from(f.subarray(15, 20))).toEqual([2, 2, 9, 10, 11]);
    expect(Array.from(spatialFeatures(3, 2, 0.5))).toEqual([0, 0, 2, 0, 4, 0, 0, 2, 2, 2, 4, 2]);
  });

  it('rejects bad input with clear errors', () => {
    const f = new Float32Array([0, 0, 1, 1]);
    expectThrow(
      () => new PermutohedralLattice(f, 0),
      SegRangeError,
      'PermutohedralLattice: dim is 0, expected an integer ≥ 1',
    );
    expectThrow(
      () => new PermutohedralLattice(new Float32Array([0, 1, 2]), 2),
      SegShapeError,
      'PermutohedralLattice: features has length 3, expected a positive multiple of dim = 2',
    );
    expectThrow(
      () => new PermutohedralLattice(new Float32Array(0), 2),
      SegShapeError,
      'PermutohedralLattice: features has length 0, expected a positive multiple of dim = 2',
    );
    expectThrow(
      () => new PermutohedralLattice(new Float32Array([0, Number.NaN]), 2),
      SegValueError,
      'PermutohedralLattice: features[1] is NaN, expected a finite number',
    );
    const lat = new PermutohedralLattice(f, 2);
    expectThrow(
      () => lat.filter(new Float32Array(3), 2),
      SegShapeError,
      'PermutohedralLattice.filter: values has length 3, expected numPoints*c = 4',
    );
    const v = new Float32Array(4);
    const disposed = new PermutohedralLattice(f, 2);
    disposed.dispose();
    expectThrow(
      () => disposed.filter(v, 2),
      SegValueError,
      'PermutohedralLattice.filter: the lattice was disposed',
    );
    expectThrow(
      () => lat.filter(v, 2, v),
      SegShapeError,
      'PermutohedralLattice.filter: out must not alias values',
    );
    expectThrow(
      () => bilateralFilter(f, 2, new Float32Array([1, Number.POSITIVE_INFINITY]), 1),
      SegValueError,
      'bilateralFilter: values[1] is Infinity, expected a finite number',
    );
    expectThrow(
      () => exactGaussianFilter(f, 2, new Float32Array(3), 1),
      SegShapeError,
      'exactGaussianFilter: values has length 3, expected N*c = 2',
    );
    expectThrow(
      () => spatialFeatures(0, 3, 1),
      SegRangeError,
      'spatialFeatures: width is 0, expected an integer ≥ 1',
    );
    expectThrow(
      () =>
        bilateralFeatures(
          { width: 2, height: 1, data: new Uint8Array(5) },
          { sigmaXy: 1, sigmaRgb: 1 },
        ),
      SegShapeError,
      'bilateralFeatures: image.data has length 5, expected width*height*3 = 6',
    );
    expectThrow(
      () =>
        bilateralFeatures(
          { width: 1, height: 1, data: new Uint8Array(3) },
          { sigmaXy: 0, sigmaRgb: 1 },
        ),
      SegValueError,
      'bilateralFeatures: sigmaXy is 0, expected a finite number ≥ 5e-324',
    );
  });
});

describe('PermutohedralLattice quadratic forms and their gradient', () => {
  /** v_kᵀ (W v)_k and (W·1)ᵀ v_k from the filter, in float64. */
  function reference(lat: PermutohedralLattice, v: Float32Array, c: number) {
    const n = lat.numPoints;
    const wv = lat.filter(v, c);
    const wtv = lat.filter(v, c, undefined, { reverse: true });
    const deg = lat.filter(new Float32Array(n).fill(1), 1);
    const quadratic = new Float64Array(c);
    const degree = new Float64Array(c);
    // Σ of the terms' magnitudes: the scale of the float32 error (the filter
    // leaves out each point's own weight, so its outputs, and the sums, can
    // be negative or cancel)
    const quadraticScale = new Float64Array(c);
    const degreeScale = new Float64Array(c);
    for (let p = 0; p < n; p++) {
      for (let k = 0; k < c; k++) {
        quadratic[k]! += v[p * c + k]! * wv[p * c + k]!;
        degree[k]! += deg[p]! * v[p * c + k]!;
        quadraticScale[k]! += Math.abs(v[p * c + k]! * wv[p * c + k]!);
        degreeScale[k]! += Math.abs(deg[p]! * v[p * c + k]!);
      }
    }
    return { wv, wtv, deg, quadratic, degree, quadraticScale, degreeScale };
  }

  it('equal the sums over the filter (wasm and js kernels), and the gradient b·(W + Wᵀ)v + a·W·1', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.constantFrom(1, 2, 3, 5),
        fc.integer({ min: 2, max: 150 }),
        fc.integer({ min: 1, max: 23 }),
        fc.constantFrom<'wasm' | 'js'>('wasm', 'js'),
        (seed, d, n, c, kernels) => {
          const rng = new Rng(seed);
          const f = randomCloud(rng, n, d, 3);
          const v = rng.uniformArray(n * c, 0, 1);
          const lat = new PermutohedralLattice(f, d, { kernels });
          const forms = lat.quadraticForms(v, c);
          const ref = reference(lat, v, c); // filters in between: the gradient copies back in
          for (let k = 0; k < c; k++) {
            // float32 outputs of the filter in the reference: relative 1e-5
            expect(Math.abs(forms.quadratic[k]! - ref.quadratic[k]!)).toBeLessThan(
              1e-5 * ref.quadraticScale[k]!,
            );
            expect(Math.abs(forms.degree[k]! - ref.degree[k]!)).toBeLessThan(
              1e-5 * ref.degreeScale[k]!,
            );
          }
          let min = Infinity;
          for (let p = 0; p < n; p++) {
            let sum = 0;
            for (let k = 0; k < c; k++) {
              sum += v[p * c + k]!;
              min = Math.min(min, v[p * c + k]!);
            }
            expect(forms.rowSums[p]!).toBeCloseTo(sum, 5);
          }
          expect(forms.min).toBe(min);
          const b = rng.uniformArray(c, -2, 2);
          const a = rng.uniformArray(c, -2, 2);
          for (const symmetric of [false, true]) {
            // the forms of other values in between: the workspace no longer holds v
            if (symmetric) lat.quadraticForms(rng.uniformArray(n * c, 0, 1), c);
            const g = lat.quadraticGradient(forms, { scale: b, degreeScale: a, symmetric });
            const wtv = symmetric ? ref.wv : ref.wtv;
            let err = 0;
            let size = 0;
            for (let p = 0; p < n; p++) {
              for (let k = 0; k < c; k++) {
                const i = p * c + k;
                const want = b[k]! * (ref.wv[i]! + wtv[i]!) + a[k]! * ref.deg[p]!;
                err = Math.max(err, Math.abs(g[i]! - want));
                size = Math.max(size, Math.abs(want));
              }
            }
            expect(err).toBeLessThanOrEqual(1e-5 * size);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the wasm and js kernels agree; defaults b = 1, a = 0; NaN shows in min and in its row sum', () => {
    const rng = new Rng(11);
    const n = 90;
    const c = 21;
    const f = randomCloud(rng, n, 5, 3);
    const v = rng.uniformArray(n * c, 0, 1);
    const w = new PermutohedralLattice(f, 5).quadraticForms(v, c);
    const jsLattice = new PermutohedralLattice(f, 5, { kernels: 'js' });
    const j = jsLattice.quadraticForms(v, c);
    for (let k = 0; k < c; k++) {
      expect(w.quadratic[k]!).toBeCloseTo(j.quadratic[k]!, 3);
      expect(w.degree[k]!).toBeCloseTo(j.degree[k]!, 3);
    }
    const gw = w.lattice.quadraticGradient(w);
    const gj = jsLattice.quadraticGradient(j, {}, new Float32Array(n * c));
    const ref = reference(jsLattice, v, c);
    for (let i = 0; i < n * c; i++) {
      expect(gw[i]!).toBeCloseTo(gj[i]!, 4);
      expect(gj[i]!).toBeCloseTo(ref.wv[i]! + ref.wtv[i]!, 4);
    }
    for (const kernels of ['wasm', 'js'] as const) {
      const bad = v.slice();
      bad[5 * c + 20] = Number.NaN;
      const forms = new PermutohedralLattice(f, 5, { kernels }).quadraticForms(bad, c);
      expect(forms.min).toBeNaN();
      expect(forms.rowSums[5]).toBeNaN();
      expect(forms.rowSums[4]).not.toBeNaN();
    }
  });

  it('alternating channel counts reuse the wasm workspace (its memory stops growing)', () => {
    const rng = new Rng(17);
    const n = 400;
    const lat = new PermutohedralLattice(randomCloud(rng, n, 5, 4), 5);
    // the lattice's wasm memory (internal): the bump allocator must not take more per call
    const bytes = () =>
      (lat as unknown as { kernels: { workspace: { ex: { memory: WebAssembly.Memory } } } }).kernels
        .workspace.ex.memory.buffer.byteLength;
    const step = (c: number) =>
      lat.quadraticGradient(lat.quadraticForms(rng.uniformArray(n * c, 0, 1), c));
    step(21);
    step(3);
    const settled = bytes();
    for (let i = 0; i < 50; i++) step(i % 2 === 0 ? 21 : 3);
    expect(bytes()).toBe(settled);
  });

  it('rejects bad input with clear errors', () => {
    const f = new Float32Array([0, 0, 1, 1]);
    const lat = new PermutohedralLattice(f, 2);
    const other = new PermutohedralLattice(f, 2);
    const v = new Float32Array([0.5, 0.5, 0.2, 0.8]);
    expectThrow(
      () => lat.quadraticForms(new Float32Array(3), 2),
      SegShapeError,
      'PermutohedralLattice.quadraticForms: values has length 3, expected numPoints*c = 4',
    );
    const forms = lat.quadraticForms(v, 2);
    expect(forms).toBeInstanceOf(LatticeForms);
    expectThrow(
      () => other.quadraticGradient(forms),
      SegValueError,
      "PermutohedralLattice.quadraticGradient: forms did not come from this lattice's quadraticForms",
    );
    expectThrow(
      () => lat.quadraticGradient(forms, { scale: [1] }),
      SegShapeError,
      'PermutohedralLattice.quadraticGradient: scale has length 1, expected c = 2',
    );
    expectThrow(
      () => lat.quadraticGradient(forms, { degreeScale: [1, Number.NaN] }),
      SegValueError,
      'PermutohedralLattice.quadraticGradient: degreeScale[1] is NaN, expected a finite number',
    );
    expectThrow(
      () => lat.quadraticGradient(forms, {}, new Float32Array(3)),
      SegShapeError,
      'PermutohedralLattice.quadraticGradient: out has length 3, expected numPoints*c = 4',
    );
    lat.dispose();
    expectThrow(
      () => lat.quadraticForms(v, 2),
      SegValueError,
      'PermutohedralLattice.quadraticForms: the lattice was disposed',
    );
    expectThrow(
      () => lat.quadraticGradient(forms),
      SegValueError,
      'PermutohedralLattice.quadraticGradient: the lattice was disposed',
    );
  });
});

describe('PermutohedralLattice specialised wasm kernels', () => {
  it.each([2, 5])(
    'splat3 / splat6 and slice3 / slice6 give the generic splat and slice bit for bit (d = %i, 1–22 channels, with and without excludeSelf)',
    (d) => {
      const rng = new Rng(41);
      const lat = new PermutohedralLattice(randomCloud(rng, 300, d, 3), d);
      // the lattice's wasm kernels (internal): `specialized` switches the specialised kernels off
      const kernels = (lat as unknown as { kernels: { specialized: boolean } }).kernels;
      for (const c of [1, 3, 4, 5, 21, 22]) {
        const v = rng.uniformArray(300 * c, -1, 1);
        for (const excludeSelf of [false, true]) {
          kernels.specialized = true;
          const a = lat.filter(v, c, undefined, { excludeSelf });
          kernels.specialized = false;
          const b = lat.filter(v, c, undefined, { excludeSelf });
          expect(Array.from(a)).toEqual(Array.from(b));
        }
      }
    },
  );
});

describe('PermutohedralLattice.dispose', () => {
  it('gives its wasm memory to the next lattice: the same results over the old contents', () => {
    const rng = new Rng(43);
    const f = randomCloud(rng, 200, 5, 3);
    const v = rng.uniformArray(200 * 4, 0, 1);
    const first = new PermutohedralLattice(f, 5);
    const a = first.filter(v, 4);
    const formsA = first.quadraticForms(v, 4);
    const gradA = first.quadraticGradient(formsA);
    first.dispose();
    first.dispose(); // twice is fine
    const second = new PermutohedralLattice(f, 5); // in the memory the first gave back
    expect(Array.from(second.filter(v, 4))).toEqual(Array.from(a));
    const formsB = second.quadraticForms(v, 4);
    expect(Array.from(formsB.quadratic)).toEqual(Array.from(formsA.quadratic));
    expect(Array.from(second.quadraticGradient(formsB))).toEqual(Array.from(gradA));
    expectThrow(
      () => first.filter(v, 4),
      SegValueError,
      'PermutohedralLattice.filter: the lattice was disposed',
    );
  });
});

describe('checkFinite', () => {
  it('finds a NaN or ±Infinity at any place (the four-way unrolled part and the tail)', () => {
    for (let n = 1; n <= 9; n++) {
      checkFinite('f', 'a', new Float32Array(n).fill(1.5));
      for (let i = 0; i < n; i++) {
        for (const bad of [Number.NaN, Infinity, -Infinity]) {
          const a = new Float32Array(n).fill(-2);
          a[i] = bad;
          expectThrow(
            () => checkFinite('f', 'a', a),
            SegValueError,
            `f: a[${i}] is ${bad}, expected a finite number`,
          );
        }
      }
    }
  });
});

describe('PermutohedralLattice vertex hashing', () => {
  it('the wasm hash table grows past 65 536 vertices and finds the same lattice as the js one', () => {
    // 15 000 points spread far apart in 5-D: ~90 000 distinct vertices
    const rng = new Rng(31);
    const f = randomCloud(rng, 15000, 5, 400);
    const v = rng.uniformArray(15000, 0, 1);
    const wasm = new PermutohedralLattice(f, 5, { kernels: 'wasm', calibrate: false });
    const js = new PermutohedralLattice(f, 5, { kernels: 'js', calibrate: false });
    expect(wasm.numVertices).toBeGreaterThan(65536);
    expect(wasm.numVertices).toBe(js.numVertices);
    const a = wasm.filter(v, 1);
    const b = js.filter(v, 1);
    for (let i = 0; i < a.length; i++) expect(a[i]!).toBeCloseTo(b[i]!, 5);
  });
});

describe('PermutohedralLattice memory budget', () => {
  const f = randomCloud(new Rng(21), 100, 2, 4);
  const m = new PermutohedralLattice(f, 2).numVertices;

  it('refuses a build past options.maxBytes before allocating, saying how large it was', () => {
    // the points' part, checked before the embedding: 4·100·(2 + 3·6 + 8) bytes
    expect(latticeBytes(100, 2, 0)).toBe(11200);
    for (const kernels of ['wasm', 'js'] as const) {
      expectThrow(
        () => new PermutohedralLattice(f, 2, { kernels, maxBytes: 1000 }),
        SegRangeError,
        'PermutohedralLattice: a lattice of 100 points in 2 dimensions needs up to 11 kB (11200 bytes), more than options.maxBytes = 1000 (filter fewer points, or raise maxBytes)',
      );
      // the vertices' part, checked once they are counted
      const bytes = latticeBytes(100, 2, m);
      expectThrow(
        () => new PermutohedralLattice(f, 2, { kernels, maxBytes: bytes - 1 }),
        SegRangeError,
        `PermutohedralLattice: a lattice of 100 points in 2 dimensions with ${m} lattice vertices needs up to ${Math.round(bytes / 1e3)} kB (${bytes} bytes), more than options.maxBytes = ${bytes - 1} (filter fewer points, or raise maxBytes)`,
      );
      expect(new PermutohedralLattice(f, 2, { kernels, maxBytes: bytes }).numVertices).toBe(m);
    }
    expect(LATTICE_MAX_BYTES).toBe(2 ** 32);
    expectThrow(
      () => new PermutohedralLattice(f, 2, { maxBytes: -1 }),
      SegValueError,
      'PermutohedralLattice: options.maxBytes is -1, expected a finite number ≥ 0',
    );
  });

  it('turns a failed allocation (wasm memory that cannot grow) into a SegRangeError with the size', () => {
    const workspace = new WasmWorkspace();
    workspace.alloc = () => {
      throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    };
    const bytes = latticeBytes(100, 2, m);
    expectThrow(
      () => new PermutohedralLattice(f, 2, { workspace }),
      SegRangeError,
      `PermutohedralLattice: out of memory for a lattice of 100 points in 2 dimensions with ${m} lattice vertices (up to ${Math.round(bytes / 1e3)} kB with the vertices counted so far) (WebAssembly.Memory.grow(): Maximum memory size exceeded)`,
    );
  });
});
