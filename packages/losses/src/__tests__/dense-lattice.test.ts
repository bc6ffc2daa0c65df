import { PermutohedralLattice } from '@seg/crf-solvers';
import { Rng } from '@seg/tensor';
import { describeBackends, expectNoLeaks } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { bilateralFeatureArray } from '../dense-crf/affinity.js';
import { denseCrfKernel, denseCrfLoss, normalizedCutLoss } from '../index.js';
import {
  randomCoefficients,
  randomImage,
  randomLogits,
  softmaxRows,
  tfGradient,
} from './helpers.js';

// The lattice path against the exact O(N²) path on images of 480–1200 pixels.
// Documented tolerances (README; measured: values within 1.2 %, gradients
// within 12 % in the relative ℓ2 norm, 20 % for their part tangent to the
// simplex): values within 3 %, gradients within 20 % (30 % tangent). The
// lattice's gradient is the exact gradient of the lattice's own forward
// (directional derivative within 1 %).
const dims = { n: 2, h: 24, w: 20, k: 3 };
const shape = [dims.n, dims.h, dims.w, dims.k];
const P = dims.n * dims.h * dims.w;

function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

/** The gradient with its per-pixel mean over labels removed: the part a softmax passes on. */
function tangent(g: Float32Array): Float32Array {
  const out = new Float32Array(g.length);
  for (let o = 0; o < g.length; o += dims.k) {
    let m = 0;
    for (let c = 0; c < dims.k; c++) m += g[o + c]!;
    m /= dims.k;
    for (let c = 0; c < dims.k; c++) out[o + c] = g[o + c]! - m;
  }
  return out;
}

