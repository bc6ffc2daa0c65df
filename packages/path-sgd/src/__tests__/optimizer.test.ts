import { createModel, type Model, type NetSpec, type Params } from '@seg/dense-conv';
import { Rng, SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import { describeBackends, expectNoLeaks, expectThrow, numericGradient } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { assignUpdates, PathSgdOptimizer, pathNorm, pathScaling, pathSgd } from '../index.js';
import { convPoolSpec, mlpSpec } from './nets.js';

function arrays(params: Params): Record<string, { data: Float64Array; shape: number[] }> {
  const out: Record<string, { data: Float64Array; shape: number[] }> = {};
  for (const [n, t] of Object.entries(params))
    out[n] = { data: Float64Array.from(t.dataSync()), shape: t.shape };
  return out;
}

function tensors(a: Record<string, { data: Float64Array; shape: number[] }>): Params {
  const out: Params = {};
  for (const [n, { data, shape }] of Object.entries(a))
    out[n] = tf.tensor(Float32Array.from(data), shape);
  return out;
}

/** The hidden layers of a chain of parameter layers: [producer, consumer] pairs. */
function hiddenPairs(spec: NetSpec): [string, string][] {
  const names = spec.layers.filter((l) => l.kind === 'conv2d' || l.kind === 'linear');
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < names.length; i++) pairs.push([names[i]!.name, names[i + 1]!.name]);
  return pairs;
}

/** Multiplies unit `o` of `producer` (incoming weights and bias) by c, its outgoing weights by 1/c. */
function rescaleUnit(
  spec: NetSpec,
  a: Record<string, { data: Float64Array; shape: number[] }>,
  producer: string,
  consumer: string,
  o: number,
  c: number,
): void {
  const kindOf = (n: string) => spec.layers.find((l) => l.name === n)!.kind;
  const win = a[`${producer}/${kindOf(producer) === 'linear' ? 'weight' : 'filter'}`]!;
  const outs = win.shape[win.shape.length - 1]!;
  for (let i = o; i < win.data.length; i += outs) win.data[i]! *= c;
  const bias = a[`${producer}/bias`];
  if (bias) bias.data[o]! *= c;
  const wout = a[`${consumer}/${kindOf(consumer) === 'linear' ? 'weight' : 'filter'}`]!;
  const nOut = wout.shape[wout.shape.length - 1]!;
  const nIn = wout.shape[wout.shape.length - 2]!;
  for (let i = 0; i < wout.data.length; i++) {
    if (Math.floor(i / nOut) % nIn === o) wout.data[i]! /= c;
  }
}

function crossEntropy(model: Model, x: tf.Tensor4D, labels: tf.Tensor): tf.Scalar {
  const logits = tf.reshape(model.apply(x), [x.shape[0], -1]);
  return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
}

