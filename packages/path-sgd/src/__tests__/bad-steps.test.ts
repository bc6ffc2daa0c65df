// Steps that would turn parameters into NaN or ∞ (issue 17): refused up
// front (epsilon, learning rate) or before anything is assigned (NaN / ∞
// gradients, overflowing steps).
import { createModel, type Model } from '@seg/dense-conv';
import { SegValueError } from '@seg/tensor';
import { describeBackends, expectNoLeaks, expectThrow } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  assignUpdates,
  MIN_EPSILON,
  PathSgdOptimizer,
  pathSgd,
  scaleByPathNorm,
  type TensorRecord,
} from '../index.js';
import { mlpSpec } from './nets.js';

const EPS_MSG = `expected a finite number ≥ ${MIN_EPSILON}`;

/** A 2-3-2 MLP whose hidden unit 1 is on no path (its incoming weights and bias are 0). */
function deadUnitModel(): Model {
  const model = createModel(mlpSpec([2, 3, 2]), 4);
  const w = model.params['fc1/weight']!;
  const data = w.dataSync().slice();
  for (let i = 1; i < data.length; i += 3) data[i] = 0;
  w.assign(tf.tensor(data, w.shape));
  const b = model.params['fc1/bias']!;
  b.assign(tf.tensor([0.1, 0, 0.1], b.shape));
  return model;
}

function snapshot(model: Model): Record<string, number[]> {
  return Object.fromEntries(
    Object.entries(model.params).map(([n, v]) => [n, Array.from(v.dataSync())]),
  );
}

