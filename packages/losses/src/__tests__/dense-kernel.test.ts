import { PermutohedralLattice } from '@seg/crf-solvers';
import { Rng, SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import {
  describeBackends,
  expectNoLeaks,
  expectThrow,
  maxRelativeError,
  numericGradient,
} from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it, vi } from 'vitest';
import { scaledSize } from '../dense-crf/resample.js';
import {
  type DenseLossOptions,
  denseCrfKernel,
  denseCrfLoss,
  normalizedCutLoss,
} from '../index.js';
import {
  dot,
  randomCoefficients,
  randomImage,
  randomLogits,
  softmaxRows,
  tfGradient,
} from './helpers.js';
import { refDense } from './reference.js';

const small = { n: 2, h: 6, w: 5, k: 3 };
const lat = { n: 2, h: 24, w: 20, k: 3 };

function setup(seed: number, d: typeof small) {
  const rng = new Rng(seed);
  const imgData = randomImage(rng, d.n, d.h, d.w);
  const image = tf.tensor4d(imgData, [d.n, d.h, d.w, 3]);
  const probs = () => softmaxRows(randomLogits(rng, d.n * d.h * d.w * d.k, 2), d.k);
  const coef = randomCoefficients(rng, d.n);
  return { imgData, image, probs, coef, shape: [d.n, d.h, d.w, d.k] };
}

/** The gradient with its per-pixel mean over labels removed: the part a softmax passes on. */
function tangent(g: Float32Array, k: number): Float32Array {
  const out = new Float32Array(g.length);
  for (let o = 0; o < g.length; o += k) {
    let m = 0;
    for (let c = 0; c < k; c++) m += g[o + c]!;
    for (let c = 0; c < k; c++) out[o + c] = g[o + c]! - m / k;
  }
  return out;
}

function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

