import { Rng, SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import { describeBackends, expectNoLeaks } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  applyNet,
  createModel,
  defineNet,
  explicitPads,
  mapSpec,
  type Pair,
  type PoolOp,
  pool2d,
} from '../index.js';
import { maxAbsDiff } from './helpers.js';
import { refApply } from './reference.js';

const poolCase = fc
  .record({
    op: fc.constantFrom<PoolOp>('max', 'avg', 'sum'),
    size: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    dilation: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    padding: fc.constantFrom<'valid' | 'same' | number>('valid', 'same', 1),
    h: fc.integer({ min: 7, max: 11 }),
    w: fc.integer({ min: 7, max: 11 }),
    seed: fc.integer(),
  })
  .map((c) => ({
    ...c,
    // at most one of stride and dilation > 1 per axis
    dilation: [c.stride[0] > 1 ? 1 : c.dilation[0], c.stride[1] > 1 ? 1 : c.dilation[1]] as Pair,
    // an explicit pad of 1 needs a window of extent ≥ 2 (defineNet checks it)
    padding: c.padding === 1 && Math.min(...c.size) < 2 ? ('same' as const) : c.padding,
  }));

describeBackends('pool2d (ePool)', () => {
  it('matches brute force forward and backward (property: op, size, stride, dilation, padding)', () => {
    fc.assert(
      fc.property(poolCase, (c) => {
        const spec = defineNet({ inChannels: 2, layers: [{ kind: 'pool', ...c }] });
        const layer = spec.layers[0]!;
        if (layer.kind !== 'pool') throw new Error('unreachable');
        const rng = new Rng(c.seed);
        const data = rng.uniformArray(c.h * c.w * 2, -1, 1);
        const x = tf.tensor4d(data, [1, c.h, c.w, 2]);
        const pads = explicitPads(
          layer.padding,
          [c.h, c.w],
          layer.size,
          layer.stride,
          layer.dilation,
        );
        const ref = refApply(spec, {}, { h: c.h, w: c.w, c: 2, data: Float64Array.from(data) });
        const y = pool2d(x, c.op, layer.size, layer.stride, layer.dilation, pads);
        expect(y.shape).toEqual([1, ref.h, ref.w, 2]);
        expect(maxAbsDiff(y.dataSync(), ref.data)).toBeLessThanOrEqual(1e-5);
        // gradient of Σ r ⊙ y, against the brute-force gradient (perturb each input by ±1e-3 in float64)
        const r = rng.uniformArray(ref.data.length, -1, 1);
        const g = tf.grad((xx: tf.Tensor) =>
          tf.sum(
            tf.mul(
              pool2d(xx as tf.Tensor4D, c.op, layer.size, layer.stride, layer.dilation, pads),
              tf.tensor(r, y.shape),
            ),
          ),
        )(x);
        const gd = g.dataSync();
        const x64 = Float64Array.from(data);
        const lossAt = (v: Float64Array) => {
          const out = refApply(spec, {}, { h: c.h, w: c.w, c: 2, data: v }).data;
          let s = 0;
          for (let i = 0; i < out.length; i++) s += out[i]! * r[i]!;
          return s;
        };
        for (let i = 0; i < x64.length; i += 3) {
          const v = x64[i]!;
          x64[i] = v + 1e-4;
          const fp = lossAt(x64);
          x64[i] = v - 1e-4;
          const fm = lossAt(x64);
          x64[i] = v;
          expect(Math.abs(gd[i]! - (fp - fm) / 2e-4), `d/dx[${i}]`).toBeLessThanOrEqual(1e-3);
        }
        tf.dispose([x, y, g]);
      }),
      { numRuns: 30, seed: 11 },
    );
  });

  it('forward only (no gradient tape): the native max pool gives the same values as the recorded path (property)', () => {
    fc.assert(
      fc.property(
        poolCase,
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 2 }),
        (c, hBlocks, n) => {
          // sizes that are multiples of the dilation half the time, so both the views and the fallback run
          const h = c.h % 2 === 0 ? c.dilation[0] * (hBlocks + 2) : c.h;
          const w = c.w % 2 === 0 ? c.dilation[1] * (hBlocks + 3) : c.w;
          const spec = defineNet({ inChannels: 3, layers: [{ kind: 'pool', ...c, op: 'max' }] });
          const layer = spec.layers[0]!;
          if (layer.kind !== 'pool') throw new Error('unreachable');
          const pads = explicitPads(
            layer.padding,
            [h, w],
            layer.size,
            layer.stride,
            layer.dilation,
          );
          const x = tf.tensor4d(new Rng(c.seed).uniformArray(n * h * w * 3, -1, 1), [n, h, w, 3]);
          const pool = (z: tf.Tensor4D) =>
            pool2d(z, 'max', layer.size, layer.stride, layer.dilation, pads);
          const fast = pool(x);
          let recorded: tf.Tensor | undefined;
          tf.grad((z: tf.Tensor) => {
            expect(tf.engine().isTapeOn()).toBe(true);
            const y = pool(z as tf.Tensor4D);
            recorded = tf.keep(y.clone());
            return tf.sum(y);
          })(x).dispose();
          expect(fast.shape).toEqual(recorded!.shape);
          expect(maxAbsDiff(fast.dataSync(), recorded!.dataSync())).toBe(0);
          tf.dispose([x, fast, recorded!]);
        },
      ),
      { numRuns: 40, seed: 12 },
    );
  });

  it('forward only, runs tfjs MaxPool on views when the dilation divides the size; slices when recording', async () => {
    const kernels = async (f: () => tf.Tensor) => {
      const info = await tf.profile(() => {
        f().dispose();
        return [];
      });
      return new Set(info.kernelNames);
    };
    const none: [Pair, Pair] = [
      [0, 0],
      [0, 0],
    ];
    const x = tf.randomUniform([1, 12, 12, 2], -1, 1, 'float32', 1) as tf.Tensor4D;
    const odd = tf.randomUniform([1, 11, 12, 2], -1, 1, 'float32', 2) as tf.Tensor4D;
    const views = await kernels(() => pool2d(x, 'max', [2, 3], [1, 1], [2, 3], none));
    expect(views.has('MaxPool')).toBe(true);
    expect(views.has('Maximum')).toBe(false);
    const strided = await kernels(() => pool2d(x, 'max', [2, 2], [2, 2], [1, 1], none));
    expect([...strided]).toEqual(['MaxPool']);
    const fallback = await kernels(() => pool2d(odd, 'max', [2, 3], [1, 1], [2, 3], none)); // 11 rows, dilation 2
    expect(fallback.has('Maximum')).toBe(true);
    expect(fallback.has('MaxPool')).toBe(true);
    const recorded = await kernels(() =>
      tf.grad((z: tf.Tensor) =>
        tf.sum(pool2d(z as tf.Tensor4D, 'max', [2, 3], [1, 1], [2, 3], none)),
      )(x),
    );
    expect(recorded.has('MaxPool')).toBe(false);
    expect(recorded.has('Maximum')).toBe(true);
    tf.dispose([x, odd]);
  });

  it('does not leak, and returns a new tensor for a 1×1 window', async () => {
    const x = tf.ones([1, 6, 6, 2]) as tf.Tensor4D;
    const none: [Pair, Pair] = [
      [0, 0],
      [0, 0],
    ];
    for (const op of ['max', 'avg', 'sum'] as const) {
      await expectNoLeaks(() => pool2d(x, op, [2, 2], [1, 1], [2, 2], none));
      await expectNoLeaks(() =>
        pool2d(
          x,
          op,
          [3, 2],
          [1, 1],
          [1, 2],
          [
            [1, 1],
            [0, 1],
          ],
        ),
      );
      await expectNoLeaks(() => pool2d(x, op, [2, 2], [2, 2], [1, 1], none));
    }
    const same = pool2d(x, 'max', [1, 1], [1, 1], [1, 1], none);
    same.dispose();
    expect(x.isDisposed).toBe(false);
    x.dispose();
  });

  it("maxPoolAs: 'sum' = the network with its max pools turned into sum pools (Path-SGD pass)", () => {
    const spec = defineNet({
      inChannels: 1,
      layers: [
        { kind: 'conv2d', outChannels: 2, filterSize: 2 },
        { kind: 'pool', op: 'max', size: 2 },
        { kind: 'conv2d', outChannels: 1, filterSize: 2 },
        { kind: 'pool', op: 'avg', size: 2, stride: 1 },
      ],
    });
    const sumSpec = mapSpec(spec, (l) =>
      l.kind === 'pool' && l.op === 'max' ? { ...l, op: 'sum' } : l,
    );
    expect(sumSpec.layers.map((l) => (l.kind === 'pool' ? l.op : l.kind))).toEqual([
      'conv2d',
      'sum',
      'conv2d',
      'avg',
    ]);
    const model = createModel(spec, 4);
    const sq = tf.tidy(() =>
      Object.fromEntries(Object.entries(model.params).map(([k, v]) => [k, tf.square(v)])),
    );
    const ones = tf.ones([1, 8, 8, 1]);
    const a = model.apply(ones, { params: sq, maxPoolAs: 'sum' });
    const b = applyNet(sumSpec, sq, ones);
    const c = model.apply(ones, { params: sq });
    expect(maxAbsDiff(a.dataSync(), b.dataSync())).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(a.dataSync(), c.dataSync())).toBeGreaterThan(1e-3);
    tf.dispose([a, b, c, ones, sq]);
    model.dispose();
  });

  it('pool2d rejects arguments it cannot run, naming them', async () => {
    const x = tf.zeros([1, 5, 6, 2]) as tf.Tensor4D;
    const x3 = tf.zeros([5, 6, 2]);
    const none: [Pair, Pair] = [
      [0, 0],
      [0, 0],
    ];
    const cases: Array<[() => unknown, Error]> = [
      [
        () => pool2d(x3 as never, 'max', [2, 2], [1, 1], [1, 1], none),
        new SegShapeError('pool2d: x has shape [5,6,2], expected [*,*,*,*]'),
      ],
      [
        () => pool2d(x, 'min' as PoolOp, [2, 2], [1, 1], [1, 1], none),
        new SegValueError(`pool2d: op is "min", expected 'max', 'avg' or 'sum'`),
      ],
      [
        () => pool2d(x, 'max', [0, 2], [1, 1], [1, 1], none),
        new SegRangeError('pool2d: size[0] is 0, expected an integer ≥ 1'),
      ],
      [
        () => pool2d(x, 'max', [2, 2], [1, 1.5], [1, 1], none),
        new SegRangeError('pool2d: stride[1] is 1.5, expected an integer ≥ 1'),
      ],
      [
        () =>
          pool2d(
            x,
            'max',
            [2, 2],
            [1, 1],
            [1, 1],
            [
              [0, -1],
              [0, 0],
            ],
          ),
        new SegRangeError('pool2d: pads[0][1] is -1, expected an integer ≥ 0'),
      ],
      [
        () => pool2d(x, 'max', [2, 2], [2, 1], [2, 1], none),
        new SegRangeError(
          'pool2d: stride is [2,1] and dilation is [2,1], expected at most one of them > 1 on each axis',
        ),
      ],
      [
        () =>
          pool2d(
            x,
            'avg',
            [3, 2],
            [1, 1],
            [3, 1],
            [
              [0, 1],
              [0, 0],
            ],
          ),
        new SegShapeError(
          "pool2d: x is 5×6 (rows 6 after padding), smaller than the window's extent 7",
        ),
      ],
    ];
    await expectNoLeaks(() => {
      for (const [call, error] of cases) expect(call).toThrow(error);
    });
    tf.dispose([x, x3]);
  });
});
