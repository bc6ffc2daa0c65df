// PathSgdOptimizer is a tf.Optimizer adapter over the pathSgd transform: the
// same parameters step for step, one refresh rule, the factored fast path in
// the transform, and the deprecated name.
import { createModel, type Model, type NetSpec } from '@seg/dense-conv';
import { Rng } from '@seg/tensor';
import { describeBackends, expectNoLeaks } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  assignUpdates,
  PathSGD,
  PathSgdOptimizer,
  pathScaling,
  pathSgd,
  scaleByPathNorm,
  type TensorRecord,
} from '../index.js';
import { convPoolSpec, mlpSpec } from './nets.js';

function values(r: Record<string, tf.Tensor>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [n, t] of Object.entries(r)) out[n] = Array.from(t.dataSync());
  return out;
}

/** A batch for `spec` (MLPs see 1×1 inputs, the conv net 6×6). */
function batch(spec: NetSpec, seed: number): tf.Tensor4D {
  const size = spec.layers[0]!.kind === 'linear' ? 1 : 6;
  const n = 3 * size * size * spec.inChannels;
  return tf.tensor4d(new Rng(seed).normalArray(n, 0, 1), [3, size, size, spec.inChannels]);
}

/** An MLP whose first hidden unit 1 is on no path when `dead` (incoming weights and bias 0). */
function mlp(dead: boolean): Model {
  const model = createModel(mlpSpec([4, 6, 5, 3]), 8);
  if (dead) {
    const w = model.params['fc1/weight']!;
    const data = w.dataSync().slice();
    for (let i = 1; i < data.length; i += 6) data[i] = 0;
    w.assign(tf.tensor(data, w.shape));
    const b = model.params['fc1/bias']!;
    const bias = b.dataSync().slice();
    bias[1] = 0;
    b.assign(tf.tensor(bias, b.shape));
  }
  return model;
}

describeBackends('PathSgdOptimizer over the pathSgd transform', () => {
  const cases: [string, () => NetSpec][] = [
    ['an MLP (factored dense steps)', () => mlpSpec([4, 6, 5, 3])],
    ['a conv net with pools', convPoolSpec],
  ];
  for (const [name, makeSpec] of cases) {
    for (const refreshEvery of [1, 3]) {
      it(`gives the transform's parameter trajectory exactly: ${name}, refreshEvery ${refreshEvery}`, () => {
        const spec = makeSpec();
        const a = createModel(spec, 11);
        const b = createModel(spec, a.params);
        const extraA = tf.variable(tf.tensor1d([1, -2, 0.5]));
        const extraB = tf.variable(tf.tensor1d([1, -2, 0.5]));
        const x = batch(spec, 5);
        const loss = (m: Model, extra: tf.Variable) => () =>
          tf.add(tf.sum(tf.square(m.apply(x))), tf.sum(tf.square(extra))) as tf.Scalar;
        // the learning rate changes after 3 steps: setLearningRate vs a schedule
        const opt = new PathSgdOptimizer(a, 0.05, { refreshEvery });
        const t = pathSgd(b, (step) => (step < 3 ? 0.05 : 0.02), { refreshEvery });
        let state = t.init(b.params);
        const varsB = { ...b.params, extra: extraB };
        for (let step = 0; step < 6; step++) {
          if (step === 3) opt.setLearningRate(0.02);
          opt.minimize(loss(a, extraA), false, [...a.variables(), extraA]);
          const { grads, value } = tf.variableGrads(loss(b, extraB), [...b.variables(), extraB]);
          const named: TensorRecord = {};
          for (const [n, v] of Object.entries(varsB)) named[n] = grads[v.name]!;
          const [updates, next] = t.update(named, state, varsB);
          state = next;
          assignUpdates(varsB, updates);
          tf.dispose([grads, value, updates]);
          expect(values(a.params), `step ${step}`).toEqual(values(b.params));
          expect(Array.from(extraA.dataSync()), `step ${step}`).toEqual(
            Array.from(extraB.dataSync()),
          );
        }
        expect(opt.iterations).toBe(6);
        tf.dispose([state, x, extraA, extraB]);
        opt.dispose();
        a.dispose();
        b.dispose();
      });
    }
  }

  it('refreshes γ on the steps whose count is a multiple of refreshEvery, and when none is cached', async () => {
    const spec = mlpSpec([3, 5, 2]);
    const model = createModel(spec, 3);
    const x = batch(spec, 2);
    const loss = () => tf.sum(tf.square(model.apply(x))) as tf.Scalar;
    const opt = new PathSgdOptimizer(model, 0.05, { refreshEvery: 3 });
    /** The cached γ after one step, and γ of the parameters before that step. */
    const step = async () => {
      const fresh = pathScaling(model);
      opt.minimize(loss, false, model.variables());
      const weights = await opt.getWeights();
      const cached = Object.fromEntries(
        weights.slice(1).map((w) => [w.name.replace('/pathScale', ''), w.tensor]),
      );
      const result = { cached: values(cached), fresh: values(fresh) };
      tf.dispose([fresh, weights.map((w) => w.tensor)]);
      return result;
    };
    const s0 = await step(); // count 0: refresh
    expect(s0.cached).toEqual(s0.fresh);
    opt.setModel(model); // drops the cache at count 1
    const s1 = await step(); // count 1: nothing cached, refresh
    expect(s1.cached).toEqual(s1.fresh);
    const s2 = await step(); // count 2: reuse
    expect(s2.cached).toEqual(s1.fresh);
    expect(s2.cached).not.toEqual(s2.fresh);
    const s3 = await step(); // count 3: a multiple of 3, refresh (not 3 steps after count 1)
    expect(s3.cached).toEqual(s3.fresh);
    const s4 = await step(); // count 4: reuse
    expect(s4.cached).toEqual(s3.fresh);
    opt.dispose();
    x.dispose();
    model.dispose();
  });

  it('keeps PathSGD as a deprecated alias, and the registered name', () => {
    expect(PathSGD).toBe(PathSgdOptimizer);
    const model = createModel(mlpSpec([3, 2]), 1);
    const opt: PathSGD = new PathSGD(model, 0.1);
    expect(opt).toBeInstanceOf(PathSgdOptimizer);
    expect(opt).toBeInstanceOf(tf.Optimizer);
    expect(opt.getClassName()).toBe('PathSGD');
    expect(tf.serialization.SerializationMap.getMap().classNameMap.PathSGD![0]).toBe(
      PathSgdOptimizer,
    );
    opt.dispose();
    model.dispose();
  });
});

