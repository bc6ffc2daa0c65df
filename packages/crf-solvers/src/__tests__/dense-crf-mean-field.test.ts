import { Rng, SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import { expectThrow } from '@seg/tensor/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { spatialFeatures } from '../dense-crf/features.js';
import { argmaxRows, DenseCrf, denseCrf, denseCrfMeanField } from '../dense-crf/mean-field.js';

/** Uniform in [lo, hi). */
function between(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.uniform();
}

interface Problem {
  width: number;
  height: number;
  k: number;
  unary: Float32Array;
  image: { width: number; height: number; data: Uint8Array };
  gauss: { sxy: number; compat: number | Float32Array };
  bil: { sxy: number; srgb: number; compat: number | Float32Array };
}

function randomProblem(seed: number, matrix: boolean): Problem {
  const rng = new Rng(seed);
  const width = 2 + rng.int(4);
  const height = 1 + rng.int(4);
  const k = 2 + rng.int(3);
  const n = width * height;
  const unary = rng.uniformArray(n * k, 0, 3);
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  const compat = (w: number) => {
    if (!matrix) return w;
    const m = new Float32Array(k * k);
    for (let a = 0; a < k; a++)
      for (let b = 0; b < k; b++) m[a * k + b] = a === b ? 0 : w * between(rng, 0.5, 1.5);
    return m;
  };
  return {
    width,
    height,
    k,
    unary,
    image: { width, height, data },
    gauss: { sxy: between(rng, 0.5, 3), compat: compat(between(rng, 0, 4)) },
    bil: {
      sxy: between(rng, 1, 6),
      srgb: between(rng, 20, 120),
      compat: compat(between(rng, 0, 6)),
    },
  };
}

/** The brute-force kernels, float64: symmetric-normalised Gram matrices with a zero diagonal. */
function bruteKernels(pr: Problem): Float64Array[] {
  const { width, height } = pr;
  const n = width * height;
  const feats = (p: number, which: 'g' | 'b'): number[] => {
    const x = p % width;
    const y = Math.floor(p / width);
    if (which === 'g') return [x / pr.gauss.sxy, y / pr.gauss.sxy];
    const c = Array.from(pr.image.data.subarray(p * 3, p * 3 + 3), (v) => v / pr.bil.srgb);
    return [x / pr.bil.sxy, y / pr.bil.sxy, ...c];
  };
  return (['g', 'b'] as const).map((which) => {
    const raw = new Float64Array(n * n);
    for (let p = 0; p < n; p++) {
      for (let q = 0; q < n; q++) {
        const a = feats(p, which);
        const b = feats(q, which);
        raw[p * n + q] = Math.exp(-0.5 * a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0));
      }
    }
    const norm = Array.from(
      { length: n },
      (_, p) => 1 / Math.sqrt(raw.subarray(p * n, p * n + n).reduce((s, v) => s + v, 0)),
    );
    const kern = new Float64Array(n * n);
    for (let p = 0; p < n; p++)
      for (let q = 0; q < n; q++)
        if (p !== q) kern[p * n + q] = norm[p]! * raw[p * n + q]! * norm[q]!;
    return kern;
  });
}

/** μ(l, l') as a cost matrix: Potts w → −w·I (equivalent on the simplex), matrices symmetrised. */
function muOf(compat: number | Float32Array, k: number): Float64Array {
  const mu = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      mu[a * k + b] =
        typeof compat === 'number'
          ? a === b
            ? -compat
            : 0
          : 0.5 * (compat[a * k + b]! + compat[b * k + a]!);
    }
  }
  return mu;
}

/** Plain-JS mean field, float64, straight from the update equation. */
function bruteMeanField(pr: Problem, iterations: number): { q: Float64Array[]; kl: number[] } {
  const { k } = pr;
  const n = pr.width * pr.height;
  const kernels = bruteKernels(pr);
  const mus = [muOf(pr.gauss.compat, k), muOf(pr.bil.compat, k)];
  const pairCost = (q: Float64Array) => {
    const cost = new Float64Array(n * k);
    for (let m = 0; m < 2; m++) {
      for (let p = 0; p < n; p++) {
        for (let l = 0; l < k; l++) {
          let acc = 0;
          for (let q2 = 0; q2 < n; q2++) {
            for (let l2 = 0; l2 < k; l2++)
              acc += kernels[m]![p * n + q2]! * mus[m]![l * k + l2]! * q[q2 * k + l2]!;
          }
          cost[p * k + l]! += acc;
        }
      }
    }
    return cost;
  };
  const softmax = (logits: Float64Array) => {
    const q = new Float64Array(n * k);
    for (let p = 0; p < n; p++) {
      const row = logits.subarray(p * k, p * k + k);
      const mx = Math.max(...row);
      const s = row.reduce((a, v) => a + Math.exp(v - mx), 0);
      for (let l = 0; l < k; l++) q[p * k + l] = Math.exp(row[l]! - mx) / s;
    }
    return q;
  };
  const kl = (q: Float64Array) => {
    const c = pairCost(q);
    let f = 0;
    for (let i = 0; i < n * k; i++)
      f += q[i]! * (pr.unary[i]! + 0.5 * c[i]!) + (q[i]! > 0 ? q[i]! * Math.log(q[i]!) : 0);
    return f;
  };
  let q = softmax(Float64Array.from(pr.unary, (u) => -u));
  const qs = [q];
  const kls = [kl(q)];
  for (let it = 0; it < iterations; it++) {
    const c = pairCost(q);
    q = softmax(Float64Array.from(pr.unary, (u, i) => -u - c[i]!));
    qs.push(q);
    kls.push(kl(q));
  }
  return { q: qs, kl: kls };
}