describeBackends('denseCrfLoss / normalizedCutLoss (lattice)', () => {
  for (const kind of ['crf', 'ncut'] as const) {
    for (const o of [
      { sigmaXy: 100, sigmaRgb: 15, scale: 1 },
      { sigmaXy: 5, sigmaRgb: 30, scale: 1 },
      { sigmaXy: 100, sigmaRgb: 15, scale: 0.5 },
    ]) {
      it(`${kind} ≈ the exact sum (σxy ${o.sigmaXy}, σrgb ${o.sigmaRgb}, scale ${o.scale})`, () => {
        const rng = new Rng(o.sigmaXy + o.sigmaRgb + kind.length + o.scale * 7);
        const img = tf.tensor4d(randomImage(rng, dims.n, dims.h, dims.w), [
          dims.n,
          dims.h,
          dims.w,
          3,
        ]);
        const s = softmaxRows(randomLogits(rng, P * dims.k, 2), dims.k);
        const coef = randomCoefficients(rng, dims.n);
        const f = kind === 'crf' ? denseCrfLoss : normalizedCutLoss;
        const lat = tfGradient((x) => f(x, img, { ...o, method: 'lattice' }), s, shape, coef);
        const ex = tfGradient((x) => f(x, img, { ...o, method: 'exact' }), s, shape, coef);
        for (let e = 0; e < dims.n; e++) {
          expect(Math.abs(lat.value[e]! - ex.value[e]!) / Math.abs(ex.value[e]!)).toBeLessThan(
            0.03,
          );
        }
        expect(relL2(lat.grad, ex.grad)).toBeLessThan(0.2);
        expect(relL2(tangent(lat.grad), tangent(ex.grad))).toBeLessThan(0.3);
        img.dispose();
      });
    }

    it(`${kind}: the gradient is exact for the lattice's own forward (directional derivative)`, () => {
      const rng = new Rng(kind.length);
      const img = tf.tensor4d(randomImage(rng, 1, dims.h, dims.w), [1, dims.h, dims.w, 3]);
      const m = dims.h * dims.w;
      const s = softmaxRows(randomLogits(rng, m * dims.k, 2), dims.k);
      const f = kind === 'crf' ? denseCrfLoss : normalizedCutLoss;
      const { grad } = tfGradient(
        (x) => f(x, img, { sigmaXy: 8, sigmaRgb: 20 }),
        s,
        [1, dims.h, dims.w, dims.k],
        [1],
      );
      // a direction that keeps every pixel on the simplex (zero sum per pixel)
      const v = new Float32Array(m * dims.k);
      for (let p = 0; p < m; p++) {
        const a = (2 * rng.uniform() - 1) * Math.min(s[p * dims.k]!, s[p * dims.k + 1]!);
        v[p * dims.k] = a;
        v[p * dims.k + 1] = -a;
      }
      const eps = 0.5;
      const at = (t: number) =>
        tf.tidy(() => {
          const x = s.map((si, i) => si + t * v[i]!);
          return f(tf.tensor4d(x, [1, dims.h, dims.w, dims.k]), img, {
            sigmaXy: 8,
            sigmaRgb: 20,
          }).dataSync()[0]!;
        });
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      const analytic = grad.reduce((acc, g, i) => acc + g * v[i]!, 0);
      expect(Math.abs(numeric - analytic) / Math.abs(analytic)).toBeLessThan(1e-2);
      img.dispose();
    });
  }

  it('the fused path (forms on the vertices, one slice) equals the loss written with two filterings', () => {
    // Reference: the definitions on the lattice's filter, W·S, Wᵀ·S (reversed) and d = W·1,
    // in float64 from its float32 outputs; K = 21 exercises the kernels' tail of one channel.
    const rng = new Rng(31);
    const [h, w] = [14, 17];
    const m = h * w;
    for (const k of [3, 21]) {
      const imgData = randomImage(rng, 2, h, w);
      const img = tf.tensor4d(imgData, [2, h, w, 3]);
      const s = softmaxRows(randomLogits(rng, 2 * m * k, 2), k);
      const coef = randomCoefficients(rng, 2);
      const kernel = denseCrfKernel(img, { sigmaXy: 6, sigmaRgb: 25 });
      for (const kind of ['crf', 'ncut'] as const) {
        for (const backward of ['exact', 'symmetric'] as const) {
          const f = kind === 'crf' ? denseCrfLoss : normalizedCutLoss;
          const got = tfGradient((x) => f(x, kernel, { backward }), s, [2, h, w, k], coef);
          for (let e = 0; e < 2; e++) {
            const lat = new PermutohedralLattice(
              bilateralFeatureArray(imgData, e * m * 3, h, w, 6, 25),
              5,
            );
            const se = s.subarray(e * m * k, (e + 1) * m * k);
            const ws = lat.filter(se, k);
            const wts = backward === 'exact' ? lat.filter(se, k, undefined, { reverse: true }) : ws;
            const d = lat.filter(new Float32Array(m).fill(1), 1);
            let value = 0;
            const ck = new Float64Array(k);
            const dk = new Float64Array(k);
            for (let c = 0; c < k; c++) {
              let a = 0;
              let b = 0;
              for (let p = 0; p < m; p++) {
                a += se[p * k + c]! * (d[p]! - ws[p * k + c]!);
                b += se[p * k + c]! * d[p]!;
              }
              value += kind === 'crf' ? a : a / b;
              ck[c] = kind === 'crf' ? coef[e]! : coef[e]! / b;
              dk[c] = kind === 'crf' ? 0 : (-coef[e]! * a) / (b * b);
            }
            expect(Math.abs(got.value[e]! - value)).toBeLessThan(1e-5 * Math.abs(value));
            let err = 0;
            let size = 0;
            for (let p = 0; p < m; p++) {
              for (let c = 0; c < k; c++) {
                const i = p * k + c;
                const want = ck[c]! * (d[p]! - ws[i]! - wts[i]!) + dk[c]! * d[p]!;
                err = Math.max(err, Math.abs(got.grad[e * m * k + i]! - want));
                size = Math.max(size, Math.abs(want));
              }
            }
            expect(err).toBeLessThan(1e-4 * size);
            lat.dispose();
          }
        }
      }
      kernel.dispose();
      img.dispose();
    }
  });

  it('does not leak', async () => {
    const rng = new Rng(5);
    const img = tf.tensor4d(randomImage(rng, dims.n, dims.h, dims.w), [dims.n, dims.h, dims.w, 3]);
    const s = tf.tensor4d(
      softmaxRows(randomLogits(rng, P * dims.k), dims.k),
      shape as [number, number, number, number],
    );
    for (const f of [denseCrfLoss, normalizedCutLoss]) {
      await expectNoLeaks(() => f(s, img, { reduction: 'mean' }));
      await expectNoLeaks(() => tf.grad((x: tf.Tensor) => f(x, img, { reduction: 'sum' }))(s));
    }
    tf.dispose([img, s]);
  });
});
