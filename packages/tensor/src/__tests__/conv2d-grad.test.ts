import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initBackend, Rng } from '../index.js';
import { maxNormRelativeError as relErr } from '../testing/index.js';

interface Case {
  b: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  stride: number;
  dilation: number;
  pad: 'same' | 'valid';
}

/** Conv2D forward in float64 plain JS, NHWC, tfjs's padding rules. */
function conv64(
  x: Float64Array,
  f: Float64Array,
  c: Case,
): { y: Float64Array; ho: number; wo: number } {
  const info = tf.backend_util.computeConv2DInfo(
    [c.b, c.h, c.w, c.cin],
    [c.kh, c.kw, c.cin, c.cout],
    c.stride,
    c.dilation,
    c.pad,
  );
  const { outHeight: ho, outWidth: wo } = info;
  const { top, left } = info.padInfo;
  const y = new Float64Array(c.b * ho * wo * c.cout);
  for (let b = 0; b < c.b; b++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let o = 0; o < c.cout; o++) {
          let s = 0;
          for (let u = 0; u < c.kh; u++)
            for (let v = 0; v < c.kw; v++) {
              const r = i * c.stride + u * c.dilation - top;
              const q = j * c.stride + v * c.dilation - left;
              if (r < 0 || r >= c.h || q < 0 || q >= c.w) continue;
              for (let ch = 0; ch < c.cin; ch++)
                s +=
                  x[((b * c.h + r) * c.w + q) * c.cin + ch]! *
                  f[((u * c.kw + v) * c.cin + ch) * c.cout + o]!;
            }
          y[((b * ho + i) * wo + j) * c.cout + o] = s;
        }
  return { y, ho, wo };
}

const caseArb = fc
  .record({
    b: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 3, max: 9 }),
    w: fc.integer({ min: 3, max: 9 }),
    cin: fc.integer({ min: 1, max: 3 }),
    cout: fc.integer({ min: 1, max: 3 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    strideOrDilation: fc.constantFrom('stride', 'dilation'),
    factor: fc.integer({ min: 1, max: 3 }),
    pad: fc.constantFrom('same' as const, 'valid' as const),
  })
  .map((r) => ({
    ...r,
    stride: r.strideOrDilation === 'stride' ? r.factor : 1,
    dilation: r.strideOrDilation === 'dilation' ? r.factor : 1,
  }))
  .filter((c) => c.h >= (c.kh - 1) * c.dilation + 1 && c.w >= (c.kw - 1) * c.dilation + 1);

function grads(c: Case, xs: Float32Array, fs: Float32Array, gs: Float32Array) {
  return tf.tidy(() => {
    const x = tf.tensor4d(xs, [c.b, c.h, c.w, c.cin]);
    const f = tf.tensor4d(fs, [c.kh, c.kw, c.cin, c.cout]);
    const loss = (a: tf.Tensor, k: tf.Tensor) => {
      const y = tf.conv2d(a as tf.Tensor4D, k as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation);
      return tf.sum(tf.mul(y, tf.reshape(tf.tensor1d(gs), y.shape)));
    };
    const [gx, gf] = tf.grads(loss)([x, f]);
    return [gx!.dataSync().slice(), gf!.dataSync().slice()] as const;
  });
}

