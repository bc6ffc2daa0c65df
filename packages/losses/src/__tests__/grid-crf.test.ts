import { Rng, SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import {
  describeBackends,
  expectNoLeaks,
  expectThrow,
  maxRelativeError,
  numericGradient,
} from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GRID_DIRECTIONS, GRID_STEPS, gridCrfLoss, gridWeights, pottsEnergy } from '../index.js';
import {
  dot,
  randomCoefficients,
  randomImage,
  randomLogits,
  softmaxRows,
  tfGradient,
} from './helpers.js';
import { refGridLoss, refPairWeights } from './reference.js';

const dims = { n: 2, h: 4, w: 5, k: 3 };
const shape = [dims.n, dims.h, dims.w, dims.k];
const P = dims.n * dims.h * dims.w;

describe('gridWeights', () => {
  it('reads the one direction table of @seg/crf-solvers (GRID_DIRECTIONS: its deprecated alias)', () => {
    expect(GRID_STEPS.map(({ name, dx, dy }) => [name, dx, dy])).toEqual([
      ['right', 1, 0],
      ['down', 0, 1],
      ['downRight', 1, 1],
      ['downLeft', -1, 1],
    ]);
    expect(GRID_DIRECTIONS).toBe(GRID_STEPS);
  });
  it('equals the pairwise definition (σ² the mean squared neighbour difference, or the given σ)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom(4 as const, 8 as const),
        fc.option(fc.double({ min: 1, max: 100, noNaN: true }), { nil: undefined }),
        fc.integer({ min: 1, max: 1e6 }),
        (h, w, conn, sigma, seed) => {
          const img = randomImage(new Rng(seed), 1, h, w);
          const g = gridWeights(
            { width: w, height: h, data: img },
            { connectivity: conn, ...(sigma ? { sigma } : {}) },
          );
          const ref = refPairWeights(img, 0, h, w, conn, sigma);
          expect(g.sigma2).toBeCloseTo(ref.sigma2, 6);
          expect(g.edges.length).toBe(conn === 8 ? 4 : 2);
          // every (p, q) of the reference is one entry of one direction; all other entries are 0
          const seen = g.edges.map((e) => new Uint8Array(e.length));
          ref.pairs.forEach(([p, q], i) => {
            const d = GRID_STEPS.findIndex(
              ({ dx, dy }) => q - p === dy * w + dx && (p % w) + dx === q % w,
            );
            expect(d).toBeGreaterThanOrEqual(0);
            expect(g.edges[d]![p]!).toBeCloseTo(ref.weights[i]!, 6);
            seen[d]![p] = 1;
          });
          g.edges.forEach((e, d) => {
            for (let p = 0; p < e.length; p++) if (!seen[d]![p]) expect(e[p]).toBe(0);
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('rejects bad input with exact messages', () => {
    const img = { width: 2, height: 2, data: new Uint8Array(12) };
    expectThrow(
      () => gridWeights({ ...img, data: new Uint8Array(11) }),
      SegShapeError,
      'gridWeights: image.data has length 11, expected width*height*3 = 12',
    );
    expectThrow(
      () => gridWeights(img, { connectivity: 6 as never }),
      SegRangeError,
      'gridWeights: connectivity is 6, expected 4 or 8',
    );
    expectThrow(
      () => gridWeights(img, { sigma: 0 }),
      SegValueError,
      'gridWeights: sigma is 0, expected a finite number ≥ 1e-150',
    );
    const g = gridWeights(img);
    expectThrow(
      () => pottsEnergy({ width: 2, height: 2, data: Int32Array.from([0, 1, -1, 0]) }, g),
      SegRangeError,
      'pottsEnergy: labels.data[2] is -1, expected an integer label ≥ 0',
    );
    expectThrow(
      () => pottsEnergy({ width: 1, height: 4, data: new Int32Array(4) }, g),
      SegShapeError,
      "pottsEnergy: labels are 1×4, expected the weights' 2×2",
    );
  });
});

describeBackends('gridCrfLoss', () => {
  for (const connectivity of [4, 8] as const) {
    for (const relaxation of ['bilinear', 'tv', 'quadratic'] as const) {
      for (const sigma of [undefined, 30]) {
        it(`matches the float64 reference: ${connectivity}-connected, ${relaxation}, σ ${sigma ?? 'from the image'}`, () => {
          const rng = new Rng(connectivity * 100 + relaxation.length + (sigma ?? 0));
          const img = randomImage(rng, dims.n, dims.h, dims.w);
          const s = softmaxRows(randomLogits(rng, P * dims.k), dims.k);
          const coef = randomCoefficients(rng, dims.n);
          const it = tf.tensor4d(img, [dims.n, dims.h, dims.w, 3]);
          const opts = { connectivity, relaxation, ...(sigma ? { sigma } : {}) };
          const { value, grad } = tfGradient((x) => gridCrfLoss(x, it, opts), s, shape, coef);
          const ref = (x: ArrayLike<number>) =>
            refGridLoss(x, img, dims, connectivity, relaxation, sigma);
          expect(maxRelativeError(value, ref(s), 1e-4)).toBeLessThan(1e-5);
          const num = numericGradient((x) => dot(coef, ref(x)), s, 1e-6);
          expect(maxRelativeError(grad, num, 1e-3)).toBeLessThan(1e-3);
          it.dispose();
        });
      }
    }
  }

  it('equals the discrete Potts energy at one-hot probabilities, for every relaxation (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 2, max: 4 }),
        fc.constantFrom(4 as const, 8 as const),
        fc.constantFrom('bilinear' as const, 'tv' as const, 'quadratic' as const),
        fc.integer({ min: 1, max: 1e6 }),
        (h, w, k, connectivity, relaxation, seed) => {
          const rng = new Rng(seed);
          const img = randomImage(rng, 1, h, w);
          const labels = Int32Array.from({ length: h * w }, () => rng.int(k));
          const onehot = new Float32Array(h * w * k);
          labels.forEach((l, p) => {
            onehot[p * k + l] = 1;
          });
          const loss = tf.tidy(
            () =>
              gridCrfLoss(tf.tensor4d(onehot, [1, h, w, k]), tf.tensor4d(img, [1, h, w, 3]), {
                connectivity,
                relaxation,
              }).dataSync()[0]!,
          );
          const e = pottsEnergy(
            { width: w, height: h, data: labels },
            gridWeights({ width: w, height: h, data: img }, { connectivity }),
          );
          expect(loss).toBeCloseTo(e, 4);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('reduces and does not leak', async () => {
    const rng = new Rng(9);
    const img = tf.tensor4d(randomImage(rng, dims.n, dims.h, dims.w), [dims.n, dims.h, dims.w, 3]);
    const s = tf.tensor4d(
      softmaxRows(randomLogits(rng, P * dims.k), dims.k),
      shape as [number, number, number, number],
    );
    const per = gridCrfLoss(s, img).dataSync();
    const mean = gridCrfLoss(s, img, { reduction: 'mean' });
    expect(mean.dataSync()[0]).toBeCloseTo((per[0]! + per[1]!) / 2, 4);
    mean.dispose();
    await expectNoLeaks(() => gridCrfLoss(s, img, { reduction: 'sum' }));
    await expectNoLeaks(() =>
      tf.grad((x: tf.Tensor) => gridCrfLoss(x, img, { relaxation: 'tv', reduction: 'sum' }))(s),
    );
    // a 1×1 image has no edge: 0 and a zero gradient
    const one = tf.tensor4d([0.3, 0.7], [1, 1, 1, 2]);
    const g = tf.grad((x: tf.Tensor) =>
      gridCrfLoss(x, tf.zeros([1, 1, 1, 3]), { reduction: 'sum' }),
    )(one);
    expect(Array.from(g.dataSync())).toEqual([0, 0]);
    tf.dispose([img, s, one, g]);
  });

  it('rejects bad input with exact messages', () => {
    const s = tf.fill([1, 2, 2, 2], 0.5);
    const img = tf.zeros([1, 2, 2, 3]);
    expectThrow(
      () => gridCrfLoss(s, tf.zeros([1, 2, 3, 3])),
      SegShapeError,
      'gridCrfLoss: image has shape [1,2,3,3], expected [1,2,2,3]',
    );
    expectThrow(
      () => gridCrfLoss(tf.fill([1, 2, 2, 2], 0.6), img),
      SegValueError,
      'gridCrfLoss: probs at example 0, pixel (y=0, x=0) sums to 1.2000000476837158, expected 1 (±0.001)',
    );
    expectThrow(
      () => gridCrfLoss(tf.tensor4d([1.5, -0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [1, 2, 2, 2]), img),
      SegValueError,
      'gridCrfLoss: probs[1] is -0.5, expected a probability ≥ 0',
    );
    expectThrow(
      () => gridCrfLoss(tf.tensor4d([NaN, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [1, 2, 2, 2]), img),
      SegValueError,
      'gridCrfLoss: probs[0] is NaN, expected a finite number',
    );
    expectThrow(
      () => gridCrfLoss(s, tf.fill([1, 2, 2, 3], 300)),
      SegValueError,
      'gridCrfLoss: image[0] is 300, expected a value in [0, 255]',
    );
    expectThrow(
      () => gridCrfLoss(s, img, { relaxation: 'l1' as never }),
      SegValueError,
      "gridCrfLoss: relaxation is \"l1\", expected 'bilinear', 'tv' or 'quadratic'",
    );
    expectThrow(
      () => gridCrfLoss(tf.ones([1, 2, 2, 1]), img),
      SegShapeError,
      'gridCrfLoss: probs has shape [1,2,2,1], expected K ≥ 2 labels in the last axis',
    );
    tf.dispose([s, img]);
  });
});

describe('gridWeights and pottsEnergy on bad input', () => {
  it('refuse non-finite images, vanishing σ and malformed weights', () => {
    const img = { width: 2, height: 1, data: [Number.NaN, 0, 0, 10, 10, 10] };
    expectThrow(
      () => gridWeights(img),
      SegValueError,
      'gridWeights: image.data[0] is NaN, expected a finite number',
    );
    expectThrow(
      () => gridWeights(null as never),
      SegValueError,
      'gridWeights: image is null, expected an object',
    );
    expectThrow(
      () => gridWeights({ width: 2, height: 1, data: [1e200, 0, 0, -1e200, 0, 0] }),
      SegValueError,
      'gridWeights: the mean squared neighbour difference of image.data is Infinity, expected a finite σ² (values too large; pass sigma)',
    );
    // 2σ² would underflow to 0 and equal colours get exp(−0/0) = NaN
    const flat = { width: 2, height: 1, data: [0, 0, 0, 0, 0, 0] };
    expectThrow(
      () => gridWeights(flat, { sigma: 1e-300 }),
      SegValueError,
      'gridWeights: sigma is 1e-300, expected a finite number ≥ 1e-150',
    );
    expect(gridWeights(flat, { sigma: 1e-150 }).edges[0]![0]).toBe(1);

    const g = gridWeights({ width: 2, height: 2, data: new Uint8Array(12).map((_, i) => i * 20) });
    const labels = { width: 2, height: 2, data: Int32Array.from([0, 1, 0, 1]) };
    const five = { ...g, edges: [...g.edges, new Float32Array(4)] };
    expectThrow(
      () => pottsEnergy(labels, five),
      SegShapeError,
      'pottsEnergy: weights.edges has length 5, expected an array of 2 (4-connectivity) or 4 (8-connectivity) directions',
    );
    const nan = { ...g, edges: [Float32Array.from([Number.NaN, 0, 0, 0]), ...g.edges.slice(1)] };
    expectThrow(
      () => pottsEnergy(labels, nan),
      SegValueError,
      'pottsEnergy: weights.edges[0][0] is NaN, expected a finite weight ≥ 0',
    );
    const neg = { ...g, edges: [Float32Array.from([-1, 0, 0, 0]), ...g.edges.slice(1)] };
    expectThrow(
      () => pottsEnergy(labels, neg),
      SegValueError,
      'pottsEnergy: weights.edges[0][0] is -1, expected a finite weight ≥ 0',
    );
    expectThrow(
      () => pottsEnergy(labels, null as never),
      SegValueError,
      'pottsEnergy: weights is null, expected an object',
    );
  });
});

describeBackends('gridCrfLoss on bad input', () => {
  it('refuses a vanishing σ and null options, without leaking', async () => {
    const s = tf.fill([1, 2, 2, 2], 0.5);
    const img = tf.zeros([1, 2, 2, 3]);
    await expectNoLeaks(() => {
      expectThrow(
        () => gridCrfLoss(s, img, { sigma: 1e-300 }),
        SegValueError,
        'gridCrfLoss: sigma is 1e-300, expected a finite number ≥ 1e-150',
      );
      expectThrow(
        () => gridCrfLoss(s, img, null as never),
        SegValueError,
        'gridCrfLoss: options is null, expected an object',
      );
    });
    tf.dispose([s, img]);
  });
});