/** One optimizer step from `init`; returns the outputs on `probe` afterwards. */
function stepAndProbe(
  spec: NetSpec,
  init: Params,
  make: (m: Model) => tf.Optimizer,
  x: tf.Tensor4D,
  labels: tf.Tensor,
  probe: tf.Tensor4D,
): Float32Array {
  const model = createModel(spec, init);
  const opt = make(model);
  opt.minimize(() => crossEntropy(model, x, labels), false, model.variables());
  const y = model.apply(probe);
  const out = y.dataSync() as Float32Array;
  y.dispose();
  opt.dispose();
  model.dispose();
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describeBackends('PathSgdOptimizer', () => {
  it('is invariant to node rescaling (one step, same function); plain SGD is not', () => {
    let sgdRuns = 0;
    let sgdMoved = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }),
        fc.boolean(),
        fc.array(
          fc.record({
            layer: fc.nat(),
            unit: fc.nat(),
            logC: fc.double({ min: -1.5, max: 1.5, noNaN: true }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        (seed, conv, rescalings) => {
          const spec = conv ? convPoolSpec() : mlpSpec([5, 6, 4, 3]);
          const rng = new Rng(seed);
          const [h, w] = conv ? [5, 5] : [1, 1];
          const x = tf.tensor4d(rng.normalArray(4 * h * w * spec.inChannels, 0, 1), [
            4,
            h,
            w,
            spec.inChannels,
          ]);
          const probe = tf.tensor4d(rng.normalArray(3 * h * w * spec.inChannels, 0, 1), [
            3,
            h,
            w,
            spec.inChannels,
          ]);
          const labels = tf.oneHot(tf.tensor1d([0, 1, 1, 0], 'int32'), 2 + (conv ? 0 : 1));
          const m0 = createModel(spec, seed);
          const base = arrays(m0.params);
          m0.dispose();
          for (const b of Object.values(base))
            for (let i = 0; i < b.data.length; i++) b.data[i] = b.data[i]! + 0.05;
          const scaled = arrays(tensors(base));
          const pairs = hiddenPairs(spec);
          // every unit of the first hidden layer by e^±1 (so some live unit
          // surely moves), then the random rescalings on top
          const [p0, q0] = pairs[0]!;
          const k0 = spec.layers.find((l) => l.name === p0)!.kind;
          const units0 = scaled[`${p0}/${k0 === 'linear' ? 'weight' : 'filter'}`]!.shape.at(-1)!;
          for (let u = 0; u < units0; u++)
            rescaleUnit(spec, scaled, p0, q0, u, Math.exp(rng.int(2) ? 1 : -1));
          let changed = 1;
          for (const r of rescalings) {
            const [p, q] = pairs[r.layer % pairs.length]!;
            const kind = spec.layers.find((l) => l.name === p)!.kind;
            const units = scaled[`${p}/${kind === 'linear' ? 'weight' : 'filter'}`]!.shape.at(-1)!;
            const c = Math.exp(r.logC);
            rescaleUnit(spec, scaled, p, q, r.unit % units, c);
            changed = Math.max(changed, Math.abs(r.logC));
          }
          const pa = tensors(base);
          const pb = tensors(scaled);
          const lr = 0.05;
          const path = (m: Model) => new PathSgdOptimizer(m, lr);
          const sgd = () => tf.train.sgd(lr);
          const ya = stepAndProbe(spec, pa, path, x, labels, probe);
          const yb = stepAndProbe(spec, pb, path, x, labels, probe);
          const scale = Math.max(1, ...Array.from(ya, Math.abs));
          expect(maxAbsDiff(ya, yb)).toBeLessThanOrEqual(1e-5 * scale);
          if (changed > 0.5) {
            const sa = stepAndProbe(spec, pa, sgd, x, labels, probe);
            const sb = stepAndProbe(spec, pb, sgd, x, labels, probe);
            // plain SGD also keeps the function when every rescaled unit is
            // dead on the batch (zero gradients), so it is counted, not asserted per case
            sgdRuns++;
            if (maxAbsDiff(sa, sb) > 1e-3) sgdMoved++;
          }
          tf.dispose([pa, pb, x, probe, labels]);
        },
      ),
      { numRuns: 8 },
    );
    expect(sgdMoved).toBeGreaterThanOrEqual(Math.ceil(sgdRuns / 2));
  });

  it('makes the step −lr·g/γ (against pathScaling) and plain SGD for other variables', () => {
    const spec = mlpSpec([3, 4, 2]);
    const model = createModel(spec, 7);
    const extra = tf.variable(tf.tensor1d([1, 2]));
    const x = tf.tensor4d([0.5, -1, 2, 1, 0, -0.5], [2, 1, 1, 3]);
    const f = () =>
      tf.add(tf.sum(tf.square(model.apply(x))), tf.sum(tf.mul(extra, extra))) as tf.Scalar;
    const { grads, value } = tf.variableGrads(f, [...model.variables(), extra]);
    const gamma = pathScaling(model);
    const before = arrays(model.params);
    const expected: Record<string, Float32Array> = {};
    for (const [name, v] of Object.entries(model.params)) {
      const g = grads[v.name]!.dataSync();
      const s = gamma[name]!.dataSync();
      expected[name] = Float32Array.from(before[name]!.data, (p, i) => p - (0.1 * g[i]!) / s[i]!);
    }
    const opt = new PathSgdOptimizer(model, 0.1);
    opt.applyGradients(grads);
    for (const [name, v] of Object.entries(model.params)) {
      const got = v.dataSync();
      for (let i = 0; i < got.length; i++) expect(got[i]!).toBeCloseTo(expected[name]![i]!, 4);
    }
    expect(Array.from(extra.dataSync())).toEqual([1 - 0.1 * 2, 2 - 0.1 * 4].map(Math.fround));
    expect(opt.iterations).toBe(1);
    tf.dispose([grads, value, gamma, x, extra]);
    opt.dispose();
    model.dispose();
  });

  it('matches the pathSgd transform step for step, also when refreshing every 3 steps', () => {
    for (const refreshEvery of [1, 3]) {
      const spec = convPoolSpec();
      const a = createModel(spec, 11);
      const b = createModel(spec, a.params);
      const rng = new Rng(5);
      const x = tf.tensor4d(rng.normalArray(2 * 6 * 6 * 2, 0, 1), [2, 6, 6, 2]);
      const loss = (m: Model) => () => tf.sum(tf.square(m.apply(x))) as tf.Scalar;
      const opt = new PathSgdOptimizer(a, 0.01, { refreshEvery });
      const t = pathSgd(b, 0.01, { refreshEvery });
      let state = t.init(b.params);
      for (let step = 0; step < 4; step++) {
        opt.minimize(loss(a), false, a.variables());
        const { grads, value } = tf.variableGrads(loss(b), b.variables());
        const named: Params = {};
        for (const [n, v] of Object.entries(b.params)) named[n] = grads[v.name]!;
        const [updates, next] = t.update(named, state, b.params);
        state = next;
        assignUpdates(b.params, updates);
        tf.dispose([grads, value, updates]);
      }
      for (const n of Object.keys(a.params)) {
        const d = maxAbsDiff(a.params[n]!.dataSync(), b.params[n]!.dataSync());
        expect(d, `${n} refreshEvery=${refreshEvery}`).toBeLessThan(1e-6);
      }
      tf.dispose(state);
      tf.dispose(x);
      opt.dispose();
      a.dispose();
      b.dispose();
    }
  });

  it('refreshEvery > 1 reuses γ between refreshes (differs from refreshing every step)', () => {
    const spec = mlpSpec([3, 5, 2]);
    const a = createModel(spec, 3);
    const b = createModel(spec, a.params);
    const x = tf.tensor4d([1, 2, -1, 0.5, 0, 1], [2, 1, 1, 3]);
    const loss = (m: Model) => () => tf.sum(tf.square(m.apply(x))) as tf.Scalar;
    const every = new PathSgdOptimizer(a, 0.05);
    const lazy = new PathSgdOptimizer(b, 0.05, { refreshEvery: 5 });
    every.minimize(loss(a), false, a.variables());
    lazy.minimize(loss(b), false, b.variables());
    // Same γ on the first step (refreshing every step computes γ/lr in the
    // backward pass instead of dividing by lr after: float rounding only).
    expect(
      maxAbsDiff(a.params['fc1/weight']!.dataSync(), b.params['fc1/weight']!.dataSync()),
    ).toBeLessThan(1e-6);
    every.minimize(loss(a), false, a.variables());
    lazy.minimize(loss(b), false, b.variables());
    expect(
      maxAbsDiff(a.params['fc1/weight']!.dataSync(), b.params['fc1/weight']!.dataSync()),
    ).toBeGreaterThan(1e-4);
    every.dispose();
    lazy.dispose();
    tf.dispose(x);
    a.dispose();
    b.dispose();
  });

  it('round-trips through getConfig / fromConfig and getWeights / setWeights', async () => {
    const spec = convPoolSpec();
    const a = createModel(spec, 21);
    const b = createModel(spec, a.params);
    const x = tf.tensor4d(new Rng(2).normalArray(2 * 5 * 5 * 2, 0, 1), [2, 5, 5, 2]);
    const loss = (m: Model) => () => tf.sum(tf.square(m.apply(x))) as tf.Scalar;
    const original = new PathSgdOptimizer(a, 0.02, { refreshEvery: 3, epsilon: 1e-10 });
    const twin = new PathSgdOptimizer(b, 0.02, { refreshEvery: 3, epsilon: 1e-10 });
    for (let i = 0; i < 2; i++) {
      original.minimize(loss(a), false, a.variables());
      twin.minimize(loss(b), false, b.variables());
    }
    // serialize the original (attached to a's variables) and restore it
    const config = JSON.parse(JSON.stringify(original.getConfig()));
    expect(config).toMatchObject({ learningRate: 0.02, refreshEvery: 3, epsilon: 1e-10 });
    const cls = tf.serialization.SerializationMap.getMap().classNameMap.PathSGD!;
    const restored = cls[1](cls[0], config) as PathSgdOptimizer;
    const weights = await original.getWeights();
    await restored.setWeights(weights);
    tf.dispose(weights.map((w) => w.tensor));
    expect(restored.iterations).toBe(2);
    expect(restored.getConfig()).toEqual(original.getConfig());
    original.dispose();
    // two more steps: the restored optimizer (stale γ from step 0, then a
    // refresh) continues exactly like the twin that never stopped
    for (let i = 0; i < 2; i++) {
      restored.minimize(loss(a), false, a.variables());
      twin.minimize(loss(b), false, b.variables());
    }
    for (const n of Object.keys(a.params)) {
      expect(maxAbsDiff(a.params[n]!.dataSync(), b.params[n]!.dataSync()), n).toBeLessThan(1e-7);
    }
    restored.dispose();
    twin.dispose();
    tf.dispose(x);
    a.dispose();
    b.dispose();
  });

  it('does not leak tensors', async () => {
    const spec = convPoolSpec();
    const model = createModel(spec, 4);
    const x = tf.ones([1, 5, 5, 2]) as tf.Tensor4D;
    const opt1 = new PathSgdOptimizer(model, 0.01);
    const opt3 = new PathSgdOptimizer(model, 0.01, { refreshEvery: 3 });
    await expectNoLeaks(() => {
      for (let i = 0; i < 3; i++) {
        opt1.minimize(() => tf.sum(model.apply(x)) as tf.Scalar, false, model.variables());
      }
    });
    opt3.minimize(() => tf.sum(model.apply(x)) as tf.Scalar, false, model.variables());
    await expectNoLeaks(() => {
      for (let i = 0; i < 4; i++) {
        opt3.minimize(() => tf.sum(model.apply(x)) as tf.Scalar, false, model.variables());
      }
    });
    const t = pathSgd(model, 0.1, { momentum: 0.9, refreshEvery: 2 });
    let state = t.init(model.params);
    const g = tf.tidy(() => {
      const out: Params = {};
      for (const [n, v] of Object.entries(model.params)) out[n] = tf.onesLike(v);
      return out;
    });
    const [u0, s0] = t.update(g, state, model.params);
    tf.dispose(u0);
    state = s0;
    await expectNoLeaks(() => {
      for (let i = 0; i < 3; i++) {
        const [u, s] = t.update(g, state, model.params);
        tf.dispose(u);
        state = s;
      }
    });
    tf.dispose([state, g, x]);
    opt1.dispose();
    opt3.dispose();
    model.dispose();
  });

  it('γ·2w is the gradient of the squared path norm (finite differences)', () => {
    const spec = mlpSpec([2, 3, 2]);
    const model = createModel(spec, 9);
    const names = Object.keys(model.params);
    const flatParams = names.flatMap((n) => Array.from(model.params[n]!.dataSync()));
    const shapes = names.map((n) => model.params[n]!.shape);
    const norm2 = (v: Float64Array): number => {
      let k = 0;
      const params: Params = {};
      names.forEach((n, i) => {
        const size = shapes[i]!.reduce((a, b) => a * b, 1);
        params[n] = tf.tensor(Array.from(v.subarray(k, k + size)), shapes[i]!);
        k += size;
      });
      const r = pathNorm({ spec, params }) ** 2;
      tf.dispose(params);
      return r;
    };
    const numeric = numericGradient(norm2, flatParams, 1e-2);
    const gamma = pathScaling(model);
    const analytic = names.flatMap((n) => {
      const g = gamma[n]!.dataSync();
      return Array.from(model.params[n]!.dataSync(), (w, i) => 2 * w * g[i]!);
    });
    for (let i = 0; i < analytic.length; i++) {
      expect(Math.abs(numeric[i]! - analytic[i]!)).toBeLessThan(
        2e-2 * Math.max(1, Math.abs(analytic[i]!)),
      );
    }
    tf.dispose(gamma);
    model.dispose();
  });

  it('rejects bad input with clear messages', () => {
    const spec = mlpSpec([3, 2]);
    const model = createModel(spec, 1);
    expect(() => new PathSgdOptimizer(model, -1)).toThrow(
      'PathSgdOptimizer: learningRate is -1, expected a finite number ≥ 0',
    );
    expect(() => new PathSgdOptimizer(model, 0.1, { refreshEvery: 0 })).toThrow(
      'PathSgdOptimizer: options.refreshEvery is 0, expected an integer ≥ 1',
    );
    const plain = { spec, params: { 'fc1/weight': tf.zeros([3, 2]), 'fc1/bias': tf.zeros([2]) } };
    expect(() => new PathSgdOptimizer(plain as never, 0.1)).toThrow(
      "PathSgdOptimizer.setModel: model.params['fc1/weight'] is not a tf.Variable",
    );
    const detached = new PathSgdOptimizer(null, 0.1);
    expect(() => detached.applyGradients({})).toThrow(
      'PathSgdOptimizer.applyGradients: no model attached, call setModel(model) first',
    );
    tf.dispose(Object.values(plain.params));
    model.dispose();
  });

  it('rejects bad options without a model and gradients of the wrong shape', () => {
    expectThrow(
      () => new PathSgdOptimizer(null, 0.1, { epsilon: Number.NaN }),
      SegValueError,
      'PathSgdOptimizer: options.epsilon is NaN, expected a finite number ≥ 1.1754943508222875e-38',
    );
    expectThrow(
      () => new PathSgdOptimizer(null, 0.1, { refreshEvery: 1.5 }),
      SegRangeError,
      'PathSgdOptimizer: options.refreshEvery is 1.5, expected an integer ≥ 1',
    );
    expectThrow(
      () => new PathSgdOptimizer(null, 0.1, 'fast' as never),
      SegValueError,
      'PathSgdOptimizer: options is fast, expected an object',
    );
    const model = createModel(mlpSpec([3, 2]), 1);
    const before = Array.from(model.params['fc1/weight']!.dataSync());
    const opt = new PathSgdOptimizer(model, 0.1);
    const g = tf.ones([1]);
    // a [1] gradient would broadcast silently against the [3,2] weight
    expectThrow(
      () => opt.applyGradients({ [model.params['fc1/weight']!.name]: g }),
      SegShapeError,
      "PathSgdOptimizer.applyGradients: the gradient of 'fc1/weight' has shape [1], expected [3,2]",
    );
    expect(Array.from(model.params['fc1/weight']!.dataSync())).toEqual(before);
    g.dispose();
    model.dispose();
  });
});

describeBackends('PathSgdOptimizer, factored dense step', () => {
  // One step against lr·g / max(γ, ε) with γ from pathScaling, for an MLP
  // whose dense steps take the factored path, and for one where a dead
  // hidden unit (a_i = 0) makes the floor bite and the step falls back.
  for (const dead of [false, true]) {
    it(`equals lr·g / max(γ, ε) from pathScaling${dead ? ' with a dead hidden unit' : ''}`, () => {
      const spec = mlpSpec([4, 6, 5, 3]);
      const init = createModel(spec, 8);
      const a = arrays(init.params);
      init.dispose();
      if (dead) {
        const w = a['fc1/weight']!;
        for (let i = 2; i < w.data.length; i += 6) w.data[i] = 0; // unit 2 of the first hidden layer
        a['fc1/bias']!.data[2] = 0;
      }
      const start = tensors(a);
      const model = createModel(spec, start);
      const x = tf.tensor4d(new Rng(3).normalArray(2 * 4, 0, 1), [2, 1, 1, 4]);
      const loss = () => tf.sum(tf.square(model.apply(x))) as tf.Scalar;
      const lr = 0.03;
      const eps = 1e-12;
      const expected = tf.tidy(() => {
        const gamma = pathScaling({ spec, params: start });
        const { grads } = tf.variableGrads(loss, model.variables());
        const out: Record<string, Float32Array> = {};
        for (const [n, v] of Object.entries(model.params)) {
          const g = grads[v.name]!;
          out[n] = tf
            .sub(v, tf.div(tf.mul(g, lr), tf.maximum(gamma[n]!, eps)))
            .dataSync() as Float32Array;
        }
        return out;
      });
      const opt = new PathSgdOptimizer(model, lr, { epsilon: eps });
      opt.minimize(loss, false, model.variables());
      for (const [n, v] of Object.entries(model.params)) {
        const got = v.dataSync();
        const want = expected[n]!;
        let worst = 0;
        let scale = 0;
        for (let i = 0; i < want.length; i++) {
          worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
          scale = Math.max(scale, Math.abs(want[i]!));
        }
        expect(worst / scale, n).toBeLessThan(1e-5);
        expect(got.every(Number.isFinite), n).toBe(true);
      }
      opt.dispose();
      model.dispose();
      tf.dispose([x, start]);
    });
  }
});
