import { Rng } from '@seg/tensor';
import { describeBackends, maxRelativeError, numericGradient } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  applyNet,
  backboneSpec,
  createModel,
  paramShapes,
  receptiveField,
  toDenseSpec,
} from '../index.js';
import { maxAbsDiff, windows } from './helpers.js';
import { refApply } from './reference.js';

describeBackends('gradients through dense models', () => {
  // A small backbone: 3×3 convolutions, two 2/2 max pools; dense form has dilations 2 and 4.
  const spec = backboneSpec({ inChannels: 2, numClasses: 2, widths: [3, 3, 4, 4] });
  const dspec = toDenseSpec(spec);
  const H = 23;
  const W = 22;

  it('forward matches the float64 reference (≤ 1e-5)', () => {
    const rng = new Rng(1);
    const model = createModel(spec, rng);
    const xData = rng.uniformArray(H * W * 2, -1, 1);
    const x = tf.tensor4d(xData, [1, H, W, 2]);
    const params64 = Object.fromEntries(
      Object.entries(model.params).map(([k, v]) => [k, Float64Array.from(v.dataSync())]),
    );
    for (const s of [spec, dspec]) {
      const y = applyNet(s, model.params, x);
      const ref = refApply(s, params64, { h: H, w: W, c: 2, data: Float64Array.from(xData) });
      expect(y.shape).toEqual([1, ref.h, ref.w, ref.c]);
      expect(maxAbsDiff(y.dataSync(), ref.data)).toBeLessThanOrEqual(1e-5);
      y.dispose();
    }
    x.dispose();
    model.dispose();
  });

  it('parameter and input gradients match float64 central differences (rel. error ≤ 1e-3)', () => {
    // Loss L = Σ r ⊙ dense(x). Reference: central differences (ε = 1e-6) of the float64
    // brute-force network, so ReLU / max kinks are crossed with negligible probability.
    const rng = new Rng(2);
    const model = createModel(spec, rng);
    const xData = rng.uniformArray(H * W * 2, -1, 1);
    const x = tf.tensor4d(xData, [1, H, W, 2]);
    const outShape = [1, H - 19, W - 19, 2];
    const r = rng.uniformArray(
      outShape.reduce((a, b) => a * b, 1),
      -1,
      1,
    );
    const rT = tf.tensor(r, outShape);
    const names = Object.keys(paramShapes(spec));
    const tensors = names.map((n) => model.params[n]!);
    const grads = tf.grads((...ts: tf.Tensor[]) => {
      const params = Object.fromEntries(names.map((n, i) => [n, ts[i]!]));
      return tf.sum(tf.mul(applyNet(dspec, params, ts[names.length] as tf.Tensor4D), rT));
    })([...tensors, x]);
    const params64 = Object.fromEntries(
      names.map((n) => [n, Float64Array.from(model.params[n]!.dataSync())]),
    );
    const loss = (p: Record<string, Float64Array>, xs: Float64Array): number => {
      const y = refApply(dspec, p, { h: H, w: W, c: 2, data: xs }).data;
      let s = 0;
      for (let i = 0; i < y.length; i++) s += y[i]! * r[i]!;
      return s;
    };
    const x64 = Float64Array.from(xData);
    names.forEach((n, i) => {
      const fd = numericGradient((v) => loss({ ...params64, [n]: v }, x64), params64[n]!, 1e-6);
      expect(maxRelativeError(grads[i]!.dataSync(), fd, 1e-2), n).toBeLessThanOrEqual(1e-3);
    });
    // 120 sampled input entries (all 1012 would take seconds more)
    const picks = Array.from(new Rng(9).permutation(x64.length).subarray(0, 120));
    const fdx = numericGradient(
      (v) => {
        const xs = Float64Array.from(x64);
        picks.forEach((p, k) => {
          xs[p] = v[k]!;
        });
        return loss(params64, xs);
      },
      picks.map((p) => x64[p]!),
      1e-6,
    );
    const gx = grads[names.length]!.dataSync();
    expect(
      maxRelativeError(
        picks.map((p) => gx[p]!),
        fdx,
        1e-2,
      ),
      'x',
    ).toBeLessThanOrEqual(1e-3);
    tf.dispose([...grads, x, rT]);
    model.dispose();
  });

  it('dense gradients = the sum of the patch gradients over all windows', () => {
    const rng = new Rng(3);
    const model = createModel(spec, rng);
    const x = tf.tensor4d(rng.uniformArray(H * W * 2, -1, 1), [1, H, W, 2]);
    const R = receptiveField(spec).size;
    const n = H - R[0] + 1;
    const m = W - R[1] + 1;
    const r = tf.tensor(rng.uniformArray(n * m * 2, -1, 1), [1, n, m, 2]);
    const wins = windows(x, R, n, m);
    const rWins = tf.reshape(r, [n * m, 1, 1, 2]);
    const dense = tf.variableGrads(
      () => tf.sum(tf.mul(applyNet(dspec, model.params, x), r)),
      model.variables(),
    );
    const patch = tf.variableGrads(
      () => tf.sum(tf.mul(model.apply(wins), rWins)),
      model.variables(),
    );
    for (const v of model.variables()) {
      const a = dense.grads[v.name]!.dataSync();
      const b = patch.grads[v.name]!.dataSync();
      expect(maxRelativeError(a, b, 1e-2)).toBeLessThanOrEqual(1e-4);
    }
    tf.dispose([x, r, wins, rWins, dense.value, patch.value, dense.grads, patch.grads]);
    model.dispose();
  });
});
