import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import { describeBackends, expectNoLeaks } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  addCoordChannels,
  applyNet,
  backboneSpec,
  createModel,
  defineNet,
  dense,
  denseForward,
  deserializeModel,
  initParams,
  linear,
  maxPool,
  segmentationBackbone,
  serializeModel,
  toDense,
  toDenseSpec,
  toPatch,
  toPatchSpec,
} from '../index.js';
import { checkFinite } from '../model/apply.js';
import { loadModel, saveModel } from '../node/index.js';
import { maxAbsDiff } from './helpers.js';

describeBackends('model API', () => {
  it("linear() makes a 'linear' layer; the deprecated dense() and kind 'dense' make the same layer under its old default name", () => {
    const now = defineNet({ inChannels: 4, layers: [linear({ outChannels: 3 })] });
    const old = defineNet({ inChannels: 4, layers: [dense({ outChannels: 3 })] });
    const raw = defineNet({ inChannels: 4, layers: [{ kind: 'dense', outChannels: 3 }] });
    expect(now.layers[0]).toEqual({
      kind: 'linear',
      name: 'linear0',
      inputs: ['input'],
      inChannels: 4,
      outChannels: 3,
      bias: true,
    });
    expect(old.layers[0]).toEqual({ ...now.layers[0], name: 'dense0' });
    expect(raw).toEqual(old);
  });

  it('save / load and serialize / deserialize round-trip the parameters exactly', async () => {
    const model = createModel(backboneSpec({ coords: true, numClasses: 3 }), 5);
    const { json, weights } = await serializeModel(model);
    const copy = deserializeModel(JSON.parse(JSON.stringify(json)), weights.slice().buffer);
    const dir = await mkdtemp(join(tmpdir(), 'dense-conv-'));
    await saveModel(model, dir);
    const loaded = await loadModel(dir);
    await rm(dir, { recursive: true });
    for (const other of [copy, loaded]) {
      expect(other.spec).toEqual(model.spec);
      for (const [name, v] of Object.entries(model.params)) {
        expect(Array.from(other.params[name]!.dataSync())).toEqual(Array.from(v.dataSync()));
        expect(other.params[name]).not.toBe(v);
      }
    }
    copy.dispose();
    loaded.dispose();
    model.dispose();
  });

  it('toDense / toPatch share the variables and invert each other', () => {
    const spec = backboneSpec({ numClasses: 2 });
    expect(toPatchSpec(toDenseSpec(spec))).toEqual(spec);
    const patch = createModel(spec, 1);
    const dense = toDense(patch);
    const back = toPatch(dense);
    expect(back.spec).toEqual(spec);
    for (const [name, v] of Object.entries(patch.params)) {
      expect(dense.params[name]).toBe(v);
      expect(back.params[name]).toBe(v);
    }
    // training the dense model changes the patch model
    const before = patch.params['conv1/filter']!.dataSync().slice();
    const opt = tf.train.sgd(0.1);
    const x = tf.randomUniform([1, 24, 24, 3], 0, 1, 'float32', 1);
    opt.minimize(
      () => tf.mean(tf.square(denseForward(dense, x))) as tf.Scalar,
      false,
      dense.variables(),
    );
    expect(maxAbsDiff(before, patch.params['conv1/filter']!.dataSync())).toBeGreaterThan(0);
    opt.dispose();
    x.dispose();
    patch.dispose();
  });

  it('initParams: He-normal weights, zero biases, seeded', () => {
    const spec = defineNet({
      inChannels: 8,
      layers: [{ kind: 'conv2d', outChannels: 64, filterSize: 5 }],
    });
    const a = initParams(spec, new Rng(3));
    const b = initParams(spec, new Rng(3));
    const w = a['conv2d0/filter']!.dataSync();
    expect(Array.from(w)).toEqual(Array.from(b['conv2d0/filter']!.dataSync()));
    let s2 = 0;
    for (const v of w) s2 += v * v;
    const std = Math.sqrt(s2 / w.length);
    expect(Math.abs(std - Math.sqrt(2 / (5 * 5 * 8)))).toBeLessThan(0.01);
    expect(Array.from(a['conv2d0/bias']!.dataSync()).every((v) => v === 0)).toBe(true);
    tf.dispose([a, b]);
  });

  it('does not leak', async () => {
    const net = segmentationBackbone({ coords: true, seed: 2 });
    const img = tf.randomUniform([30, 26, 3]);
    await expectNoLeaks(() => initParams(net.patch.spec, new Rng(1)));
    await expectNoLeaks(() => addCoordChannels(img));
    await expectNoLeaks(() => {
      const x = addCoordChannels(img);
      const y = denseForward(net.dense, x);
      x.dispose();
      return y;
    });
    await expectNoLeaks(async () => {
      const { json, weights } = await serializeModel(net.patch);
      deserializeModel(json, weights).dispose();
    });
    await expectNoLeaks(() => {
      const m = createModel(net.patch.spec, 1);
      m.dispose();
    });
    await expectNoLeaks(() => {
      const x = addCoordChannels(img);
      const { value, grads } = tf.variableGrads(
        () => tf.mean(denseForward(net.dense, x)) as tf.Scalar,
        net.dense.variables(),
      );
      x.dispose();
      return [value, grads];
    });
    img.dispose();
    net.dispose();
  });

  it('addCoordChannels appends x/(w−1) and y/(h−1)', () => {
    const out = addCoordChannels(tf.zeros([3, 5, 1]));
    expect(out.shape).toEqual([3, 5, 3]);
    const d = out.arraySync() as number[][][];
    expect(d[2]![4]).toEqual([0, 1, 1]);
    expect(d[1]![1]).toEqual([0, 0.25, 0.5]);
    out.dispose();
  });

  it('rejects bad input with clear messages', async () => {
    const model = createModel(backboneSpec({ coords: true }), 1);
    const x4 = tf.zeros([1, 24, 24, 4]);
    expect(() => model.apply(x4)).toThrow(
      new SegShapeError('applyNet: x has shape [1,24,24,4], expected [*,*,*,5]'),
    );
    const small = tf.zeros([1, 12, 12, 5]);
    expect(() => model.apply(small)).toThrow(
      new SegShapeError(
        "applyNet: layer 'conv4' gets a 1×1 input, smaller than its window (extent 3×3 after padding); the network input must be at least its receptive field",
      ),
    );
    const { 'conv1/filter': _drop, ...rest } = model.params;
    expect(() => applyNet(model.spec, rest, small)).toThrow(
      new SegValueError("applyNet: params has no tensor 'conv1/filter'"),
    );
    const wrong = { ...model.params, 'conv1/bias': tf.zeros([3]) };
    expect(() => applyNet(model.spec, wrong, small)).toThrow(
      new SegShapeError("applyNet: params['conv1/bias'] has shape [3], expected [8]"),
    );
    expect(() => defineNet({ inChannels: 3, layers: [{ kind: 'softmax' } as never] })).toThrow(
      new SegValueError(
        "defineNet: layer 0 has kind 'softmax', expected one of conv2d, pool, relu, linear, concat",
      ),
    );
    expect(() =>
      defineNet({
        inChannels: 3,
        layers: [{ kind: 'conv2d', outChannels: 2, filterSize: 3, stride: 0 }],
      }),
    ).toThrow(new SegRangeError("defineNet: layer 'conv2d0' stride is 0, expected an integer ≥ 1"));
    expect(() =>
      defineNet({
        inChannels: 3,
        layers: [maxPool({ size: 2, stride: [2, 1], dilation: [2, 1] })],
      }),
    ).toThrow(
      new SegRangeError(
        "defineNet: layer 'pool0' has stride [2,1] and dilation [2,1], expected at most one of them > 1 on each axis",
      ),
    );
    expect(() => defineNet({ inChannels: 3, layers: [{ kind: 'relu', input: 'nope' }] })).toThrow(
      new SegValueError(
        "defineNet: layer 'relu0' reads 'nope', which is not an earlier layer or 'input'",
      ),
    );
    const same = defineNet({
      inChannels: 1,
      layers: [{ kind: 'conv2d', outChannels: 1, filterSize: 3, padding: 'same' }],
    });
    expect(() => toDenseSpec(same)).toThrow(
      new SegValueError(
        `toDense: layer 'conv2d0' has padding "same", expected 'valid' (a patch window must not be zero-padded for the dense form to be exact)`,
      ),
    );
    expect(() => toPatchSpec(same)).toThrow(
      new SegValueError('toPatch: the network is already in patch form'),
    );
    const { json, weights } = await serializeModel(model);
    expect(() => deserializeModel(json, weights.subarray(1))).toThrow(
      new SegShapeError(
        `deserializeModel: weights has length ${weights.length - 1}, expected ${weights.length} (from the manifest)`,
      ),
    );
    expect(() => denseForward(model, tf.zeros([5, 5, 5]))).toThrow(
      new SegShapeError(
        "denseForward: image is 5×5, too small to reflect a border of [9,10]×[9,10] (use border 'zero' or a larger image)",
      ),
    );
    const [img4, imgInt, img5] = [
      tf.zeros([30, 30, 4]),
      tf.zeros([30, 30, 5], 'int32'),
      tf.zeros([30, 30, 5]),
    ];
    expect(() => denseForward(model, img4)).toThrow(
      new SegShapeError('denseForward: image has shape [30,30,4], expected [*,*,5]'),
    );
    expect(() => denseForward(model, imgInt)).toThrow(
      new SegShapeError('denseForward: image has dtype int32, expected float32'),
    );
    expect(() => denseForward(model, img5, { params: rest })).toThrow(
      new SegValueError("denseForward: params has no tensor 'conv1/filter'"),
    );
    tf.dispose([x4, small, wrong['conv1/bias']!, img4, imgInt, img5]);
    model.dispose();
  });

  it('rejects NaN and infinite inputs, naming the first bad entry, and leaks nothing', async () => {
    const model = createModel(backboneSpec({ coords: false }), 1);
    const x = tf.tidy(() => {
      const v = new Float32Array(1 * 24 * 24 * 3).fill(0.5);
      v[7] = Number.NaN;
      return tf.tensor4d(v, [1, 24, 24, 3]);
    });
    const image = tf.tidy(() => {
      const v = new Float32Array(30 * 30 * 3).fill(0.5);
      v[100] = Number.POSITIVE_INFINITY;
      return tf.tensor3d(v, [30, 30, 3]);
    });
    await expectNoLeaks(() => {
      expect(() => model.apply(x)).toThrow(
        new SegValueError('applyNet: x[7] is NaN, expected a finite number'),
      );
      expect(() => denseForward(model, image)).toThrow(
        new SegValueError('denseForward: image[100] is Infinity, expected a finite number'),
      );
    });
    tf.dispose([x, image]);
    model.dispose();
  });

  it('checks a tensor once (its values never change), a variable every time', async () => {
    const x = tf.ones([1, 4, 4, 3]);
    checkFinite('f', 'x', x);
    const again = await tf.profile(() => checkFinite('f', 'x', x));
    expect(again.kernels.map((k) => k.name)).not.toContain('IsFinite');
    const v = tf.variable(tf.ones([2, 2]));
    checkFinite('f', 'v', v);
    v.assign(tf.tensor2d([1, Number.NaN, 1, 1], [2, 2]));
    expect(() => checkFinite('f', 'v', v)).toThrow(
      new SegValueError('f: v[1] is NaN, expected a finite number'),
    );
    tf.dispose([x, v]);
  });
});
