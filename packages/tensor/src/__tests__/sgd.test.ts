// SegSgd against tf.train.sgd: the same parameters bit for bit (a variable
// small and one of 77 k floats; on the 2-thread build, updates split between
// the threads, lengths not a multiple of 4 included), the same weights, no
// tensor left behind.
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { SegValueError } from '../errors.js';
import { segAxpy } from '../gradients/wasm/matmul.js';
import { SegSgd, segSgd } from '../optim/sgd.js';
import { Rng } from '../rng.js';
import { describeBackends, expectNoLeaks, expectThrow } from '../testing/index.js';
import { expectSameSteps, optimizerProblem } from './fixtures/optimizer-problem.js';

describeBackends('SegSgd', (backend) => {
  it('gives the parameters of tf.train.sgd, bit for bit, step after step', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.constantFrom(1e-3, 0.01, 0.3, 1 / 3),
        fc.constantFrom(5, 19_341),
        (seed, lr, rows) => {
          expectSameSteps(tf.train.sgd(lr), segSgd(lr), seed, rows, 3);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('trades weights with tf.train.sgd (the iteration count) and restores from its config', async () => {
    const ref = tf.train.sgd(0.1);
    const p = optimizerProblem(3, 4, 'w');
    ref.minimize(p.loss, false, p.vars);
    ref.minimize(p.loss, false, p.vars);
    const ours = segSgd(0.1);
    await ours.setWeights(await ref.getWeights());
    expect(ours.iterations).toBe(2);
    const back = tf.train.sgd(0.1);
    await back.setWeights(await ours.getWeights());
    expect(back.iterations).toBe(2);
    const copy = SegSgd.fromConfig(SegSgd, ours.getConfig()) as SegSgd;
    expect(copy.getConfig()).toEqual({ learningRate: 0.1 });
    const extra = [
      { name: 'iter', tensor: tf.scalar(1) },
      { name: 'w/m', tensor: tf.zeros([2]) },
    ];
    await expect(ours.setWeights(extra)).rejects.toThrow(
      "SegSgd.setWeights: 1 weights besides 'iter', expected none (SGD keeps no state)",
    );
    tf.dispose(extra.map((w) => w.tensor));
    tf.dispose([...p.vars, p.x]);
    for (const o of [ref, ours, back, copy]) o.dispose();
  });

  it('rejects a bad learning rate, an unknown variable and a gradient of another size', () => {
    expectThrow(
      () => segSgd(Number.NaN),
      SegValueError,
      'SegSgd: learningRate is NaN, expected a finite number',
    );
    const o = segSgd(0.1);
    const v = tf.variable(tf.zeros([3]), true, 'sgd-bad-variable');
    const g = tf.zeros([4]);
    const h = tf.zeros([3]);
    expectThrow(
      () => o.applyGradients({ 'no-such-variable': h }),
      SegValueError,
      "SegSgd.applyGradients: no variable named 'no-such-variable'",
    );
    expectThrow(
      () => o.applyGradients({ [v.name]: g }),
      SegValueError,
      `SegSgd.applyGradients: the gradient of '${v.name}' has 4 values, expected 3`,
    );
    tf.dispose([v, g, h]);
  });

  it('leaks no tensors', async () => {
    const p = optimizerProblem(9, 19_341, 'l');
    const o = segSgd(0.01);
    o.minimize(p.loss, false, p.vars);
    await expectNoLeaks(() => {
      o.minimize(p.loss, false, p.vars);
    });
    o.dispose();
    tf.dispose([...p.vars, p.x]);
  });

  it.runIf(backend === 'wasm')(
    'updates in parts on the 2-thread build as tfjs does in one (any length, tails included)',
    async () => {
      try {
        await initBackend({ backend: 'wasm', threads: 2 });
        const rng = new Rng(4);
        for (const n of [65_536, 200_003, 7]) {
          const [g, x] = [tf.tensor1d(rng.normalArray(n)), tf.tensor1d(rng.normalArray(n))];
          const c = Math.fround(-0.37);
          const ours = segAxpy(c, g, x)!;
          const ref = tf.tidy(() => tf.add(tf.mul(tf.scalar(c), g), x));
          expect(Array.from(ours.dataSync())).toEqual(Array.from(ref.dataSync()));
          tf.dispose([g, x, ours, ref]);
        }
      } finally {
        await initBackend({ backend: 'wasm', threads: 1 });
      }
    },
  );
});