function makeCrf(pr: Problem, filter: 'exact' | 'lattice'): DenseCrf {
  const crf = new DenseCrf(pr.width, pr.height, pr.k, { filter });
  crf.setUnaryEnergy(pr.unary);
  crf.addPairwiseGaussian(pr.gauss);
  crf.addPairwiseBilateral({ ...pr.bil, rgbim: pr.image });
  return crf;
}

describe('DenseCrf mean field', () => {
  it('with the exact filter matches a brute-force mean field (Potts and matrix compatibilities)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0x7fffffff }), fc.boolean(), (seed, matrix) => {
        const pr = randomProblem(seed, matrix);
        const ref = bruteMeanField(pr, 4);
        const crf = makeCrf(pr, 'exact');
        const q = crf.startInference();
        for (let it = 0; it <= 4; it++) {
          if (it > 0) crf.stepInference(q);
          for (let i = 0; i < q.length; i++)
            expect(Math.abs(q[i]! - ref.q[it]![i]!)).toBeLessThan(2e-5);
          expect(crf.klDivergence(q)).toBeCloseTo(ref.kl[it]!, 3);
        }
        expect(Array.from(crf.inference(4))).toEqual(Array.from(q));
      }),
      { numRuns: 30 },
    );
  });

  it('never raises the free energy (KL − log Z) when Σ_m |w_m|·ρ(K̃_m) ≤ 1', () => {
    // Majorisation: the update minimises linearised pairwise + entropy, which is
    // 1-strongly convex (in ℓ2) on the simplex; the pairwise curvature is at most
    // Σ_m ‖μ_m‖·ρ(K̃_m) ≤ Σ_m ‖μ_m‖·max row sum of K̃_m. So F cannot increase.
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.double({ min: 0.1, max: 1, noNaN: true }),
        (seed, t) => {
          const pr = randomProblem(seed, false);
          const n = pr.width * pr.height;
          const rowMax = bruteKernels(pr).map((kern) => {
            let best = 0;
            for (let p = 0; p < n; p++)
              best = Math.max(
                best,
                kern.subarray(p * n, p * n + n).reduce((a, v) => a + v, 0),
              );
            return best;
          });
          const wg = pr.gauss.compat as number;
          const wb = pr.bil.compat as number;
          const bound = Math.abs(wg) * rowMax[0]! + Math.abs(wb) * rowMax[1]!;
          // Only ever scale the weights down (a near-zero kernel must not get a huge weight).
          const s = Math.min(1, t / bound);
          pr.gauss.compat = wg * s * 0.999;
          pr.bil.compat = wb * s * 0.999;
          const crf = makeCrf(pr, 'exact');
          const q = crf.startInference();
          let prev = crf.klDivergence(q);
          for (let it = 0; it < 6; it++) {
            crf.stepInference(q);
            const kl = crf.klDivergence(q);
            expect(kl).toBeLessThanOrEqual(prev + 1e-5);
            prev = kl;
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('lowers the free energy from its start on pydensecrf-like problems (lattice filter)', () => {
    const rng = new Rng(4);
    const width = 24;
    const height = 18;
    const k = 3;
    const n = width * height;
    const data = new Uint8Array(n * 3);
    const unary = new Float32Array(n * k);
    for (let p = 0; p < n; p++) {
      const truth = p % width < width / 2 ? 0 : p / width < height / 2 ? 1 : 2;
      for (let c = 0; c < 3; c++) data[p * 3 + c] = 60 + 60 * truth + rng.int(20);
      for (let l = 0; l < k; l++) unary[p * k + l] = (l === truth ? 0 : 0.6) + between(rng, 0, 3);
    }
    const image = { width, height, data };
    const crf = new DenseCrf(width, height, k);
    crf.setUnaryEnergy(unary);
    crf.addPairwiseGaussian({ sxy: 3, compat: 3 });
    crf.addPairwiseBilateral({ sxy: 20, srgb: 13, rgbim: image, compat: 10 });
    const q0 = crf.startInference();
    const q5 = crf.inference(5);
    expect(crf.klDivergence(q5)).toBeLessThan(crf.klDivergence(q0));
    // The CRF cleans the noisy unary up: more sites take their block's label.
    const truthOf = (p: number) => (p % width < width / 2 ? 0 : p / width < height / 2 ? 1 : 2);
    const acc = (labels: Int32Array) =>
      labels.reduce((a, l, p) => a + (l === truthOf(p) ? 1 : 0), 0) / n;
    const before = new Int32Array(n).map((_, p) => {
      let best = 0;
      for (let l = 1; l < k; l++) if (q0[p * k + l]! > q0[p * k + best]!) best = l;
      return best;
    });
    const { labels } = denseCrfMeanField(
      { image, unary, numLabels: k },
      { bilateral: { sxy: 20 } },
    );
    // the deprecated name is the same function
    expect(denseCrf({ image, unary, numLabels: k }, { bilateral: { sxy: 20 } }).labels).toEqual(
      labels,
    );
    expect(acc(labels)).toBeGreaterThan(acc(before) + 0.1);
    expect(Array.from(crf.map(5))).toEqual(Array.from(labels));
  });

  it('lattice and exact filters give close Q and the same labels on a 24×18 image', () => {
    const rng = new Rng(12);
    const width = 24;
    const height = 18;
    const k = 3;
    const n = width * height;
    const data = new Uint8Array(n * 3);
    const unary = new Float32Array(n * k);
    for (let p = 0; p < n; p++) {
      const truth = Math.floor(((p % width) + Math.floor(p / width)) / 14) % k;
      for (let c = 0; c < 3; c++) data[p * 3 + c] = 40 + 70 * truth + c * 10 + rng.int(25);
      for (let l = 0; l < k; l++) unary[p * k + l] = (l === truth ? 0 : 0.5) + between(rng, 0, 2);
    }
    const run = (filter: 'exact' | 'lattice') => {
      const crf = new DenseCrf(width, height, k, { filter });
      crf.setUnaryEnergy(unary);
      crf.addPairwiseGaussian({ sxy: 3, compat: 3 });
      crf.addPairwiseBilateral({ sxy: 10, srgb: 13, rgbim: { width, height, data }, compat: 10 });
      return crf.inference(5);
    };
    const a = run('exact');
    const b = run('lattice');
    let mean = 0;
    for (let i = 0; i < a.length; i++) mean += Math.abs(a[i]! - b[i]!) / a.length;
    expect(mean).toBeLessThan(0.02);
    const la = argmaxRows(a, k);
    const lb = argmaxRows(b, k);
    expect(la.reduce((s, l, p) => s + (l === lb[p] ? 1 : 0), 0) / n).toBeGreaterThan(0.97);
  });

  it('the wasm and js kernels give the same Q (Potts and matrix)', () => {
    for (const matrix of [false, true]) {
      const pr = randomProblem(21, matrix);
      const run = (kernels: 'wasm' | 'js') => {
        const crf = new DenseCrf(pr.width, pr.height, pr.k, { kernels });
        crf.setUnaryEnergy(pr.unary);
        crf.addPairwiseGaussian(pr.gauss);
        crf.addPairwiseBilateral({ ...pr.bil, rgbim: pr.image });
        return crf.inference(4);
      };
      const a = run('wasm');
      const b = run('js');
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-5);
    }
  });

  it('dispose gives the wasm memory to the next DenseCrf: the same Q, and the disposed CRF refuses every call', () => {
    const pr = randomProblem(21, false);
    const make = () => {
      const crf = new DenseCrf(pr.width, pr.height, pr.k);
      crf.setUnaryEnergy(pr.unary);
      crf.addPairwiseGaussian(pr.gauss);
      crf.addPairwiseBilateral({ ...pr.bil, rgbim: pr.image });
      return crf;
    };
    const first = make();
    const q1 = first.inference(3);
    first.dispose();
    first.dispose(); // twice is fine
    const second = make(); // in the memory the first gave back, over its old contents
    const q2 = second.inference(3);
    expect(Array.from(q2)).toEqual(Array.from(q1));
    second.dispose();
    for (const [call, fn] of [
      [() => first.inference(1), 'DenseCrf.inference'],
      [() => first.setUnaryEnergy(pr.unary), 'DenseCrf.setUnaryEnergy'],
      [() => first.addPairwiseGaussian(), 'DenseCrf.addPairwiseGaussian'],
      [() => first.startInference(), 'DenseCrf.startInference'],
    ] as const) {
      expectThrow(call, SegValueError, `${fn}: the dense CRF was disposed`);
    }
  });

  it('addPairwiseEnergy with xy / σ features equals addPairwiseGaussian', () => {
    const pr = randomProblem(8, true);
    const a = new DenseCrf(pr.width, pr.height, pr.k, { filter: 'exact' });
    const b = new DenseCrf(pr.width, pr.height, pr.k, { filter: 'exact' });
    a.setUnaryEnergy(pr.unary);
    b.setUnaryEnergy(pr.unary);
    a.addPairwiseGaussian(pr.gauss);
    b.addPairwiseEnergy(spatialFeatures(pr.width, pr.height, pr.gauss.sxy), 2, {
      compat: pr.gauss.compat,
    });
    const qa = a.inference(3);
    const qb = b.inference(3);
    for (let i = 0; i < qa.length; i++) expect(qb[i]!).toBeCloseTo(qa[i]!, 6);
    expectThrow(
      () => b.addPairwiseEnergy(new Float32Array(3), 2),
      SegShapeError,
      'DenseCrf.addPairwiseEnergy: features has length 3, expected width*height*d = 8',
    );
  });

  it('Potts w equals the matrix w·(1 − I)', () => {
    const pr = randomProblem(3, false);
    const k = pr.k;
    const asMatrix = (w: number) =>
      new Float32Array(k * k).map((_, i) => (Math.floor(i / k) === i % k ? 0 : w));
    const potts = makeCrf(pr, 'lattice').inference(3);
    const matrix = makeCrf(
      {
        ...pr,
        gauss: { ...pr.gauss, compat: asMatrix(pr.gauss.compat as number) },
        bil: { ...pr.bil, compat: asMatrix(pr.bil.compat as number) },
      },
      'lattice',
    ).inference(3);
    for (let i = 0; i < potts.length; i++) expect(matrix[i]!).toBeCloseTo(potts[i]!, 5);
  });

  it('rejects bad input with clear errors', () => {
    expectThrow(
      () => new DenseCrf(0, 3, 2),
      SegRangeError,
      'DenseCrf: width is 0, expected an integer ≥ 1',
    );
    expectThrow(
      () => new DenseCrf(3, 3, 1),
      SegRangeError,
      'DenseCrf: numLabels is 1, expected an integer ≥ 2',
    );
    const crf = new DenseCrf(3, 2, 2);
    expectThrow(
      () => crf.setUnaryEnergy(new Float32Array(10)),
      SegShapeError,
      'DenseCrf.setUnaryEnergy: unary has length 10, expected width*height*numLabels = 12',
    );
    const bad = new Float32Array(12);
    bad[5] = Number.NaN;
    expectThrow(
      () => crf.setUnaryEnergy(bad),
      SegValueError,
      'DenseCrf.setUnaryEnergy: unary[5] is NaN, expected a finite number',
    );
    expectThrow(
      () => crf.inference(2),
      SegValueError,
      'DenseCrf.inference: no unary set, call setUnaryEnergy first',
    );
    expectThrow(
      () => crf.addPairwiseGaussian({ compat: new Float32Array(3) }),
      SegShapeError,
      'DenseCrf.addPairwiseGaussian: compat has length 3, expected numLabels*numLabels = 4',
    );
    expectThrow(
      () => crf.addPairwiseGaussian({ sxy: -1 }),
      SegValueError,
      'DenseCrf.addPairwiseGaussian: sxy is -1, expected a finite number ≥ 5e-324',
    );
    expectThrow(
      () => crf.addPairwiseBilateral({ rgbim: { width: 2, height: 2, data: new Uint8Array(12) } }),
      SegShapeError,
      "DenseCrf.addPairwiseBilateral: rgbim is 2×2, expected 3×2 (the CRF's width×height)",
    );
    expectThrow(
      () => crf.addPairwiseGaussian({ compat: Number.NaN }),
      SegValueError,
      'DenseCrf.addPairwiseGaussian: compat is NaN, expected a finite number',
    );
    crf.setUnaryEnergy(new Float32Array(12));
    expectThrow(
      () => crf.inference(-1),
      SegRangeError,
      'DenseCrf.inference: iterations is -1, expected an integer ≥ 0',
    );
    expectThrow(
      () => crf.stepInference(new Float32Array(5)),
      SegShapeError,
      'DenseCrf.stepInference: q has length 5, expected width*height*numLabels = 12',
    );
    expectThrow(
      () => argmaxRows(new Float32Array(4), 0),
      SegRangeError,
      'argmaxRows: k is 0, expected an integer ≥ 1',
    );
    expectThrow(
      () => argmaxRows(new Float32Array(5), 2),
      SegShapeError,
      'argmaxRows: q has length 5, expected a multiple of k = 2',
    );
  });
});
