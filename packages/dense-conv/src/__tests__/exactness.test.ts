import { Rng } from '@seg/tensor';
import { describeBackends, expectNoLeaks } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  applyNet,
  concat,
  conv2d,
  createModel,
  defineNet,
  denseForward,
  densePads,
  maxPool,
  receptiveField,
  relu,
  sumPool,
  toDenseSpec,
} from '../index.js';
import { layerStack, maxAbsDiff, windows } from './helpers.js';

describeBackends('eConv / ePool exactness', () => {
  it('dense output at every pixel = the patch model on its window; patch output = dense[::S] (property)', () => {
    fc.assert(
      fc.property(
        layerStack,
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer(),
        (layers, inChannels, extraH, extraW, seed) => {
          const spec = defineNet({ inChannels, layers });
          const { size: R, stride: S } = receptiveField(spec);
          const dspec = toDenseSpec(spec);
          expect(receptiveField(dspec)).toEqual({ size: R, stride: [1, 1] });
          const rng = new Rng(seed);
          const model = createModel(spec, rng);
          const H = R[0] + extraH;
          const W = R[1] + extraW;
          const x = tf.tensor4d(rng.uniformArray(H * W * inChannels, -1, 1), [1, H, W, inChannels]);
          const before = tf.memory().numTensors;
          const dense = applyNet(dspec, model.params, x);
          const n = H - R[0] + 1;
          const m = W - R[1] + 1;
          expect(dense.shape).toEqual([1, n, m, spec.outChannels]);
          // every window through the patch model, batched
          const wins = windows(x, R, n, m);
          const patchAtWindows = model.apply(wins);
          expect(patchAtWindows.shape).toEqual([n * m, 1, 1, spec.outChannels]);
          expect(maxAbsDiff(patchAtWindows.dataSync(), dense.dataSync())).toBeLessThanOrEqual(1e-5);
          // the patch model on the whole image = the dense output subsampled by the total stride
          const patch = model.apply(x);
          const sub = tf.stridedSlice(dense, [0, 0, 0, 0], dense.shape, [1, S[0], S[1], 1]);
          expect(patch.shape).toEqual(sub.shape);
          expect(maxAbsDiff(patch.dataSync(), sub.dataSync())).toBeLessThanOrEqual(1e-5);
          tf.dispose([dense, wins, patchAtWindows, patch, sub]);
          expect(tf.memory().numTensors).toBe(before);
          x.dispose();
          model.dispose();
        },
      ),
      { numRuns: 25, seed: 5 },
    );
  });

  it('holds for a DAG with a concatenation and a dense layer', () => {
    const spec = defineNet({
      inChannels: 2,
      layers: [
        conv2d({ name: 'a', outChannels: 3, filterSize: 3 }),
        relu({ name: 'ra' }),
        maxPool({ name: 'pa', size: 2, stride: 2 }),
        conv2d({ name: 'b', input: 'input', outChannels: 2, filterSize: 2, stride: 2 }),
        sumPool({ name: 'pb', size: 2, stride: 1 }),
        concat(['pa', 'pb'], 'cat'),
        conv2d({ name: 'c', outChannels: 4, filterSize: 2 }),
        relu(),
        { kind: 'linear', name: 'head', outChannels: 3 },
      ],
    });
    expect(receptiveField(spec)).toEqual({ size: [6, 6], stride: [2, 2] });
    const model = createModel(spec, 3);
    const x = tf.randomUniform([1, 11, 9, 2], -1, 1, 'float32', 7) as tf.Tensor4D;
    const dense = applyNet(toDenseSpec(spec), model.params, x);
    const wins = windows(x, [6, 6], 6, 4);
    const patch = model.apply(wins);
    expect(maxAbsDiff(patch.dataSync(), dense.dataSync())).toBeLessThanOrEqual(1e-5);
    tf.dispose([x, dense, wins, patch]);
    model.dispose();
  });

  it('denseForward on sizes that are not multiples of the pool dilations (forward-only alignment) = every window; = the recorded forward', () => {
    const spec = defineNet({
      inChannels: 2,
      layers: [
        conv2d({ outChannels: 3, filterSize: 3 }),
        maxPool({ size: 2 }),
        conv2d({ outChannels: 3, filterSize: 2 }),
        relu(),
        maxPool({ size: 3, stride: [3, 2] }), // dense dilation [2, 2]
        conv2d({ outChannels: 2, filterSize: 2 }),
        relu(),
        maxPool({ size: 2 }), // dense dilation [6, 4]
        conv2d({ outChannels: 2, filterSize: 1 }),
      ],
    });
    const model = createModel(spec, 5);
    const R = receptiveField(spec).size;
    const pads = densePads(spec);
    for (const [h, w] of [
      [13, 10],
      [12, 12],
      [17, 9],
    ] as const) {
      const x = tf.randomUniform([h, w, 2], -1, 1, 'float32', h * w) as tf.Tensor3D;
      const y = denseForward(model, x, { border: 'zero' });
      expect(y.shape).toEqual([h, w, 2]);
      const padded = tf.expandDims(tf.pad(x, [pads[0], pads[1], [0, 0]]), 0) as tf.Tensor4D;
      const wins = windows(padded, R, h, w);
      const ref = model.apply(wins);
      expect(maxAbsDiff(ref.dataSync(), y.dataSync())).toBeLessThanOrEqual(1e-5);
      let recorded: tf.Tensor | undefined;
      tf.grad((z: tf.Tensor) => {
        const out = denseForward(model, z, { border: 'zero' });
        recorded = tf.keep(out.clone());
        return tf.sum(out);
      })(x).dispose();
      expect(maxAbsDiff(recorded!.dataSync(), y.dataSync())).toBeLessThanOrEqual(1e-6);
      tf.dispose([x, y, padded, wins, ref, recorded!]);
    }
    model.dispose();
  });

  it('denseForward: pixel p = the patch model on the window centred at p of the bordered image', async () => {
    const spec = defineNet({
      inChannels: 3,
      layers: [
        conv2d({ outChannels: 4, filterSize: 3 }),
        relu(),
        maxPool({ size: 2 }),
        conv2d({ outChannels: 2, filterSize: 2 }),
      ],
    });
    const model = createModel(spec, 11);
    const R = receptiveField(spec).size; // 3 + 1 + 2 = 6
    const pads = densePads(spec);
    expect(pads).toEqual([
      [2, 3],
      [2, 3],
    ]);
    const x = tf.randomUniform([7, 8, 3], 0, 1, 'float32', 3) as tf.Tensor3D;
    for (const border of ['zero', 'reflect', 'symmetric'] as const) {
      const y = denseForward(model, x, { border });
      expect(y.shape).toEqual([7, 8, 2]);
      const mode = border === 'zero' ? null : border;
      const all: Array<[number, number]> = [pads[0], pads[1], [0, 0]];
      const padded = tf.expandDims(
        mode === null ? tf.pad(x, all) : tf.mirrorPad(x, all, mode),
        0,
      ) as tf.Tensor4D;
      const wins = windows(padded, R, 7, 8);
      const ref = model.apply(wins);
      expect(maxAbsDiff(ref.dataSync(), y.dataSync())).toBeLessThanOrEqual(1e-5);
      tf.dispose([y, padded, wins, ref]);
    }
    await expectNoLeaks(() => denseForward(model, x));
    const batch = tf.tidy(() => tf.tile(tf.expandDims(x, 0), [2, 1, 1, 1]));
    const yb = denseForward(model, batch);
    expect(yb.shape).toEqual([2, 7, 8, 2]);
    yb.dispose();
    await expectNoLeaks(() => denseForward(model, batch));
    tf.dispose([x, batch]);
    model.dispose();
  });
});
