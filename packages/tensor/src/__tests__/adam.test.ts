// SegAdam against tf.train.adam: the same parameters bit for bit, the same
// weights for checkpoints, no tensor left behind.
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { SegValueError } from '../errors.js';
import { SegAdam, segAdam } from '../optim/adam.js';
import { describeBackends, expectNoLeaks, expectThrow } from '../testing/index.js';
import { expectSameSteps, optimizerProblem } from './fixtures/optimizer-problem.js';

describeBackends('SegAdam', () => {
  it('gives the parameters of tf.train.adam, bit for bit, step after step', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.constantFrom(1e-3, 0.01, 0.3),
        fc.constantFrom(0.9, 0.5),
        fc.constantFrom(0.999, 0.9),
        (seed, lr, b1, b2) => {
          expectSameSteps(tf.train.adam(lr, b1, b2), segAdam(lr, b1, b2), seed, 3, 6);
        },
      ),
      { numRuns: 20 },
    );
  });

  it('trades weights with tf.train.adam: a run resumed across the two ends where it would have', async () => {
    const a = optimizerProblem(5, 3, 'ra');
    const b = optimizerProblem(5, 3, 'rb');
    const ref = tf.train.adam(0.05);
    const ours = segAdam(0.05);
    for (let s = 0; s < 3; s++) ref.minimize(a.loss, false, a.vars);
    // b takes a's parameters and Adam's weights, renamed to its variables
    b.vars.forEach((v, i) => {
      v.assign(a.vars[i]!);
    });
    const weights = await ref.getWeights();
    const [na, nb] = [a.vars[0]!.name.replace(/-w$/, ''), b.vars[0]!.name.replace(/-w$/, '')];
    await ours.setWeights(weights.map((w) => ({ ...w, name: w.name.replace(na, nb) })));
    for (let s = 0; s < 3; s++) {
      ref.minimize(a.loss, false, a.vars);
      ours.minimize(b.loss, false, b.vars);
    }
    a.vars.forEach((v, i) => {
      const got = b.vars[i]!.dataSync();
      const want = v.dataSync();
      for (let j = 0; j < want.length; j++) expect(got[j]).toBeCloseTo(want[j]!, 5);
    });
    // and back: SegAdam's weights have tfjs's names and order
    const mine = await ours.getWeights();
    expect(mine.map((w) => w.name)).toEqual([
      'iter',
      `${nb}-w/m`,
      `${nb}-b/m`,
      `${nb}-w/v`,
      `${nb}-b/v`,
    ]);
    expect(mine[1]!.tensor.shape).toEqual([3, 4]);
    tf.dispose(weights.map((w) => w.tensor));
    ref.dispose();
    // the optimizer's own tensors go with it
    const held = tf.memory().numTensors;
    ours.dispose();
    expect(tf.memory().numTensors).toBe(held - mine.length);
    tf.dispose([...a.vars, ...b.vars, a.x, b.x]);
  });

  it('leaves no tensor behind, and refuses bad arguments clearly', async () => {
    const p = optimizerProblem(9, 3, 'leak');
    const opt = segAdam(0.01);
    opt.minimize(p.loss, false, p.vars);
    await expectNoLeaks(async () => {
      for (let s = 0; s < 3; s++) {
        opt.minimize(p.loss, false, p.vars);
        await opt.getWeights();
      }
      opt.minimize(p.loss, false, p.vars);
    });
    expect(SegAdam.className).toBe('SegAdam');
    const round = SegAdam.fromConfig(SegAdam, opt.getConfig());
    expect(round.getConfig()).toEqual(opt.getConfig());
    expectThrow(
      () => segAdam(Number.NaN),
      SegValueError,
      'SegAdam: learningRate is NaN, expected a finite number',
    );
    expectThrow(
      () => segAdam(0.1, 1.5),
      SegValueError,
      'SegAdam: beta1 is 1.5, expected a finite number ≥ 0 and ≤ 1',
    );
    await expect(
      opt.setWeights([
        { name: 'iter', tensor: tf.scalar(1, 'int32') },
        { name: 'x/m', tensor: tf.zeros([2]) },
      ]),
    ).rejects.toThrow("SegAdam.setWeights: 1 moments, expected as many 'name/m' as 'name/v'");
    opt.dispose();
    tf.dispose([...p.vars, p.x]);
  });
});
