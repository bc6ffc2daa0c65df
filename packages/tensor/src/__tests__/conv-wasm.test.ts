// The direct convolution's SIMD kernel (SegConv2D, gradients/wasm/conv.wat)
// and fusedConv2d: on both backends (SegConv2D on wasm, tfjs's FusedConv2D
// on cpu) the same values as a float64 brute force, for random shapes with
// strides, dilations, pads, output channels not a multiple of 4, bias or
// not, linear or ReLU; the gradient is FusedConv2D's; conv2dInputGrad (on
// wasm SegConv2D reading the filter flipped and transposed) agrees with a
// float64 brute force; no leaks. (The
// committed bytes of conv.wat are checked with the others in
// filter-grad-wasm.test.ts.)
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conv2dInputGrad, nhwcConv2DInfo } from '../gradients/conv2d-grad.js';
import { SEG_CONV2D, wasmConvReady } from '../gradients/wasm/conv.js';
import { fusedConv2d, initBackend, Rng } from '../index.js';
import {
  describeBackends,
  expectNoLeaks,
  maxNormRelativeError as relErr,
} from '../testing/index.js';

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

interface Case {
  b: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pad: Pad;
  bias: boolean;
  relu: boolean;
}

/** Output size and leading pads of a case, from tfjs's convInfo. */
function geometry(c: Case): { ho: number; wo: number; top: number; left: number } {
  const info = tf.backend_util.computeConv2DInfo(
    [c.b, c.h, c.w, c.ci],
    [c.kh, c.kw, c.ci, c.co],
    [c.sh, c.sw],
    [c.dh, c.dw],
    c.pad,
  );
  return { ho: info.outHeight, wo: info.outWidth, top: info.padInfo.top, left: info.padInfo.left };
}

/** y in float64 by its definition, the geometry from tfjs's convInfo. */
function conv64(c: Case, xs: Float32Array, ws: Float32Array, bs: Float32Array): Float64Array {
  const { ho, wo, top, left } = geometry(c);
  const y = new Float64Array(c.b * ho * wo * c.co);
  for (let b = 0; b < c.b; b++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let o = 0; o < c.co; o++) {
          let s = c.bias ? bs[o]! : 0;
          for (let u = 0; u < c.kh; u++) {
            const r = i * c.sh + u * c.dh - top;
            if (r < 0 || r >= c.h) continue;
            for (let v = 0; v < c.kw; v++) {
              const q = j * c.sw + v * c.dw - left;
              if (q < 0 || q >= c.w) continue;
              for (let ch = 0; ch < c.ci; ch++)
                s +=
                  xs[((b * c.h + r) * c.w + q) * c.ci + ch]! *
                  ws[((u * c.kw + v) * c.ci + ch) * c.co + o]!;
            }
          }
          y[((b * ho + i) * wo + j) * c.co + o] = c.relu ? Math.max(0, s) : s;
        }
  return y;
}

const padArb: fc.Arbitrary<Pad> = fc.oneof(
  fc.constantFrom<Pad>('same', 'valid'),
  fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)).map(
    ([t, b, l, r]): Pad => [
      [0, 0],
      [t, b],
      [l, r],
      [0, 0],
    ],
  ),
);

/** Strides or dilations (tf.conv2d refuses both above 1; the kernel takes both, see below). */
const caseArb: fc.Arbitrary<Case> = fc
  .record({
    b: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 1, max: 9 }),
    w: fc.integer({ min: 1, max: 13 }),
    ci: fc.integer({ min: 1, max: 7 }),
    // across the kernel's blocks: 4 vectors (2 pixels), 2 (4 pixels), 1 (8 pixels), and partial vectors
    co: fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 20, 22, 24, 30, 35),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    strideOrDilation: fc.constantFrom('stride', 'dilation'),
    f1: fc.integer({ min: 1, max: 2 }),
    f2: fc.integer({ min: 1, max: 3 }),
    pad: padArb,
    bias: fc.boolean(),
    relu: fc.boolean(),
  })
  .map(({ strideOrDilation, f1, f2, ...r }) => ({
    ...r,
    sh: strideOrDilation === 'stride' ? f1 : 1,
    sw: strideOrDilation === 'stride' ? f2 : 1,
    dh: strideOrDilation === 'dilation' ? f1 : 1,
    dw: strideOrDilation === 'dilation' ? f2 : 1,
  }))
  .filter((c) => valid(c));