describeBackends('scaleByPathNorm and pathSgd, factored dense step', () => {
  // The factored path (γ = a·bᵀ never built) against g / max(γ, ε) with γ from
  // pathScaling; with a dead hidden unit the floor bites and the step falls back.
  for (const dead of [false, true]) {
    it(`equal g / max(γ, ε) and −lr·g / max(γ, ε)${dead ? ' with a dead hidden unit' : ''}`, async () => {
      const model = mlp(dead);
      const x = batch(model.spec, 3);
      const eps = 1e-12;
      const lr = 0.03;
      const { grads, value } = tf.variableGrads(
        () => tf.sum(tf.square(model.apply(x))) as tf.Scalar,
        model.variables(),
      );
      const named: TensorRecord = {};
      for (const [n, v] of Object.entries(model.params)) named[n] = grads[v.name]!;
      const gamma = pathScaling(model);
      const want = tf.tidy(() => {
        const out: TensorRecord = {};
        for (const [n, g] of Object.entries(named)) out[n] = tf.div(g, tf.maximum(gamma[n]!, eps));
        return values(out);
      });
      for (const [label, t, factor] of [
        ['scaleByPathNorm', scaleByPathNorm(model, { epsilon: eps }), 1],
        ['pathSgd', pathSgd(model, lr, { epsilon: eps }), -lr],
      ] as const) {
        const state = t.init(model.params);
        let got: Record<string, number[]> = {};
        await expectNoLeaks(() => {
          const [u, s] = (t.update as (...a: unknown[]) => [TensorRecord, tf.TensorContainer])(
            named,
            state,
            model.params,
          );
          got = values(u);
          tf.dispose([u, s]);
        });
        for (const [n, w] of Object.entries(want)) {
          const g = got[n]!;
          let worst = 0;
          let scale = 0;
          for (let i = 0; i < w.length; i++) {
            worst = Math.max(worst, Math.abs(g[i]! - factor * w[i]!));
            scale = Math.max(scale, Math.abs(factor * w[i]!));
          }
          expect(worst / scale, `${label} ${n}`).toBeLessThan(1e-5);
          expect(g.every(Number.isFinite), `${label} ${n}`).toBe(true);
        }
      }
      tf.dispose([grads, value, gamma, x]);
      model.dispose();
    });
  }
});
