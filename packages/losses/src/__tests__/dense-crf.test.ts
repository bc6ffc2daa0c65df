import { Rng, SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import {
  describeBackends,
  expectNoLeaks,
  expectThrow,
  maxRelativeError,
  numericGradient,
} from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { resampler, scaledSize } from '../dense-crf/resample.js';
import { denseCrfLoss, normalizedCutLoss } from '../index.js';
import {
  dot,
  randomCoefficients,
  randomImage,
  randomLogits,
  softmaxRows,
  tfGradient,
} from './helpers.js';
import { refDense, refResample } from './reference.js';

const dims = { n: 2, h: 6, w: 5, k: 3 };
const shape = [dims.n, dims.h, dims.w, dims.k];
const P = dims.n * dims.h * dims.w;

describe('resampler', () => {
  it('is bilinear with half-pixel centres, and adjointInto is its exact transpose', () => {
    const rng = new Rng(11);
    for (const [H, W, h, w] of [
      [6, 5, 3, 2],
      [7, 9, 4, 5],
      [5, 5, 5, 5],
      [3, 8, 1, 3],
    ] as const) {
      const c = 2;
      const r = resampler(H, W, h, w);
      const x = Float32Array.from(rng.normalArray(H * W * c, 0, 1));
      const y = Float32Array.from(rng.normalArray(h * w * c, 0, 1));
      const ax = r.forward(x, 0, c);
      expect(maxRelativeError(ax, refResample(x, 0, H, W, h, w, c), 1e-3)).toBeLessThan(1e-5);
      const aty = new Float32Array(H * W * c);
      r.adjointInto(y, c, aty, 0);
      const lhs = ax.reduce((s, v, i) => s + v * y[i]!, 0);
      const rhs = aty.reduce((s, v, i) => s + v * x[i]!, 0);
      expect(lhs).toBeCloseTo(rhs, 4);
    }
    expect(scaledSize(375, 0.5)).toBe(187);
  });
});

describeBackends('denseCrfLoss / normalizedCutLoss (exact affinity)', () => {
  const cases = [
    { kind: 'crf', scale: 1, sigmaXy: 3, sigmaRgb: 40 },
    { kind: 'crf', scale: 0.5, sigmaXy: 6, sigmaRgb: 30 },
    { kind: 'crf', scale: 0.7, sigmaXy: 100, sigmaRgb: 15 },
    { kind: 'ncut', scale: 1, sigmaXy: 3, sigmaRgb: 40 },
    { kind: 'ncut', scale: 0.5, sigmaXy: 6, sigmaRgb: 30 },
  ] as const;
  for (const c of cases) {
    it(`${c.kind} matches the float64 reference in value and gradient (scale ${c.scale}, σxy ${c.sigmaXy}, σrgb ${c.sigmaRgb})`, () => {
      const rng = new Rng(c.scale * 100 + c.sigmaXy + c.kind.length);
      const img = randomImage(rng, dims.n, dims.h, dims.w);
      const s = softmaxRows(randomLogits(rng, P * dims.k), dims.k);
      const coef = randomCoefficients(rng, dims.n);
      const it = tf.tensor4d(img, [dims.n, dims.h, dims.w, 3]);
      const f = c.kind === 'crf' ? denseCrfLoss : normalizedCutLoss;
      const opts = {
        method: 'exact' as const,
        scale: c.scale,
        sigmaXy: c.sigmaXy,
        sigmaRgb: c.sigmaRgb,
      };
      const { value, grad } = tfGradient((x) => f(x, it, opts), s, shape, coef);
      const ro = { ...opts, hs: scaledSize(dims.h, c.scale), ws: scaledSize(dims.w, c.scale) };
      const ref = (x: ArrayLike<number>) => refDense(c.kind, x, img, dims, ro);
      expect(maxRelativeError(value, ref(s), 1e-4)).toBeLessThan(1e-5);
      const num = numericGradient((x) => dot(coef, ref(x)), s, 1e-6);
      expect(maxRelativeError(grad, num, 1e-3)).toBeLessThan(1e-4);
      it.dispose();
    });
  }

  it('is 0 (crf) and 0 per present label (ncut) for one constant label; ncut counts an absent label 1', () => {
    const img = tf.tensor4d(randomImage(new Rng(3), 1, 4, 4), [1, 4, 4, 3]);
    const s = tf.tidy(() => tf.cast(tf.oneHot(tf.fill([1, 4, 4], 1, 'int32'), 3), 'float32'));
    const crf = denseCrfLoss(s, img, { method: 'exact' });
    const nc = normalizedCutLoss(s, img, { method: 'exact' });
    expect(crf.dataSync()[0]).toBeCloseTo(0, 5);
    expect(nc.dataSync()[0]).toBeCloseTo(2, 5);
    tf.dispose([img, s, crf, nc]);
  });

  it('reduces and does not leak', async () => {
    const rng = new Rng(12);
    const img = tf.tensor4d(randomImage(rng, dims.n, dims.h, dims.w), [dims.n, dims.h, dims.w, 3]);
    const s = tf.tensor4d(
      softmaxRows(randomLogits(rng, P * dims.k), dims.k),
      shape as [number, number, number, number],
    );
    const per = denseCrfLoss(s, img, { method: 'exact' }).dataSync();
    const sum = denseCrfLoss(s, img, { method: 'exact', reduction: 'sum' });
    expect(sum.dataSync()[0]).toBeCloseTo(per[0]! + per[1]!, 2);
    sum.dispose();
    for (const f of [denseCrfLoss, normalizedCutLoss]) {
      await expectNoLeaks(() => f(s, img, { method: 'exact', reduction: 'mean' }));
      await expectNoLeaks(() =>
        tf.grad((x: tf.Tensor) => f(x, img, { method: 'exact', scale: 0.5, reduction: 'mean' }))(s),
      );
    }
    tf.dispose([img, s]);
  });

  it('rejects bad input with exact messages', () => {
    const s = tf.fill([1, 2, 2, 2], 0.5);
    const img = tf.zeros([1, 2, 2, 3]);
    expectThrow(
      () => denseCrfLoss(s, tf.zeros([2, 2, 2, 3])),
      SegShapeError,
      'denseCrfLoss: image has shape [2,2,2,3], expected [1,2,2,3]',
    );
    expectThrow(
      () => normalizedCutLoss(tf.fill([1, 2, 2, 2], 0.4), img),
      SegValueError,
      'normalizedCutLoss: probs at example 0, pixel (y=0, x=0) sums to 0.800000011920929, expected 1 (±0.001)',
    );
    expectThrow(
      () => denseCrfLoss(s, img, { scale: 2 }),
      SegValueError,
      'denseCrfLoss: scale is 2, expected a finite number ≥ 5e-324 and ≤ 1',
    );
    expectThrow(
      () => denseCrfLoss(s, img, { sigmaXy: Number.NaN }),
      SegValueError,
      'denseCrfLoss: sigmaXy is NaN, expected a finite number ≥ 5e-324',
    );
    expectThrow(
      () => denseCrfLoss(s, img, { method: 'fast' as never }),
      SegValueError,
      "denseCrfLoss: method is \"fast\", expected 'lattice' or 'exact'",
    );
    expectThrow(
      () =>
        denseCrfLoss(tf.fill([1, 65, 64, 2], 0.5), tf.zeros([1, 65, 64, 3]), { method: 'exact' }),
      SegRangeError,
      "denseCrfLoss: method 'exact' takes at most 4096 pixels per image (after scale), got 4160 (65×64); use method 'lattice' or a smaller scale",
    );
    tf.dispose([s, img]);
  });
});