/** The convolution has at least one output pixel. */
function valid(c: Case): boolean {
  const info = tf.backend_util.computeConv2DInfo(
    [c.b, c.h, c.w, c.ci],
    [c.kh, c.kw, c.ci, c.co],
    [c.sh, c.sw],
    [c.dh, c.dw],
    c.pad,
  );
  return info.outHeight > 0 && info.outWidth > 0;
}

function data(c: Case, seed: number) {
  const rng = new Rng(seed);
  return {
    xs: rng.normalArray(c.b * c.h * c.w * c.ci),
    ws: rng.normalArray(c.kh * c.kw * c.ci * c.co),
    bs: rng.normalArray(c.co),
  };
}

/** fusedConv2d's output and the float64 reference. */
function run(c: Case, seed: number): { y: Float32Array; ref: Float64Array } {
  const { xs, ws, bs } = data(c, seed);
  const y = tf.tidy(
    () =>
      fusedConv2d({
        x: tf.tensor4d(xs, [c.b, c.h, c.w, c.ci]),
        filter: tf.tensor4d(ws, [c.kh, c.kw, c.ci, c.co]),
        bias: c.bias ? tf.tensor1d(bs) : undefined,
        strides: [c.sh, c.sw],
        pad: c.pad,
        dilations: [c.dh, c.dw],
        activation: c.relu ? 'relu' : 'linear',
      }).dataSync() as Float32Array,
  );
  return { y, ref: conv64(c, xs, ws, bs) };
}

/** dx in float64 by its definition: dx[b,r,q,c] = Σ dy[b,i,j,o]·w[u,v,c,o] over the taps reading (r, q). */
function inputGrad64(c: Case, gs: Float32Array, ws: Float32Array): Float64Array {
  const { ho, wo, top, left } = geometry(c);
  const dx = new Float64Array(c.b * c.h * c.w * c.ci);
  for (let b = 0; b < c.b; b++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let u = 0; u < c.kh; u++) {
          const r = i * c.sh + u * c.dh - top;
          if (r < 0 || r >= c.h) continue;
          for (let v = 0; v < c.kw; v++) {
            const q = j * c.sw + v * c.dw - left;
            if (q < 0 || q >= c.w) continue;
            for (let ch = 0; ch < c.ci; ch++)
              for (let o = 0; o < c.co; o++)
                dx[((b * c.h + r) * c.w + q) * c.ci + ch]! +=
                  gs[((b * ho + i) * wo + j) * c.co + o]! *
                  ws[((u * c.kw + v) * c.ci + ch) * c.co + o]!;
          }
        }
  return dx;
}

describeBackends('conv2dInputGrad', () => {
  it('matches a float64 brute force (1e-5 relative to the largest entry), 1×1 included', () => {
    fc.assert(
      fc.property(caseArb, fc.integer(), (c, seed) => {
        const rng = new Rng(seed);
        const ws = rng.normalArray(c.kh * c.kw * c.ci * c.co);
        let dx: { got: Float32Array; ref: Float64Array } | undefined;
        tf.tidy(() => {
          const filter = tf.tensor4d(ws, [c.kh, c.kw, c.ci, c.co]);
          const info = nhwcConv2DInfo(
            'test',
            tf.zeros([c.b, c.h, c.w, c.ci]) as tf.Tensor4D,
            filter,
            {
              strides: [c.sh, c.sw],
              pad: c.pad,
              dataFormat: 'NHWC',
              dilations: [c.dh, c.dw],
            } as tf.Conv2DAttrs,
          );
          const gs = rng.normalArray(c.b * info.outHeight * info.outWidth * c.co);
          const dy = tf.tensor4d(gs, [c.b, info.outHeight, info.outWidth, c.co]);
          dx = {
            got: conv2dInputGrad(
              dy,
              filter,
              [c.b, c.h, c.w, c.ci],
              info,
            ).dataSync() as Float32Array,
            ref: inputGrad64(c, gs, ws),
          };
        });
        expect(relErr(dx!.got, dx!.ref)).toBeLessThan(1e-5);
      }),
      { numRuns: 60 },
    );
  });
});

