import { createModel } from '@seg/dense-conv';
import { Rng, SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import { describeBackends, expectNoLeaks, expectThrow } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  applyUpdates,
  assignUpdates,
  chain,
  momentum,
  pathSgd,
  scaleByLearningRate,
  scaleByPathNorm,
  type TensorRecord,
  trace,
} from '../index.js';
import { mlpSpec } from './nets.js';

function record(values: Record<string, number[]>): TensorRecord {
  const out: TensorRecord = {};
  for (const [n, v] of Object.entries(values)) out[n] = tf.tensor1d(v);
  return out;
}

function read(r: TensorRecord): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [n, t] of Object.entries(r)) out[n] = Array.from(t.dataSync());
  return out;
}

describeBackends('transforms', () => {
  it('chain(trace, scaleByLearningRate(schedule)) equals the momentum recurrence', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        fc.boolean(),
        (seed, decay, nesterov) => {
          const rng = new Rng(seed);
          const schedule = (step: number) => 0.1 / (1 + step);
          const opt = chain(trace({ decay, nesterov }), scaleByLearningRate(schedule));
          const params = record({ a: [0, 0, 0], b: [1] });
          let state = opt.init(params);
          const t = { a: [0, 0, 0], b: [0] };
          const p = { a: [0, 0, 0], b: [1] };
          let current = params;
          for (let step = 0; step < 4; step++) {
            const g = { a: Array.from(rng.normalArray(3)), b: [rng.normal()] };
            for (const k of ['a', 'b'] as const) {
              for (let i = 0; i < g[k].length; i++) {
                t[k][i] = Math.fround(g[k][i]!) + decay * t[k][i]!;
                const dir = nesterov ? Math.fround(g[k][i]!) + decay * t[k][i]! : t[k][i]!;
                p[k][i] = p[k][i]! - schedule(step) * dir;
              }
            }
            const grads = record(g);
            const [updates, next] = opt.update(grads, state, current);
            state = next;
            const updated = applyUpdates(current, updates);
            tf.dispose([grads, updates, current]);
            current = updated;
          }
          const got = read(current);
          for (const k of ['a', 'b'] as const) {
            got[k]!.forEach((v, i) => {
              expect(v).toBeCloseTo(p[k][i]!, 4);
            });
          }
          tf.dispose([current, state]);
        },
      ),
      { numRuns: 10 },
    );
  });

  it('momentum(decay) is trace({ decay })', () => {
    const g = record({ w: [1, -2] });
    const m = momentum(0.5);
    let s = m.init(g);
    let out: TensorRecord = {};
    for (let i = 0; i < 3; i++) {
      tf.dispose(out);
      [out, s] = m.update(g, s);
    }
    expect(read(out).w).toEqual([1.75, -3.5]);
    tf.dispose([g, out, s]);
  });

  it('scaleByPathNorm passes unknown names through and needs params', () => {
    const spec = mlpSpec([2, 2]);
    const params = {
      'fc1/weight': tf.tensor2d([
        [1, 2],
        [3, 4],
      ]),
      'fc1/bias': tf.tensor1d([0.5, 1]),
    };
    const t = scaleByPathNorm({ spec });
    const s = t.init(params);
    const grads = {
      'fc1/weight': tf.ones([2, 2]),
      'fc1/bias': tf.ones([2]),
      other: tf.tensor1d([7]),
    };
    const [u] = t.update(grads, s, params);
    // one layer: γ(w) = γ_in(input) · γ_out(output) = 1, γ(bias) = 1
    expect(read(u)).toEqual({ 'fc1/weight': [1, 1, 1, 1], 'fc1/bias': [1, 1], other: [7] });
    expect(u.other).not.toBe(grads.other);
    expect(() => t.update(grads, s)).toThrow(
      'scaleByPathNorm: update needs params (the current parameter values)',
    );
    tf.dispose([u, grads, params]);
  });

  it('does not leak tensors', async () => {
    const params = record({ a: [1, 2], b: [3] });
    const opt = chain(momentum(0.9, true), scaleByLearningRate(0.1));
    let state = opt.init(params);
    await expectNoLeaks(() => {
      for (let i = 0; i < 3; i++) {
        const [u, s] = opt.update(params, state, params);
        state = s;
        const next = applyUpdates(params, u);
        tf.dispose([u, next]);
      }
    });
    const v = { a: tf.variable(tf.tensor1d([1, 2])) };
    await expectNoLeaks(() => assignUpdates(v, { a: params.a! }));
    expect(read(v)).toEqual({ a: [2, 4] });
    tf.dispose([params, state, v.a]);
  });

  it('rejects bad input with clear messages', () => {
    expect(() => trace({ decay: 1.5 })).toThrow(
      'trace: options.decay is 1.5, expected a finite number ≥ 0 and ≤ 1',
    );
    expect(() => scaleByLearningRate('fast' as never)).toThrow(
      'scaleByLearningRate: learningRate is fast, expected a number or a schedule (step) => number',
    );
    const bad = scaleByLearningRate(() => Number.NaN);
    const p = record({ a: [1] });
    expect(() => bad.update(p, bad.init(p))).toThrow(
      'scaleByLearningRate.update: learningRate(0) is NaN, expected a finite number ≥ 0',
    );
    expect(() => chain({} as never)).toThrow(
      'chain: transforms[0] is not a gradient transformation',
    );
    expect(() => chain(momentum(0.1)).update(p, [] as never)).toThrow(
      'chain.update: state has length 0, expected 1',
    );
    expect(() => assignUpdates({}, p)).toThrow(
      "assignUpdates: updates has 'a', which is not a variable",
    );
    expect(() => scaleByPathNorm({ spec: mlpSpec([2, 2]) }, { epsilon: -1 })).toThrow(
      'scaleByPathNorm: options.epsilon is -1, expected a finite number ≥ 1.1754943508222875e-38',
    );
    tf.dispose(p);
  });

  it('rejects updates that do not match the parameters, and bad momentum', () => {
    const params = { a: tf.zeros([3, 2]) };
    const short = { a: tf.ones([1]) };
    expectThrow(
      () => applyUpdates(params, short),
      SegShapeError,
      "applyUpdates: updates['a'] has shape [1], expected [3,2]",
    );
    expectThrow(
      () => applyUpdates(params, { b: short.a }),
      SegValueError,
      "applyUpdates: updates has 'b', which is not in params",
    );
    expectThrow(
      () => applyUpdates(null as never, {}),
      SegValueError,
      'applyUpdates: params is null, expected a record of tensors',
    );
    const v = { a: tf.variable(tf.zeros([3, 2])) };
    expectThrow(
      () => assignUpdates(v, short),
      SegShapeError,
      "assignUpdates: updates['a'] has shape [1], expected [3,2]",
    );
    expect(Array.from(v.a.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    const spec = mlpSpec([3, 2]);
    const model = createModel(spec, 1);
    const t = scaleByPathNorm(model);
    const s = t.init(model.params);
    expectThrow(
      () => t.update({ 'fc1/weight': short.a }, s, model.params),
      SegShapeError,
      "scaleByPathNorm.update: updates['fc1/weight'] has shape [1], expected [3,2]",
    );
    expectThrow(
      () => pathSgd(model, 0.1, { momentum: Number.NaN }),
      SegValueError,
      'pathSgd: options.momentum is NaN, expected a finite number ≥ 0 and ≤ 1',
    );
    expectThrow(
      () => pathSgd(model, 0.1, { momentum: -0.5 }),
      SegValueError,
      'pathSgd: options.momentum is -0.5, expected a finite number ≥ 0 and ≤ 1',
    );
    expectThrow(
      () => pathSgd(model, 0.1, null as never),
      SegValueError,
      'pathSgd: options is null, expected an object',
    );
    for (const momentum of [0, 0.9]) {
      // named pathSgd with or without momentum (which chains the parts)
      expectThrow(
        () => pathSgd(model, 'fast' as never, { momentum }),
        SegValueError,
        'pathSgd: learningRate is fast, expected a number or a schedule (step) => number',
      );
      expectThrow(
        () => pathSgd(model, 0.1, { momentum, refreshEvery: 1.5 }),
        SegRangeError,
        'pathSgd: options.refreshEvery is 1.5, expected an integer ≥ 1',
      );
    }
    const fused = pathSgd(model, () => Number.NaN);
    const g = { 'fc1/weight': tf.ones([3, 2]), 'fc1/bias': tf.ones([2]) };
    expectThrow(
      () => fused.update(g, [fused.init(model.params)[0]!], model.params),
      SegValueError,
      'pathSgd.update: state has length 1, expected 2',
    );
    expectThrow(
      () => fused.update(g, fused.init(model.params), model.params),
      SegValueError,
      'pathSgd.update: learningRate(0) is NaN, expected a finite number ≥ 0',
    );
    tf.dispose(g);
    expectThrow(
      () => trace({ decay: 0.5, nesterov: 'yes' as never }),
      SegValueError,
      'trace: options.nesterov is "yes", expected true or false',
    );
    tf.dispose([params, short, v.a]);
    model.dispose();
  });
});