describeBackends('denseCrfKernel with denseCrfLoss / normalizedCutLoss', () => {
  for (const kind of ['crf', 'ncut'] as const) {
    const f = kind === 'crf' ? denseCrfLoss : normalizedCutLoss;

    for (const scale of [1, 0.5]) {
      it(`${kind}: a kernel reused over steps matches the float64 reference and finite differences (exact, scale ${scale})`, () => {
        const { imgData, image, probs, coef, shape } = setup(31 + scale * 10 + kind.length, small);
        const o = { sigmaXy: 4, sigmaRgb: 35, scale };
        const kernel = denseCrfKernel(image, { ...o, method: 'exact' });
        image.dispose(); // the kernel keeps what it needs
        const ro = { ...o, hs: scaledSize(small.h, scale), ws: scaledSize(small.w, scale) };
        const ref = (x: ArrayLike<number>) => refDense(kind, x, imgData, small, ro);
        for (let step = 0; step < 2; step++) {
          const s = probs();
          const { value, grad } = tfGradient((x) => f(x, kernel), s, shape, coef);
          expect(maxRelativeError(value, ref(s), 1e-4)).toBeLessThan(1e-5);
          const num = numericGradient((x) => dot(coef, ref(x)), s, 1e-6);
          expect(maxRelativeError(grad, num, 1e-3)).toBeLessThan(1e-4);
        }
        kernel.dispose();
      });
    }

    for (const o of [
      { scale: 1, backward: 'exact' },
      { scale: 0.5, backward: 'exact' },
      { scale: 1, backward: 'symmetric' },
    ] as const) {
      it(`${kind}: a cached lattice kernel gives the one-shot values and gradients (scale ${o.scale}, backward ${o.backward})`, () => {
        const { image, probs, coef, shape } = setup(47 + o.scale * 10, lat);
        const params = { sigmaXy: 30, sigmaRgb: 20, scale: o.scale };
        const kernel = denseCrfKernel(image, params);
        for (let step = 0; step < 3; step++) {
          const s = probs();
          const cached = tfGradient((x) => f(x, kernel, { backward: o.backward }), s, shape, coef);
          const oneShot = tfGradient(
            (x) => f(x, image, { ...params, backward: o.backward }),
            s,
            shape,
            coef,
          );
          expect(cached.value).toEqual(oneShot.value);
          expect(cached.grad).toEqual(oneShot.grad);
        }
        kernel.dispose();
        image.dispose();
      });
    }

    it(`${kind}: backward 'symmetric' keeps the value, is within 10 % of the exact backward (tangent part) and as close to the O(N²) gradient on the lattice; equal on the exact sum`, () => {
      const { image, probs, coef, shape } = setup(59, lat);
      const s = probs();
      const o = { sigmaXy: 8, sigmaRgb: 20 };
      const kernel = denseCrfKernel(image, o);
      const full = denseCrfKernel(image, { ...o, method: 'exact' });
      const ex = tfGradient((x) => f(x, kernel), s, shape, coef);
      const sym = tfGradient((x) => f(x, kernel, { backward: 'symmetric' }), s, shape, coef);
      const truth = tangent(tfGradient((x) => f(x, full), s, shape, coef).grad, lat.k);
      expect(sym.value).toEqual(ex.value);
      const err = relL2(tangent(sym.grad, lat.k), tangent(ex.grad, lat.k));
      expect(err).toBeGreaterThan(0); // the lattice is not exactly symmetric
      expect(err).toBeLessThan(0.1); // measured 0.067 / 0.068 (crf / ncut)
      // against the O(N²) gradient: the lattice tests' tolerance, for both backward passes
      expect(relL2(tangent(ex.grad, lat.k), truth)).toBeLessThan(0.3);
      expect(relL2(tangent(sym.grad, lat.k), truth)).toBeLessThan(0.3);
      full.dispose();
      kernel.dispose();
      const sm = setup(61, small);
      const x = sm.probs();
      const exact = denseCrfKernel(sm.image, { sigmaXy: 4, sigmaRgb: 35, method: 'exact' });
      const a = tfGradient((t) => f(t, exact), x, sm.shape, sm.coef);
      const b = tfGradient((t) => f(t, exact, { backward: 'symmetric' }), x, sm.shape, sm.coef);
      expect(b.grad).toEqual(a.grad);
      exact.dispose();
      tf.dispose([image, sm.image]);
    });
  }

  it('one-shot calls free their lattice after the backward pass (either backward), not before', () => {
    const { image, probs, shape } = setup(71, lat);
    const s = tf.tensor(probs(), shape);
    const spy = vi.spyOn(PermutohedralLattice.prototype, 'dispose');
    try {
      // forward only: the lattice waits for a backward pass (or GC)
      tf.dispose(denseCrfLoss(s, image, { backward: 'symmetric' }));
      expect(spy).toHaveBeenCalledTimes(0);
      let g = tf.zeros([1]);
      for (const backward of ['symmetric', 'exact'] as const) {
        spy.mockClear();
        let calledBeforeBackward = -1;
        g.dispose();
        g = tf.grad((x: tf.Tensor) => {
          const l = tf.sum(normalizedCutLoss(x, image, { backward }));
          calledBeforeBackward = spy.mock.calls.length;
          return l;
        })(s);
        expect(calledBeforeBackward).toBe(0);
        expect(spy).toHaveBeenCalledTimes(lat.n);
      }
      g.dispose();
      spy.mockClear();
      const kernel = denseCrfKernel(image);
      tf.dispose(tf.grad((x: tf.Tensor) => tf.sum(denseCrfLoss(x, kernel)))(s));
      expect(spy).toHaveBeenCalledTimes(0); // a caller's kernel is the caller's to dispose
      kernel.dispose();
      kernel.dispose();
      expect(spy).toHaveBeenCalledTimes(lat.n);
    } finally {
      spy.mockRestore();
      tf.dispose([s, image]);
    }
  });

  it('disposal: the losses refuse a disposed kernel, and a backward pass after the kernel was disposed', () => {
    const { image, probs, shape } = setup(73, lat);
    const s = tf.tensor(probs(), shape);
    const kernel = denseCrfKernel(image, { scale: 0.5 });
    expect(kernel.disposed).toBe(false);
    expect([kernel.gridHeight, kernel.gridWidth]).toEqual([12, 10]);
    const disposeInside = (backward: DenseLossOptions['backward']) =>
      tf.grad((x: tf.Tensor) => {
        const k = denseCrfKernel(image, { scale: 0.5 });
        const l = tf.sum(denseCrfLoss(x, k, { backward }));
        k.dispose();
        return l;
      })(s);
    // both backward passes slice on the lattice
    for (const backward of ['exact', 'symmetric'] as const) {
      expectThrow(
        () => disposeInside(backward),
        SegValueError,
        'denseCrfLoss: the kernel was disposed before the backward pass',
      );
    }
    kernel.dispose();
    expect(kernel.disposed).toBe(true);
    expectThrow(
      () => denseCrfLoss(s, kernel),
      SegValueError,
      'denseCrfLoss: the kernel was disposed',
    );
    expectThrow(
      () => normalizedCutLoss(s, kernel),
      SegValueError,
      'normalizedCutLoss: the kernel was disposed',
    );
    tf.dispose([s, image]);
  });

  it('does not leak tensors', async () => {
    const { image, probs, shape } = setup(79, lat);
    const s = tf.tensor(probs(), shape);
    await expectNoLeaks(() => denseCrfKernel(image, { scale: 0.5 }).dispose());
    await expectNoLeaks(() => denseCrfKernel(image, { method: 'exact', scale: 0.5 }).dispose());
    const kernel = denseCrfKernel(image);
    for (const f of [denseCrfLoss, normalizedCutLoss]) {
      for (const backward of ['exact', 'symmetric'] as const) {
        await expectNoLeaks(() => f(s, kernel, { reduction: 'mean', backward }));
        await expectNoLeaks(() =>
          tf.grad((x: tf.Tensor) => f(x, kernel, { reduction: 'sum', backward }))(s),
        );
      }
    }
    kernel.dispose();
    tf.dispose([s, image]);
  });

  it('rejects bad input with exact messages', () => {
    const img = tf.zeros([1, 2, 2, 3]);
    const kernel = denseCrfKernel(img);
    const s = tf.fill([1, 2, 2, 2], 0.5);
    expectThrow(
      () => denseCrfLoss(s, kernel, { sigmaRgb: 15 }),
      SegValueError,
      'denseCrfLoss: sigmaRgb is given with a kernel, which fixes it; set it in denseCrfKernel',
    );
    expectThrow(
      () => normalizedCutLoss(s, kernel, { scale: 1 }),
      SegValueError,
      'normalizedCutLoss: scale is given with a kernel, which fixes it; set it in denseCrfKernel',
    );
    expectThrow(
      () => denseCrfLoss(tf.fill([1, 2, 3, 2], 0.5), kernel),
      SegShapeError,
      "denseCrfLoss: probs has shape [1,2,3,2], expected [1,2,2,K] (the kernel's images)",
    );
    expectThrow(
      () => denseCrfLoss(s, kernel, { backward: 'fast' as never }),
      SegValueError,
      "denseCrfLoss: backward is \"fast\", expected 'exact' or 'symmetric'",
    );
    expectThrow(
      () => denseCrfKernel(tf.zeros([2, 2, 3])),
      SegShapeError,
      'denseCrfKernel: image has shape [2,2,3], expected [N,H,W,3] with N, H, W ≥ 1',
    );
    expectThrow(
      () => denseCrfKernel(tf.zeros([1, 2, 2, 3], 'bool')),
      SegShapeError,
      'denseCrfKernel: image has dtype bool, expected float32 or int32',
    );
    expectThrow(
      () => denseCrfKernel(tf.fill([1, 2, 2, 3], 300)),
      SegValueError,
      'denseCrfKernel: image[0] is 300, expected a value in [0, 255]',
    );
    expectThrow(
      () => denseCrfKernel(img, { sigmaXy: 0 }),
      SegValueError,
      'denseCrfKernel: sigmaXy is 0, expected a finite number ≥ 5e-324',
    );
    expectThrow(
      () => denseCrfKernel(img, { method: 'fast' as never }),
      SegValueError,
      "denseCrfKernel: method is \"fast\", expected 'lattice' or 'exact'",
    );
    expectThrow(
      () => denseCrfKernel(tf.zeros([1, 65, 64, 3]), { method: 'exact' }),
      SegRangeError,
      "denseCrfKernel: method 'exact' takes at most 4096 pixels per image (after scale), got 4160 (65×64); use method 'lattice' or a smaller scale",
    );
    // probabilities checked inside the forward's loop with a kernel: the same messages, the first bad entry
    const k2 = denseCrfKernel(tf.zeros([2, 2, 2, 3]));
    const k2half = denseCrfKernel(tf.zeros([2, 2, 2, 3]), { scale: 0.5 });
    const p = new Float32Array(16).fill(0.5);
    const bad = (i: number, v: number) => {
      const q = p.slice();
      q[i] = v;
      return tf.tensor4d(q, [2, 2, 2, 2]);
    };
    for (const k of [k2, k2half]) {
      expectThrow(
        () => denseCrfLoss(bad(12, 0.3), k),
        SegValueError,
        'denseCrfLoss: probs at example 1, pixel (y=1, x=0) sums to 0.800000011920929, expected 1 (±0.001)',
      );
      expectThrow(
        () => normalizedCutLoss(bad(9, -0.5), k),
        SegValueError,
        'normalizedCutLoss: probs[9] is -0.5, expected a probability ≥ 0',
      );
      expectThrow(
        () => denseCrfLoss(bad(3, Number.NaN), k),
        SegValueError,
        'denseCrfLoss: probs[3] is NaN, expected a finite number',
      );
      expectThrow(
        () => denseCrfLoss(bad(5, Number.POSITIVE_INFINITY), k),
        SegValueError,
        'denseCrfLoss: probs[5] is Infinity, expected a finite number',
      );
    }
    // K = 6: bad entries in a four-channel SIMD chunk (channel 1) and in the scalar tail (channel 5)
    const p6 = new Float32Array(2 * 2 * 2 * 6).fill(1 / 6);
    const bad6 = (i: number, v: number) => {
      const q = p6.slice();
      q[i] = v;
      return tf.tensor4d(q, [2, 2, 2, 6]);
    };
    for (const [i, at] of [
      [6 * 5 + 1, 'example 1, pixel (y=0, x=1)'],
      [6 * 6 + 5, 'example 1, pixel (y=1, x=0)'],
    ] as const) {
      expectThrow(
        () => denseCrfLoss(bad6(i, Number.NaN), k2),
        SegValueError,
        `denseCrfLoss: probs[${i}] is NaN, expected a finite number`,
      );
      expectThrow(
        () => denseCrfLoss(bad6(i, Number.NEGATIVE_INFINITY), k2),
        SegValueError,
        `denseCrfLoss: probs[${i}] is -Infinity, expected a finite number`,
      );
      expectThrow(
        () => denseCrfLoss(bad6(i, -0.1), k2),
        SegValueError,
        `denseCrfLoss: probs[${i}] is -0.10000000149011612, expected a probability ≥ 0`,
      );
      expectThrow(
        () => denseCrfLoss(bad6(i, 0.5), k2),
        SegValueError,
        `denseCrfLoss: probs at ${at} sums to 1.333333358168602, expected 1 (±0.001)`,
      );
    }
    tf.dispose(denseCrfLoss(tf.tensor4d(p6, [2, 2, 2, 6]), k2));
    k2.dispose();
    k2half.dispose();
    kernel.dispose();
    tf.dispose([img, s]);
  });
});

