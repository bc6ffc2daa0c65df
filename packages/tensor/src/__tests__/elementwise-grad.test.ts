import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { Rng } from '../index.js';
import { describeBackends, expectNoLeaks } from '../testing/index.js';

/** A shape of rank 1–4 and one broadcast to it: some axes dropped in front, some set to 1. */
const broadcastArb = fc
  .record({
    out: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
    drop: fc.integer({ min: 0, max: 4 }),
    ones: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    swap: fc.boolean(),
    seed: fc.integer(),
  })
  .map(({ out, drop, ones, swap, seed }) => {
    const kept = out.slice(Math.min(drop, out.length - 1));
    const small = kept.map((d, i) => (ones[i] ? 1 : d));
    return { out, small, swap, seed };
  });

/** Σ of g over the axes `small` was broadcast along (float64), in `small`'s layout. */
function reduceTo(g: Float32Array, out: number[], small: number[]): Float64Array {
  const r = new Float64Array(small.reduce((p, d) => p * d, 1));
  const lead = out.length - small.length;
  const idx = new Array<number>(out.length).fill(0);
  for (let i = 0; i < g.length; i++) {
    let rest = i;
    for (let a = out.length - 1; a >= 0; a--) {
      idx[a] = rest % out[a]!;
      rest = Math.floor(rest / out[a]!);
    }
    let j = 0;
    for (let a = 0; a < small.length; a++)
      j = j * small[a]! + (small[a] === 1 ? 0 : idx[a + lead]!);
    r[j]! += g[i]!;
  }
  return r;
}

describeBackends('Relu and Add gradients', () => {
  it('Relu: dy · step(x), −0, 0 and NaN included', () => {
    const x = tf.tensor1d([-2, -0, 0, 1e-30, 3, Number.NaN, -1e-30, 5]);
    const dy = tf.tensor1d([1, 2, 3, 4, 5, 6, 7, Number.NaN]);
    const [g] = tf.grads((v: tf.Tensor) => tf.sum(tf.mul(tf.relu(v), dy)))([x]);
    const got = Array.from(g!.dataSync());
    expect(got.slice(0, 5)).toEqual([0, 0, 0, 4, 5]);
    expect(got[5]).toBeNaN();
    expect(got[6]).toBe(0);
    expect(got[7]).toBeNaN();
    tf.dispose([x, dy, g!]);
  });

  it('Add: each operand gets dy summed over the axes it was broadcast along', () => {
    fc.assert(
      fc.property(broadcastArb, ({ out, small, swap, seed }) => {
        const rng = new Rng(seed);
        const n = out.reduce((p, d) => p * d, 1);
        const gv = Float32Array.from(rng.normalArray(n));
        const [dBig, dSmall] = tf.tidy(() => {
          const big = tf.tensor(rng.normalArray(n), out);
          const sm = tf.tensor(rng.normalArray(small.reduce((p, d) => p * d, 1)), small);
          const G = tf.tensor(gv, out);
          const f = (p: tf.Tensor, q: tf.Tensor) =>
            tf.sum(tf.mul(swap ? tf.add(q, p) : tf.add(p, q), G));
          return tf
            .grads(f)([big, sm])
            .map((t) => ({ shape: t.shape, v: t.dataSync().slice() }));
        });
        expect(dBig!.shape).toEqual(out);
        expect(Array.from(dBig!.v)).toEqual(Array.from(gv));
        expect(dSmall!.shape).toEqual(small);
        const want = reduceTo(gv, out, small);
        for (let i = 0; i < want.length; i++) expect(dSmall!.v[i]).toBeCloseTo(want[i]!, 4);
      }),
      { numRuns: 80 },
    );
  });

  it('Add: a bias over 100 rows (the dense-conv linear layer) is summed over the rows', () => {
    const rng = new Rng(3);
    const gv = Float32Array.from(rng.normalArray(100 * 7));
    const [db] = tf.tidy(() => {
      const z = tf.tensor2d(rng.normalArray(700), [100, 7]);
      const b = tf.tensor1d(rng.normalArray(7));
      const G = tf.tensor2d(gv, [100, 7]);
      return tf
        .grads((bb: tf.Tensor) => tf.sum(tf.mul(tf.add(z, bb), G)))([b])
        .map((t) => t.dataSync().slice());
    });
    const want = reduceTo(gv, [100, 7], [7]);
    for (let j = 0; j < 7; j++) expect(db![j]).toBeCloseTo(want[j]!, 4);
  });

  it('leaks no tensors', async () => {
    const x = tf.tensor2d([1, -2, 3, -4, 5, 6], [3, 2]);
    const b = tf.tensor1d([1, 2]);
    await expectNoLeaks(() =>
      tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.relu(tf.add(p, q))))([x, b]),
    );
    tf.dispose([x, b]);
  });
});
