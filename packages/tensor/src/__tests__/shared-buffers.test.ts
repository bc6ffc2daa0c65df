import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { Rng } from '../index.js';
import { describeBackends, expectNoLeaks } from '../testing/index.js';

/** op(a)·op(b) in float64, a [m×k] (stored [k×m] when ta), b [k×n] (stored [n×k] when tb). */
function product(
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
  tb: boolean,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++)
      for (let l = 0; l < k; l++) c[i * n + j]! += a[i * k + l]! * b[tb ? j * k + l : l * n + j]!;
  return c;
}

describeBackends('one buffer shared (wasm: Identity, BatchMatMul)', () => {
  it('a clone holds the values of its source after the source is disposed', async () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = tf.clone(x);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(y.shape).toEqual([2, 3]);
    y.dispose();
    const s = tf.tensor1d(['a', 'b'], 'string');
    const t = tf.clone(s);
    s.dispose();
    expect(t.dataSync()).toEqual(['a', 'b']);
    t.dispose();
  });

  it('tf.matMul is right when a right operand is used again reshaped or cloned (tfjs-backend-wasm caches it by buffer)', () => {
    const a = tf.tensor2d([1, 2], [1, 2]);
    const b = tf.tensor2d([3, 4], [2, 1]);
    const g = tf.tensor2d([5], [1, 1]);
    expect(Array.from(tf.matMul(a, b).dataSync())).toEqual([11]);
    // the same buffer as a [1×2] right operand, directly and through a clone
    expect(Array.from(tf.matMul(g, tf.reshape(b, [1, 2])).dataSync())).toEqual([15, 20]);
    expect(Array.from(tf.matMul(g, tf.reshape(tf.clone(b), [1, 2])).dataSync())).toEqual([15, 20]);
    expect(Array.from(tf.matMul(g, b, false, true).dataSync())).toEqual([15, 20]);
    // and back to the first shape
    expect(Array.from(tf.matMul(a, b).dataSync())).toEqual([11]);
    tf.dispose([a, b, g]);
  });

  it('tf.matMul equals the float64 product over any sequence of shapes one buffer takes', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.array(
          fc.record({
            m: fc.integer({ min: 1, max: 4 }),
            split: fc.integer({ min: 0, max: 3 }),
            tb: fc.boolean(),
          }),
          { minLength: 2, maxLength: 5 },
        ),
        (seed, uses) => {
          // one buffer of 12 floats, read as [k×n] for the k dividing 12
          const rng = new Rng(seed);
          const values = Float32Array.from(rng.normalArray(12));
          const base = tf.tensor1d(values);
          for (const { m, split, tb } of uses) {
            const k = [1, 2, 3, 4][split]!;
            const n = 12 / k;
            const aValues = Float32Array.from(rng.normalArray(m * k));
            const got = tf.tidy(() =>
              tf
                .matMul(
                  tf.tensor2d(aValues, [m, k]),
                  tf.reshape(tf.clone(base), tb ? [n, k] : [k, n]),
                  false,
                  tb,
                )
                .dataSync(),
            );
            const want = product(aValues, values, m, k, n, tb);
            for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
          }
          base.dispose();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('leaks no tensors', async () => {
    const a = tf.tensor2d([1, 2], [1, 2]);
    const b = tf.tensor2d([3, 4], [2, 1]);
    const g = tf.tensor2d([5], [1, 1]);
    tf.matMul(a, b).dispose();
    // a copy of b's buffer is made and released inside the guarded kernel
    await expectNoLeaks(() => tf.tidy(() => tf.matMul(g, tf.reshape(b, [1, 2]))));
    await expectNoLeaks(() => tf.clone(a));
    tf.dispose([a, b, g]);
  });
});