describeBackends('Path-SGD: no NaN parameters', () => {
  it('refuses epsilon 0 (or below float32’s smallest normal) and a learning rate that floors γ/lr at 0', () => {
    expectThrow(
      () => new PathSgdOptimizer(null, 0.1, { epsilon: 0 }),
      SegValueError,
      `PathSgdOptimizer: options.epsilon is 0, ${EPS_MSG}`,
    );
    expectThrow(
      () => new PathSgdOptimizer(null, 0.1, { epsilon: 1e-45 }),
      SegValueError,
      `PathSgdOptimizer: options.epsilon is 1e-45, ${EPS_MSG}`,
    );
    expectThrow(
      () => scaleByPathNorm({ spec: mlpSpec([2, 2]) }, { epsilon: 0 }),
      SegValueError,
      `scaleByPathNorm: options.epsilon is 0, ${EPS_MSG}`,
    );
    expectThrow(
      () => pathSgd({ spec: mlpSpec([2, 2]) }, 0.1, { epsilon: 0 }),
      SegValueError,
      `pathSgd: options.epsilon is 0, ${EPS_MSG}`,
    );
    expectThrow(
      () => new PathSgdOptimizer(null, 1e30),
      SegValueError,
      `PathSgdOptimizer: learningRate is 1e+30, expected at most epsilon / 2^-126 = ${1e-12 / MIN_EPSILON} (γ/learningRate is floored at epsilon/learningRate, which must stay a normal float32)`,
    );
    const opt = new PathSgdOptimizer(null, 0.1, { epsilon: 1e-30 });
    expectThrow(
      () => opt.setLearningRate(1e10),
      SegValueError,
      `PathSgdOptimizer.setLearningRate: learningRate is 10000000000, expected at most epsilon / 2^-126 = ${1e-30 / MIN_EPSILON} (γ/learningRate is floored at epsilon/learningRate, which must stay a normal float32)`,
    );
  });

  it('keeps a dead unit finite at the smallest epsilon allowed', async () => {
    const model = deadUnitModel();
    const x = tf.tensor4d([1, -2, 0.5, 3], [2, 1, 1, 2]);
    const loss = () => tf.sum(tf.square(model.apply(x))) as tf.Scalar;
    for (const refreshEvery of [1, 2]) {
      const opt = new PathSgdOptimizer(model, 0.01, { epsilon: MIN_EPSILON, refreshEvery });
      opt.minimize(loss, false, model.variables()); // fills the γ cache (refreshEvery > 1)
      await expectNoLeaks(() => {
        for (let i = 0; i < 3; i++) opt.minimize(loss, false, model.variables());
      });
      for (const [n, v] of Object.entries(snapshot(model))) {
        expect(v.every(Number.isFinite), n).toBe(true);
      }
      opt.dispose();
    }
    x.dispose();
    model.dispose();
  });

  it('refuses NaN and infinite gradients and overflowing steps, changing nothing', async () => {
    const model = deadUnitModel();
    const w2 = model.params['fc2/weight']!;
    for (const refreshEvery of [1, 3]) {
      const opt = new PathSgdOptimizer(model, 0.01, { refreshEvery });
      const zero = tf.zerosLike(w2);
      opt.applyGradients({ [w2.name]: zero }); // fills the γ cache (refreshEvery > 1)
      zero.dispose();
      const before = snapshot(model);
      for (const [value, why] of [
        [Number.NaN, "the gradient of 'fc2/weight' has NaN or infinite entries"],
        [Number.POSITIVE_INFINITY, "the gradient of 'fc2/weight' has NaN or infinite entries"],
        // the dead unit's outgoing weights have γ = 0: 1e30 / max(0, ε) is past float32
        [
          1e30,
          "the new value of 'fc2/weight' overflows float32 (its gradient divided by a path scale γ floored at epsilon = 1e-12)",
        ],
      ] as const) {
        const g = tf.fill(w2.shape, value);
        await expectNoLeaks(() =>
          expectThrow(
            () => opt.applyGradients({ [w2.name]: g }),
            SegValueError,
            `PathSgdOptimizer.applyGradients: ${why}, expected finite values; nothing was changed`,
          ),
        );
        g.dispose();
        expect(snapshot(model)).toEqual(before);
      }
      opt.dispose();
    }
    model.dispose();
  });

  it('scaleByPathNorm.update refuses NaN updates and leaves its state usable', async () => {
    const spec = mlpSpec([2, 2]);
    const model = createModel(spec, 2);
    const t = scaleByPathNorm(model, { refreshEvery: 2 });
    let state = t.init(model.params);
    const ok = { 'fc1/weight': tf.ones([2, 2]), 'fc1/bias': tf.ones([2]) };
    const [u, s1] = t.update(ok, state, model.params);
    tf.dispose(u);
    state = s1;
    const bad = { 'fc1/weight': tf.fill([2, 2], Number.NaN), 'fc1/bias': tf.ones([2]) };
    await expectNoLeaks(() =>
      expectThrow(
        () => t.update(bad, state, model.params),
        SegValueError,
        "scaleByPathNorm.update: the gradient of 'fc1/weight' has NaN or infinite entries, expected finite values; nothing was changed",
      ),
    );
    const [u2, s2] = t.update(ok, state, model.params);
    expect(Array.from(u2['fc1/weight']!.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([u2, s2.scale, ok, bad]);
    model.dispose();
  });
  it('refuses a step from a parameter that already holds NaN, naming it', () => {
    const model = deadUnitModel();
    const w2 = model.params['fc2/weight']!;
    w2.assign(tf.fill(w2.shape, Number.NaN));
    const opt = new PathSgdOptimizer(model, 0.01);
    const g = tf.onesLike(w2);
    expectThrow(
      () => opt.applyGradients({ [w2.name]: g }),
      SegValueError,
      "PathSgdOptimizer.applyGradients: 'fc2/weight' already holds NaN or infinite values, expected finite values; nothing was changed",
    );
    expect(opt.iterations).toBe(0);
    g.dispose();
    opt.dispose();
    model.dispose();
  });

  it('pathSgd keeps a dead unit finite at the smallest epsilon, and refuses NaN gradients', async () => {
    const model = deadUnitModel();
    const x = tf.tensor4d([1, -2, 0.5, 3], [2, 1, 1, 2]);
    const grads = (): TensorRecord => {
      const { grads: g, value } = tf.variableGrads(
        () => tf.sum(tf.square(model.apply(x))) as tf.Scalar,
        model.variables(),
      );
      value.dispose();
      return Object.fromEntries(Object.entries(model.params).map(([n, v]) => [n, g[v.name]!]));
    };
    for (const options of [{}, { refreshEvery: 2 }, { momentum: 0.9 }]) {
      const t = pathSgd(model, 0.01, { epsilon: MIN_EPSILON, ...options });
      let state = t.init(model.params);
      for (let i = 0; i < 3; i++) {
        const g = grads();
        const [u, next] = t.update(g, state, model.params);
        state = next;
        assignUpdates(model.params, u);
        tf.dispose([g, u]);
      }
      for (const [n, v] of Object.entries(snapshot(model))) {
        expect(v.every(Number.isFinite), `${JSON.stringify(options)} ${n}`).toBe(true);
      }
      const before = snapshot(model);
      const bad = grads();
      bad['fc1/weight'] = tf.fill(bad['fc1/weight']!.shape, Number.NaN);
      const fn = 'momentum' in options ? 'scaleByPathNorm.update' : 'pathSgd.update';
      await expectNoLeaks(() =>
        expectThrow(
          () => t.update(bad, state, model.params),
          SegValueError,
          `${fn}: the gradient of 'fc1/weight' has NaN or infinite entries, expected finite values; nothing was changed`,
        ),
      );
      expect(snapshot(model)).toEqual(before);
      // the state is still usable
      const g = grads();
      const [u, next] = t.update(g, state, model.params);
      expect(Object.values(u).every((t) => Array.from(t.dataSync()).every(Number.isFinite))).toBe(
        true,
      );
      tf.dispose([bad, g, u, next]);
    }
    x.dispose();
    model.dispose();
  });
});