describe('Conv2D gradient', () => {
  it('matches the cpu backend to 1e-5 (relative to the largest entry) on wasm, for strides and dilations', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.integer(), async (c, seed) => {
        const rng = new Rng(seed);
        await initBackend({ backend: 'cpu' });
        const { ho, wo } = conv64(
          new Float64Array(c.b * c.h * c.w * c.cin),
          new Float64Array(c.kh * c.kw * c.cin * c.cout),
          c,
        );
        const xs = rng.normalArray(c.b * c.h * c.w * c.cin);
        const fs = rng.normalArray(c.kh * c.kw * c.cin * c.cout);
        const gs = rng.normalArray(c.b * ho * wo * c.cout);
        // The cpu backend's own (tfjs) gradient, where tfjs allows it, is the reference.
        const ref = c.dilation === 1 ? cpuReference(c, xs, fs, gs) : null;
        const onCpu = grads(c, xs, fs, gs);
        await initBackend({ backend: 'wasm' });
        const onWasm = grads(c, xs, fs, gs);
        expect(relErr(onWasm[0], onCpu[0])).toBeLessThan(1e-5);
        expect(relErr(onWasm[1], onCpu[1])).toBeLessThan(1e-5);
        if (ref) {
          expect(relErr(onCpu[0], ref[0])).toBeLessThan(1e-5);
          expect(relErr(onCpu[1], ref[1])).toBeLessThan(1e-5);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('matches float64 finite differences with dilation 2 on wasm (1e-5 relative to the largest entry)', async () => {
    await initBackend({ backend: 'wasm' });
    const c: Case = {
      b: 2,
      h: 7,
      w: 8,
      cin: 2,
      cout: 3,
      kh: 3,
      kw: 3,
      stride: 1,
      dilation: 2,
      pad: 'same',
    };
    const rng = new Rng(7);
    const xs = rng.normalArray(c.b * c.h * c.w * c.cin);
    const fs = rng.normalArray(c.kh * c.kw * c.cin * c.cout);
    const { ho, wo } = conv64(Float64Array.from(xs), Float64Array.from(fs), c);
    const gs = rng.normalArray(c.b * ho * wo * c.cout);
    const objective = (x: Float64Array, f: Float64Array) => {
      const { y } = conv64(x, f, c);
      let s = 0;
      for (let i = 0; i < y.length; i++) s += y[i]! * gs[i]!;
      return s;
    };
    const fd = (which: 'x' | 'f') => {
      const x = Float64Array.from(xs);
      const f = Float64Array.from(fs);
      const v = which === 'x' ? x : f;
      const g = new Float64Array(v.length);
      for (let i = 0; i < v.length; i++) {
        const t = v[i]!;
        v[i] = t + 1e-4;
        const p = objective(x, f);
        v[i] = t - 1e-4;
        const m = objective(x, f);
        v[i] = t;
        g[i] = (p - m) / 2e-4;
      }
      return g;
    };
    const [gx, gf] = grads(c, xs, fs, gs);
    expect(relErr(gx, fd('x'))).toBeLessThan(1e-5);
    expect(relErr(gf, fd('f'))).toBeLessThan(1e-5);
  });

  it('leaks no tensors', async () => {
    await initBackend({ backend: 'wasm' });
    const before = tf.memory().numTensors;
    const c: Case = {
      b: 1,
      h: 6,
      w: 6,
      cin: 2,
      cout: 2,
      kh: 3,
      kw: 3,
      stride: 2,
      dilation: 1,
      pad: 'same',
    };
    grads(
      c,
      new Float32Array(72).fill(1),
      new Float32Array(36).fill(0.5),
      new Float32Array(18).fill(1),
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** tfjs's own Conv2D gradient kernels (Conv2DBackpropInput / Filter) on cpu, dilation 1. */
function cpuReference(c: Case, xs: Float32Array, fs: Float32Array, gs: Float32Array) {
  return tf.tidy(() => {
    const x = tf.tensor4d(xs, [c.b, c.h, c.w, c.cin]);
    const f = tf.tensor4d(fs, [c.kh, c.kw, c.cin, c.cout]);
    const y = tf.conv2d(x, f, c.stride, c.pad);
    const dy = tf.reshape(tf.tensor1d(gs), y.shape) as tf.Tensor4D;
    const gx = tf.conv2dTranspose(dy, f, [c.b, c.h, c.w, c.cin], c.stride, c.pad);
    const gf = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
      strides: c.stride,
      pad: c.pad,
      dataFormat: 'NHWC',
      dimRoundingMode: undefined,
      filterShape: [c.kh, c.kw, c.cin, c.cout],
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
    return [gx.dataSync().slice(), gf.dataSync().slice()] as const;
  });
}
