import { Rng } from '@seg/tensor';
import { describeBackends, expectNoLeaks } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { forwardPeakBytes } from '../dense/dense-forward.js';
import {
  applyNet,
  concat,
  conv2d,
  createModel,
  defineNet,
  denseForward,
  linear,
  maxPool,
  relu,
  toDenseSpec,
} from '../index.js';
import { maxAbsDiff } from './helpers.js';
import { refApply } from './reference.js';

// applyNet outside a gradient tape fuses conv/dense + ReLU and frees values
// after their last reader; inside one it runs the plain ops. Same values.
describeBackends('applyNet forward only (fused ReLU, early disposal)', () => {
  // fusable convs, a conv read twice (not fused), a dense + ReLU, a ReLU not
  // after its producer, a concatenation; `padded` has a 'same'-padded first conv
  const net = (padding: 'valid' | 'same') =>
    defineNet({
      inChannels: 2,
      layers: [
        conv2d({ name: 'a', outChannels: 3, filterSize: 3, padding }),
        relu({ name: 'ra' }),
        conv2d({ name: 'b', outChannels: 4, filterSize: 2 }),
        relu({ name: 'rb' }),
        maxPool({ name: 'p', size: 2 }),
        conv2d({ name: 'c', outChannels: 3, filterSize: 2, dilation: 2 }),
        relu({ name: 'rc1' }),
        relu({ name: 'rc2', input: 'c' }),
        concat(['rc1', 'rc2'], 'cat'),
        linear({ name: 'd', outChannels: 5 }),
        relu({ name: 'rd' }),
        conv2d({ name: 'e', outChannels: 2, filterSize: 1 }),
      ],
    });
  const spec = net('valid');
  const padded = net('same');
  const rng = new Rng(3);
  const H = 14;
  const W = 13;
  const xData = rng.uniformArray(H * W * 2, -1, 1);

  it('patch and dense forms: the same values as the recorded path and the float64 reference', () => {
    const model = createModel(spec, 9);
    const params64 = Object.fromEntries(
      Object.entries(model.params).map(([k, v]) => [k, Float64Array.from(v.dataSync())]),
    );
    const x = tf.tensor4d(xData, [1, H, W, 2]);
    for (const s of [spec, toDenseSpec(spec), padded]) {
      const fast = applyNet(s, model.params, x);
      let recorded: tf.Tensor | undefined;
      tf.grad((z: tf.Tensor) => {
        const y = applyNet(s, model.params, z);
        recorded = tf.keep(y.clone());
        return tf.sum(y);
      })(x).dispose();
      const ref = refApply(s, params64, { h: H, w: W, c: 2, data: Float64Array.from(xData) });
      expect(fast.shape).toEqual(recorded!.shape);
      expect(maxAbsDiff(fast.dataSync(), recorded!.dataSync())).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(fast.dataSync(), ref.data)).toBeLessThanOrEqual(1e-5);
      tf.dispose([fast, recorded!]);
    }
    x.dispose();
    model.dispose();
  });

  it('fuses exactly the conv/dense layers whose only reader is the ReLU after them; no leaks', async () => {
    const model = createModel(spec, 9);
    const x = tf.tensor4d(xData, [1, H, W, 2]);
    const info = await tf.profile(() => applyNet(spec, model.params, x));
    const names = info.kernels.map((k) => k.name);
    // every conv is one FusedConv2D (on wasm @seg/tensor's SegConv2D; bias in
    // the kernel); a, b with their ReLU; c is read by two layers: its two
    // ReLUs run apart; d fused with its ReLU
    expect(names.filter((n) => n === 'FusedConv2D' || n === 'SegConv2D').length).toBe(4);
    expect(names.filter((n) => n === 'Relu').length).toBe(2);
    expect(names.filter((n) => n === '_FusedMatMul').length).toBe(1);
    expect(names.filter((n) => n === 'Conv2D' || n === 'Add').length).toBe(0);
    (info.result as tf.Tensor).dispose();
    await expectNoLeaks(() => applyNet(spec, model.params, x));
    await expectNoLeaks(() => applyNet(toDenseSpec(spec), model.params, x));
    expect(x.isDisposed).toBe(false);
    x.dispose();
    model.dispose();
  });

  it('frees intermediate values after their last reader (peak memory of a deep stack)', async () => {
    const layers = [];
    for (let i = 0; i < 8; i++) layers.push(conv2d({ outChannels: 8, filterSize: 1 }), relu());
    const deep = defineNet({ inChannels: 8, layers });
    const model = createModel(deep, 1);
    const x = tf.ones([1, 32, 32, 8]);
    const layerBytes = 32 * 32 * 8 * 4;
    const info = await tf.profile(() => applyNet(deep, model.params, x));
    (info.result as tf.Tensor).dispose();
    const before = tf.memory().numBytes;
    // input + at most two live layer outputs (and some slack for kernel scratch), not all eight
    expect(info.peakBytes - before).toBeLessThanOrEqual(3 * layerBytes);
    x.dispose();
    model.dispose();
  });

  it('denseForward in bands of rows under a memory budget: the same values, no leaks', async () => {
    // three stride-2 max pools: the dense form's pools are dilated 1, 2, 4, so bands are multiples of 4 rows
    const patch = defineNet({
      inChannels: 2,
      layers: [
        conv2d({ outChannels: 4, filterSize: 3 }),
        relu(),
        maxPool({ size: 2 }),
        conv2d({ outChannels: 4, filterSize: 2 }),
        relu(),
        maxPool({ size: 2 }),
        conv2d({ outChannels: 3, filterSize: 2 }),
        maxPool({ size: 2 }),
        linear({ outChannels: 3 }),
      ],
    });
    const model = createModel(patch, 4);
    const x = tf.tensor4d(new Rng(5).uniformArray(2 * 23 * 17 * 2, -1, 1), [2, 23, 17, 2]);
    const whole = forwardPeakBytes(toDenseSpec(patch), 2, [23 + 17, 17 + 17]);
    for (const border of ['reflect', 'zero'] as const) {
      const ref = denseForward(model, x, { border });
      // the smallest budget: bands of 4 rows; then about half the whole pass
      for (const memoryBudget of [1, whole / 2]) {
        const y = denseForward(model, x, { border, memoryBudget });
        expect(y.shape).toEqual([2, 23, 17, 3]);
        expect(maxAbsDiff(y.dataSync(), ref.dataSync())).toBeLessThanOrEqual(1e-6);
        y.dispose();
      }
      ref.dispose();
    }
    await expectNoLeaks(() => denseForward(model, x, { memoryBudget: 1 }));
    expect(() => denseForward(model, x, { memoryBudget: 0 })).toThrow(
      'denseForward: options.memoryBudget is 0, expected a positive number of bytes',
    );
    x.dispose();
    model.dispose();
  });

  it('forwardPeakBytes bounds what the forward pass holds (tf.profile counts reshape views as bytes too)', async () => {
    const model = createModel(spec, 9);
    const dspec = toDenseSpec(spec);
    const x = tf.tensor4d(xData, [1, H, W, 2]);
    const before = tf.memory().numBytes;
    const info = await tf.profile(() => applyNet(dspec, model.params, x));
    (info.result as tf.Tensor).dispose();
    const estimate = forwardPeakBytes(dspec, 1, [H, W]);
    expect(estimate).toBeGreaterThanOrEqual(0.5 * (info.peakBytes - before));
    expect(estimate).toBeLessThanOrEqual(4 * (info.peakBytes - before));
    x.dispose();
    model.dispose();
  });
});
