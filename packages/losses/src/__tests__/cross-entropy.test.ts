import { Rng, SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import {
  describeBackends,
  expectNoLeaks,
  expectThrow,
  maxRelativeError,
  numericGradient,
} from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { partialCrossEntropy, proposalCrossEntropy, proposalKlDivergence } from '../index.js';
import { dot, randomCoefficients, randomLogits, softmaxRows, tfGradient } from './helpers.js';
import { refKl, refWeightedCE } from './reference.js';

const dims = { n: 3, h: 4, w: 5, k: 3 };
const shape = [dims.n, dims.h, dims.w, dims.k];
const P = dims.n * dims.h * dims.w;

function randomLabels(rng: Rng, density: number, emptyExample = -1): Int32Array {
  const out = new Int32Array(P).fill(-1);
  for (let p = 0; p < P; p++) {
    if (Math.floor(p / (dims.h * dims.w)) === emptyExample) continue;
    if (rng.uniform() < density) out[p] = rng.int(dims.k);
  }
  return out;
}

describeBackends('partialCrossEntropy', () => {
  it('matches the float64 reference in value and gradient (example 1 has no seed)', () => {
    const rng = new Rng(1);
    for (let trial = 0; trial < 3; trial++) {
      const z = randomLogits(rng, P * dims.k);
      const seeds = randomLabels(rng, 0.4, 1);
      const coef = randomCoefficients(rng, dims.n);
      const seedT = tf.tensor3d(seeds, [dims.n, dims.h, dims.w], 'int32');
      const { value, grad } = tfGradient((x) => partialCrossEntropy(x, seedT), z, shape, coef);
      const ref = refWeightedCE(z, seeds, null, dims);
      expect(maxRelativeError(value, ref, 1e-6)).toBeLessThan(1e-5);
      expect(Math.abs(value[1]!)).toBe(0);
      const num = numericGradient((x) => dot(coef, refWeightedCE(x, seeds, null, dims)), z);
      expect(maxRelativeError(grad, num, 1e-3)).toBeLessThan(1e-3);
      seedT.dispose();
    }
  });

  it("'mean' averages the examples that have seeds, 'sum' adds all", () => {
    const rng = new Rng(2);
    const z = randomLogits(rng, P * dims.k);
    const seeds = randomLabels(rng, 0.5, 2);
    const ref = refWeightedCE(z, seeds, null, dims);
    const zt = tf.tensor4d(z, shape as [number, number, number, number]);
    const st = tf.tensor3d(seeds, [dims.n, dims.h, dims.w], 'int32');
    const mean = partialCrossEntropy(zt, st, { reduction: 'mean' });
    const sum = partialCrossEntropy(zt, st, { reduction: 'sum' });
    expect(mean.shape).toEqual([]);
    expect(mean.dataSync()[0]).toBeCloseTo((ref[0]! + ref[1]!) / 2, 5);
    expect(sum.dataSync()[0]).toBeCloseTo(ref[0]! + ref[1]! + ref[2]!, 5);
    const none = partialCrossEntropy(zt, tf.fill([dims.n, dims.h, dims.w], -1, 'int32'), {
      reduction: 'mean',
    });
    expect(none.dataSync()[0]).toBe(0);
    tf.dispose([zt, st, mean, sum, none]);
  });

  it('is stable for huge logits', () => {
    const z = new Float32Array(P * dims.k);
    for (let p = 0; p < P; p++) z[p * dims.k] = 1e4;
    const seeds = new Int32Array(P).fill(1);
    const out = tf.tidy(() =>
      partialCrossEntropy(
        tf.tensor4d(z, shape as [number, number, number, number]),
        tf.tensor3d(seeds, [dims.n, dims.h, dims.w], 'int32'),
      ).dataSync(),
    );
    for (const v of out) expect(v).toBeCloseTo(1e4, 0);
  });

  it('does not leak, with and without gradients', async () => {
    const rng = new Rng(3);
    const z = tf.tensor4d(randomLogits(rng, P * dims.k), shape as [number, number, number, number]);
    const s = tf.tensor3d(randomLabels(rng, 0.5), [dims.n, dims.h, dims.w], 'int32');
    await expectNoLeaks(() => partialCrossEntropy(z, s, { reduction: 'mean' }));
    await expectNoLeaks(() =>
      tf.grad((x: tf.Tensor) => partialCrossEntropy(x, s, { reduction: 'sum' }))(z),
    );
    tf.dispose([z, s]);
  });

  it('rejects bad input with exact messages', () => {
    const z = tf.zeros([1, 2, 2, 3]);
    const s = tf.tensor3d([0, 1, 2, -1], [1, 2, 2], 'int32');
    expectThrow(
      () => partialCrossEntropy(tf.zeros([2, 2, 3]), s),
      SegShapeError,
      'partialCrossEntropy: logits has shape [2,2,3], expected [N,H,W,K]',
    );
    expectThrow(
      () => partialCrossEntropy(z, tf.zeros([1, 2, 3], 'int32')),
      SegShapeError,
      'partialCrossEntropy: seeds has shape [1,2,3], expected [1,2,2]',
    );
    expectThrow(
      () => partialCrossEntropy(z, tf.zeros([1, 2, 2])),
      SegShapeError,
      'partialCrossEntropy: seeds has dtype float32, expected int32',
    );
    expectThrow(
      () => partialCrossEntropy(z, tf.tensor3d([0, 3, 0, 0], [1, 2, 2], 'int32')),
      SegRangeError,
      'partialCrossEntropy: seeds[1] is 3, expected -1 (unlabelled) or a label in [0, 2]',
    );
    expectThrow(
      () =>
        partialCrossEntropy(tf.tensor4d([0, 0, NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 2, 2, 3]), s),
      SegValueError,
      'partialCrossEntropy: logits[2] is NaN, expected a finite number',
    );
    expectThrow(
      () => partialCrossEntropy(z, s, { reduction: 'avg' as never }),
      SegValueError,
      "partialCrossEntropy: reduction is \"avg\", expected 'none', 'mean' or 'sum'",
    );
    tf.dispose([z, s]);
  });
});

describeBackends('proposalCrossEntropy', () => {
  it('matches the reference with and without a mask, in value and gradient', () => {
    const rng = new Rng(4);
    for (const withMask of [false, true]) {
      const z = randomLogits(rng, P * dims.k);
      const labels = randomLabels(rng, 0.9);
      const mask = withMask
        ? Float32Array.from({ length: P }, () => (rng.uniform() < 0.3 ? 0 : rng.uniform() * 2))
        : null;
      const coef = randomCoefficients(rng, dims.n);
      const lt = tf.tensor3d(labels, [dims.n, dims.h, dims.w], 'int32');
      const mt = mask ? tf.tensor3d(mask, [dims.n, dims.h, dims.w]) : undefined;
      const { value, grad } = tfGradient(
        (x) => proposalCrossEntropy(x, lt, mt ? { mask: mt } : {}),
        z,
        shape,
        coef,
      );
      expect(maxRelativeError(value, refWeightedCE(z, labels, mask, dims), 1e-6)).toBeLessThan(
        1e-5,
      );
      const num = numericGradient((x) => dot(coef, refWeightedCE(x, labels, mask, dims)), z);
      expect(maxRelativeError(grad, num, 1e-3)).toBeLessThan(1e-3);
      tf.dispose([lt, mt]);
    }
  });

  it('does not leak and rejects a bad mask', async () => {
    const z = tf.zeros([1, 2, 2, 2]);
    const y = tf.tensor3d([0, 1, 1, 0], [1, 2, 2], 'int32');
    await expectNoLeaks(() => proposalCrossEntropy(z, y, { reduction: 'mean', mask: undefined }));
    const bad = tf.tensor3d([1, -1, 1, 1], [1, 2, 2]);
    expectThrow(
      () => proposalCrossEntropy(z, y, { mask: bad }),
      SegValueError,
      'proposalCrossEntropy: mask[1] is -1, expected a finite weight ≥ 0',
    );
    expectThrow(
      () => proposalCrossEntropy(z, y, { mask: tf.ones([1, 2]) }),
      SegShapeError,
      'proposalCrossEntropy: mask has shape [1,2], expected [1,2,2]',
    );
    expectThrow(
      () => proposalCrossEntropy(z, tf.tensor3d([0, 2, 1, 0], [1, 2, 2], 'int32')),
      SegRangeError,
      'proposalCrossEntropy: proposals[1] is 2, expected -1 (unlabelled) or a label in [0, 1]',
    );
    tf.dispose([z, y, bad]);
  });
});

describeBackends('proposalKlDivergence', () => {
  it('matches the reference with and without a mask, in value and gradient', () => {
    const rng = new Rng(5);
    for (const withMask of [false, true]) {
      const z = randomLogits(rng, P * dims.k);
      const t = softmaxRows(randomLogits(rng, P * dims.k, 3), dims.k);
      t.fill(0, 0, dims.k);
      t[1] = 1; // a one-hot pixel: 0·log 0 terms
      const mask = withMask ? Float32Array.from({ length: P }, () => rng.int(2)) : null;
      const coef = randomCoefficients(rng, dims.n);
      const tt = tf.tensor4d(t, shape as [number, number, number, number]);
      const mt = mask ? tf.tensor3d(mask, [dims.n, dims.h, dims.w], 'float32') : undefined;
      const { value, grad } = tfGradient(
        (x) => proposalKlDivergence(x, tt, mt ? { mask: mt } : {}),
        z,
        shape,
        coef,
      );
      expect(maxRelativeError(value, refKl(z, t, mask, dims), 1e-4)).toBeLessThan(1e-4);
      const num = numericGradient((x) => dot(coef, refKl(x, t, mask, dims)), z);
      expect(maxRelativeError(grad, num, 1e-3)).toBeLessThan(1e-3);
      tf.dispose([tt, mt]);
    }
  });

  it('is 0 when the softmax equals the targets, does not leak, rejects targets off the simplex', async () => {
    const rng = new Rng(6);
    const z = randomLogits(rng, P * dims.k);
    const zt = tf.tensor4d(z, shape as [number, number, number, number]);
    const tt = tf.tensor4d(softmaxRows(z, dims.k), shape as [number, number, number, number]);
    const v = proposalKlDivergence(zt, tt, { reduction: 'sum' });
    expect(Math.abs(v.dataSync()[0]!)).toBeLessThan(1e-5);
    await expectNoLeaks(() =>
      tf.grad((x: tf.Tensor) => proposalKlDivergence(x, tt, { reduction: 'mean' }))(zt),
    );
    const off = tf.tensor4d([0.5, 0.6, 0.5, 0.5], [1, 1, 2, 2]);
    expectThrow(
      () => proposalKlDivergence(tf.zeros([1, 1, 2, 2]), off),
      SegValueError,
      'proposalKlDivergence: targets at example 0, pixel (y=0, x=0) sums to 1.100000023841858, expected 1 (±0.001)',
    );
    tf.dispose([zt, tt, v, off]);
  });
});

describeBackends('cross-entropy losses on bad or edge input', () => {
  it('refuse null options and disposed tensors, without leaking', async () => {
    const z = tf.zeros([1, 2, 2, 3]);
    const s = tf.tensor3d([0, 1, 2, -1], [1, 2, 2], 'int32');
    const t = tf.fill([1, 2, 2, 3], 1 / 3);
    await expectNoLeaks(() => {
      expectThrow(
        () => partialCrossEntropy(z, s, null as never),
        SegValueError,
        'partialCrossEntropy: options is null, expected an object',
      );
      expectThrow(
        () => proposalCrossEntropy(z, s, 3 as never),
        SegValueError,
        'proposalCrossEntropy: options is 3, expected an object',
      );
      const gone = tf.zeros([1, 2, 2], 'int32');
      gone.dispose();
      expectThrow(
        () => partialCrossEntropy(z, gone),
        SegValueError,
        'partialCrossEntropy: seeds is a disposed tf.Tensor',
      );
      const goneZ = tf.zeros([1, 2, 2, 3]);
      goneZ.dispose();
      expectThrow(
        () => proposalKlDivergence(goneZ, t),
        SegValueError,
        'proposalKlDivergence: logits is a disposed tf.Tensor',
      );
    });
    tf.dispose([z, s, t]);
  });

  it('keep the documented 0 (and zero gradient) when no pixel is scribbled', async () => {
    const z = tf.randomNormal([2, 2, 2, 3], 0, 1, 'float32', 1);
    const none = tf.fill([2, 2, 2], -1, 'int32');
    await expectNoLeaks(() => {
      const v = partialCrossEntropy(z, none);
      expect(Array.from(v.dataSync())).toEqual([0, 0]);
      const mean = partialCrossEntropy(z, none, { reduction: 'mean' });
      expect(mean.dataSync()[0]).toBe(0);
      const g = tf.grad((x: tf.Tensor) => partialCrossEntropy(x, none, { reduction: 'mean' }))(z);
      expect(Array.from(g.dataSync()).every((x) => x === 0)).toBe(true);
      return [v, mean, g];
    });
    tf.dispose([z, none]);
  });

  it('stay exact for huge but finite logits', async () => {
    // all logits equal: −log(1/3) whatever their size (was 0: 3e38 + log 3 − 3e38)
    const z = tf.fill([1, 1, 2, 3], 3e38);
    const s = tf.tensor3d([0, 2], [1, 1, 2], 'int32');
    await expectNoLeaks(() => {
      const v = partialCrossEntropy(z, s);
      expect(v.dataSync()[0]).toBeCloseTo(Math.log(3), 6);
      return v;
    });
    tf.dispose([z, s]);
  });
});