describeBackends('fusedConv2d', (backend) => {
  it(`runs the SIMD kernel ${backend === 'wasm' ? 'on wasm' : 'nowhere on cpu'}`, () => {
    expect(wasmConvReady()).toBe(backend === 'wasm');
  });

  it('matches a float64 brute force (1e-5 relative to the largest entry)', () => {
    fc.assert(
      fc.property(caseArb, fc.integer(), (c, seed) => {
        const { y, ref } = run(c, seed);
        expect(y.length).toBe(ref.length);
        expect(relErr(y, ref)).toBeLessThan(1e-5);
      }),
      { numRuns: 80 },
    );
  });

  it('matches at optim-adm’s pixel-net layers (120×90: 9 → 16, 16 → 16 dilated 2, 1×1 16 → 2)', () => {
    const base = { b: 1, h: 90, w: 120, sh: 1, sw: 1, bias: true, relu: true };
    for (const c of [
      { ...base, ci: 9, co: 16, kh: 3, kw: 3, dh: 1, dw: 1, pad: 'same' },
      { ...base, ci: 16, co: 16, kh: 3, kw: 3, dh: 2, dw: 2, pad: 'same' },
      { ...base, ci: 16, co: 2, kh: 1, kw: 1, dh: 1, dw: 1, pad: 'valid', relu: false },
    ] satisfies Case[]) {
      const { y, ref } = run(c, c.ci);
      expect(relErr(y, ref)).toBeLessThan(1e-5);
    }
  });

  it('has FusedConv2D’s gradient (x, filter, bias), against separate ops', () => {
    const c: Case = {
      b: 2,
      h: 7,
      w: 9,
      ci: 3,
      co: 6,
      kh: 3,
      kw: 2,
      sh: 1,
      sw: 1,
      dh: 2,
      dw: 1,
      pad: 'same',
      bias: true,
      relu: true,
    };
    const { xs, ws, bs } = data(c, 3);
    tf.tidy(() => {
      const x = tf.tensor4d(xs, [c.b, c.h, c.w, c.ci]);
      const filter = tf.tensor4d(ws, [c.kh, c.kw, c.ci, c.co]);
      const bias = tf.tensor1d(bs);
      const weights = tf.randomNormal([c.b, c.h, c.w, c.co], 0, 1, 'float32', 5);
      const loss = (y: tf.Tensor) => tf.sum(tf.mul(y, weights));
      const fused = tf.grads((a: tf.Tensor, f: tf.Tensor, b: tf.Tensor) =>
        loss(
          fusedConv2d({
            x: a as tf.Tensor4D,
            filter: f as tf.Tensor4D,
            bias: b,
            strides: 1,
            pad: 'same',
            dilations: [2, 1],
            activation: 'relu',
          }),
        ),
      )([x, filter, bias]);
      const separate = tf.grads((a: tf.Tensor, f: tf.Tensor, b: tf.Tensor) =>
        loss(
          tf.relu(
            tf.add(tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, 'same', 'NHWC', [2, 1]), b),
          ),
        ),
      )([x, filter, bias]);
      for (let i = 0; i < 3; i++) {
        expect(
          relErr(fused[i]!.dataSync() as Float32Array, separate[i]!.dataSync() as Float32Array),
        ).toBeLessThan(1e-5);
      }
    });
  });

  it('throws for mismatched channels and bias', () => {
    const x = tf.zeros([1, 3, 3, 2]) as tf.Tensor4D;
    const filter = tf.zeros([1, 1, 3, 4]) as tf.Tensor4D;
    const filter2 = tf.zeros([1, 1, 2, 4]) as tf.Tensor4D;
    const bias = tf.zeros([3]);
    expect(() => fusedConv2d({ x, filter, strides: 1, pad: 'valid' })).toThrow(
      'fusedConv2d: filter has shape [1,1,3,4], expected [*,*,2,*]',
    );
    expect(() => fusedConv2d({ x, filter: filter2, bias, strides: 1, pad: 'valid' })).toThrow(
      'fusedConv2d: bias has shape [3], expected [4]',
    );
    tf.dispose([x, filter, filter2, bias]);
  });

  it('throws for a filter that does not fit in the input', () => {
    const x = tf.zeros([1, 3, 3, 1]) as tf.Tensor4D;
    const filter = tf.zeros([3, 3, 1, 1]) as tf.Tensor4D;
    expect(() => fusedConv2d({ x, filter, strides: 1, pad: 'valid', dilations: 2 })).toThrow(
      'fusedConv2d: the filter spans 5×5 (dilated), x is 3×3 with pad "valid"; expected an output of at least 1×1, got -1×-1',
    );
    tf.dispose([x, filter]);
  });

  it('throws for another activation', () => {
    const x = tf.zeros([1, 3, 3, 1]) as tf.Tensor4D;
    const filter = tf.zeros([1, 1, 1, 1]) as tf.Tensor4D;
    expect(() =>
      fusedConv2d({
        x,
        filter,
        strides: 1,
        pad: 'valid',
        activation: 'elu' as 'relu',
      }),
    ).toThrow(`fusedConv2d: activation is "elu", expected 'linear' or 'relu'`);
    tf.dispose([x, filter]);
  });

  it('leaks no tensors (output, scratch buffers, gradient)', async () => {
    const c: Case = {
      b: 1,
      h: 6,
      w: 7,
      ci: 3,
      co: 5,
      kh: 3,
      kw: 3,
      sh: 1,
      sw: 1,
      dh: 1,
      dw: 1,
      pad: 'same',
      bias: true,
      relu: true,
    };
    run(c, 1);
    await expectNoLeaks(() => run(c, 2));
    const x = tf.randomNormal([1, 6, 7, 3]) as tf.Tensor4D;
    const filter = tf.randomNormal([3, 3, 3, 5]) as tf.Tensor4D;
    await expectNoLeaks(() =>
      tf.grads((a: tf.Tensor, f: tf.Tensor) =>
        tf.sum(
          fusedConv2d({
            x: a as tf.Tensor4D,
            filter: f as tf.Tensor4D,
            strides: 1,
            pad: 'same',
            activation: 'relu',
          }),
        ),
      )([x, filter]),
    );
    tf.dispose([x, filter]);
  });
});