describeBackends('denseCrfKernel on bad input', () => {
  it('refuses σ too small for the lattice, null options and disposed tensors', async () => {
    const img = tf.zeros([1, 4, 3, 3]);
    await expectNoLeaks(() => {
      // 255/σ_rgb and max(H,W)/σ_xy are bounded by 2^24 (the lattice trapped in wasm with
      // "float unrepresentable in integer range"; 'exact' returned NaN)
      expectThrow(
        () => denseCrfKernel(img, { sigmaRgb: 1e-20 }),
        SegValueError,
        'denseCrfKernel: sigmaRgb is 1e-20, expected a finite number ≥ 0.00001519918441772461',
      );
      expectThrow(
        () => denseCrfKernel(img, { sigmaXy: 1e-300, method: 'exact' }),
        SegValueError,
        'denseCrfKernel: sigmaXy is 1e-300, expected a finite number ≥ 2.384185791015625e-7',
      );
      expectThrow(
        () => denseCrfKernel(img, { sigmaXy: 1e-6, scale: 1e-320 }),
        SegValueError,
        'denseCrfKernel: sigmaXy·scale is 0 (sigmaXy = 0.000001, scale = 1e-320), expected > 0',
      );
      expectThrow(
        () => denseCrfKernel(img, null as never),
        SegValueError,
        'denseCrfKernel: options is null, expected an object',
      );
      const s = tf.fill([1, 4, 3, 2], 0.5);
      expectThrow(
        () => denseCrfLoss(s, img, { sigmaRgb: 1e-20 }),
        SegValueError,
        'denseCrfLoss: sigmaRgb is 1e-20, expected a finite number ≥ 0.00001519918441772461',
      );
      expectThrow(
        () => normalizedCutLoss(s, img, null as never),
        SegValueError,
        'normalizedCutLoss: options is null, expected an object',
      );
      const gone = tf.zeros([1, 4, 3, 3]);
      gone.dispose();
      expectThrow(
        () => denseCrfKernel(gone),
        SegValueError,
        'denseCrfKernel: image is a disposed tf.Tensor',
      );
      // the smallest σ's allowed still give a finite loss
      const k = denseCrfKernel(img, { sigmaRgb: 255 / 2 ** 24, sigmaXy: 4 / 2 ** 24 });
      const v = denseCrfLoss(s, k);
      expect(Number.isFinite(v.dataSync()[0])).toBe(true);
      k.dispose();
      tf.dispose([s, v]);
    });
    img.dispose();
  });
});
