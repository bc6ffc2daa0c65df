import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { Rng } from '../index.js';
import {
  describeBackends,
  expectNoLeaks,
  maxNormRelativeError as relErr,
} from '../testing/index.js';

/**
 * Gradients of L = Σ G ⊙ op(A)·op(B) in float64: dop(A) = G·op(B)ᵀ and
 * dop(B) = op(A)ᵀ·G, then transposed back where op transposes.
 */
function reference(
  a: Float32Array,
  b: Float32Array,
  g: Float32Array,
  batch: number,
  m: number,
  k: number,
  n: number,
  ta: boolean,
  tb: boolean,
): [Float64Array, Float64Array] {
  // op(A)[i,l] and op(B)[l,j] indices into the stored (possibly transposed) arrays.
  const ai = (s: number, i: number, l: number) => s * m * k + (ta ? l * m + i : i * k + l);
  const bi = (s: number, l: number, j: number) => s * k * n + (tb ? j * k + l : l * n + j);
  const da = new Float64Array(a.length);
  const db = new Float64Array(b.length);
  for (let s = 0; s < batch; s++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        const gij = g[(s * m + i) * n + j]!;
        for (let l = 0; l < k; l++) {
          da[ai(s, i, l)]! += gij * b[bi(s, l, j)]!;
          db[bi(s, l, j)]! += gij * a[ai(s, i, l)]!;
        }
      }
  return [da, db];
}

const caseArb = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  m: fc.integer({ min: 1, max: 6 }),
  k: fc.integer({ min: 1, max: 6 }),
  n: fc.integer({ min: 1, max: 6 }),
  ta: fc.boolean(),
  tb: fc.boolean(),
  rank3: fc.boolean(),
  seed: fc.integer(),
});

describeBackends('BatchMatMul gradient', () => {
  it('equals the float64 products for every transpose combination (1e-5 relative)', () => {
    fc.assert(
      fc.property(caseArb, ({ batch, m, k, n, ta, tb, rank3, seed }) => {
        const bs = rank3 ? batch : 1;
        const rng = new Rng(seed);
        const as = rng.normalArray(bs * m * k);
        const bv = rng.normalArray(bs * k * n);
        const gs = rng.normalArray(bs * m * n);
        const shape = (r: number, c: number) => (rank3 ? [bs, r, c] : [r, c]);
        const [ga, gb] = tf.tidy(() => {
          const A = tf.tensor(as, ta ? shape(k, m) : shape(m, k));
          const B = tf.tensor(bv, tb ? shape(n, k) : shape(k, n));
          const G = tf.tensor(gs, shape(m, n));
          const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), G));
          return tf
            .grads(f)([A, B])
            .map((t) => t.dataSync().slice());
        });
        const [ra, rb] = reference(as, bv, gs, bs, m, k, n, ta, tb);
        expect(relErr(ga!, ra)).toBeLessThan(1e-5);
        expect(relErr(gb!, rb)).toBeLessThan(1e-5);
      }),
      { numRuns: 60 },
    );
  });

  it('leaks no tensors', async () => {
    const A = tf.ones([3, 4]);
    const B = tf.ones([5, 4]);
    await expectNoLeaks(() =>
      tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y, false, true)))([A, B]),
    );
    tf.dispose([A, B]);
  });
});