/** y by the kernel itself (wasm), with `rowsPerPass` filter rows per pass when given. */
function byKernel(c: Case, seed: number, rowsPerPass = 0) {
  const { xs, ws, bs } = data(c, seed);
  const y = tf.tidy(() => {
    const inputs: tf.NamedTensorMap = {
      x: tf.tensor4d(xs, [c.b, c.h, c.w, c.ci]),
      filter: tf.tensor4d(ws, [c.kh, c.kw, c.ci, c.co]),
    };
    if (c.bias) inputs.bias = tf.tensor1d(bs);
    const attrs = {
      strides: [c.sh, c.sw],
      pad: c.pad,
      dataFormat: 'NHWC',
      dilations: [c.dh, c.dw],
      activation: c.relu ? 'relu' : 'linear',
      rowsPerPass,
    };
    return (
      tf.engine().runKernel(SEG_CONV2D, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor
    ).dataSync() as Float32Array;
  });
  return { y, ref: conv64(c, xs, ws, bs) };
}

describe('SegConv2D', () => {
  it('gives the same y in any number of passes, strides and dilations together (1e-5 relative)', async () => {
    await initBackend({ backend: 'wasm', threads: 1 });
    const both = fc
      .record({
        c: caseArb,
        sh: fc.integer({ min: 1, max: 2 }),
        dw: fc.integer({ min: 1, max: 2 }),
      })
      .map(({ c, sh, dw }) => ({ ...c, sh: Math.max(c.sh, sh), dw: Math.max(c.dw, dw) }))
      .filter((c) => valid(c));
    fc.assert(
      fc.property(both, fc.integer(), fc.integer({ min: 0, max: 3 }), (c, seed, rows) => {
        const { y, ref } = byKernel(c, seed, rows);
        expect(relErr(y, ref)).toBeLessThan(1e-5);
      }),
      { numRuns: 60 },
    );
  });

  it('runs on the shared memory of the 2-thread build', async () => {
    try {
      const report = await initBackend({ backend: 'wasm', threads: 2 });
      expect(wasmConvReady()).toBe(true);
      const c: Case = {
        b: 2,
        h: 9,
        w: 11,
        ci: 5,
        co: 19,
        kh: 3,
        kw: 2,
        sh: 2,
        sw: 1,
        dh: 1,
        dw: 2,
        pad: 'same',
        bias: true,
        relu: true,
      };
      const { y, ref } = byKernel(c, 5);
      expect(relErr(y, ref), JSON.stringify(report)).toBeLessThan(1e-5);
    } finally {
      await initBackend({ backend: 'wasm', threads: 1 });
    }
  });
});
