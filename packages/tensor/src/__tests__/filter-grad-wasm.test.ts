// The Conv2D filter gradient's SIMD kernel (gradients/wasm): its committed
// bytes are what filter-grad.wat assembles to, and on both backends
// conv2dFilterGrad (the kernel on wasm, the convolution path on cpu) agrees
// with a float64 brute force and with the convolution path.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  conv2dFilterGrad,
  conv2dFilterGradByConvolution,
  nhwcConv2DInfo,
} from '../gradients/conv2d-grad.js';
import { kernelsWasmSource } from '../gradients/wasm/build-kernels.mjs';
import {
  type FilterGradAttrs,
  SEG_CONV2D_BACKPROP_FILTER,
  wasmFilterGradReady,
} from '../gradients/wasm/filter-grad.js';
import { initBackend, Rng } from '../index.js';
import {
  describeBackends,
  expectNoLeaks,
  maxNormRelativeError as relErr,
} from '../testing/index.js';

describe('filter-grad.wat → kernels-wasm.ts', () => {
  it('rebuilding gives the committed bytes', async () => {
    const committed = readFileSync(
      new URL('../gradients/wasm/kernels-wasm.ts', import.meta.url),
      'utf8',
    );
    expect(
      await kernelsWasmSource(),
      'run `npx -y pnpm@10.34.8 build:wasm` in packages/tensor',
    ).toBe(committed);
  });
});

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

interface Case {
  b: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  stride: number;
  dilation: number;
  pad: Pad;
}

/** dW in float64 by its definition, the geometry from tfjs's convInfo. */
function filterGrad64(c: Case, xs: Float32Array, gs: Float32Array): Float64Array {
  const info = tf.backend_util.computeConv2DInfo(
    [c.b, c.h, c.w, c.ci],
    [c.kh, c.kw, c.ci, c.co],
    c.stride,
    c.dilation,
    c.pad,
  );
  const { outHeight: ho, outWidth: wo } = info;
  const { top, left } = info.padInfo;
  const g = new Float64Array(c.kh * c.kw * c.ci * c.co);
  for (let u = 0; u < c.kh; u++)
    for (let v = 0; v < c.kw; v++)
      for (let b = 0; b < c.b; b++)
        for (let i = 0; i < ho; i++)
          for (let j = 0; j < wo; j++) {
            const r = i * c.stride + u * c.dilation - top;
            const q = j * c.stride + v * c.dilation - left;
            if (r < 0 || r >= c.h || q < 0 || q >= c.w) continue;
            for (let ch = 0; ch < c.ci; ch++)
              for (let o = 0; o < c.co; o++)
                g[((u * c.kw + v) * c.ci + ch) * c.co + o]! +=
                  xs[((b * c.h + r) * c.w + q) * c.ci + ch]! *
                  gs[((b * ho + i) * wo + j) * c.co + o]!;
          }
  return g;
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    b: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 3, max: 9 }),
    w: fc.integer({ min: 3, max: 9 }),
    // channels across the kernel's blocks: 2 inputs and 16 outputs at a time, then 4, then 1–3
    ci: fc.integer({ min: 1, max: 7 }),
    co: fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 13, 16, 17, 22, 32, 35),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 2, max: 3 }),
    strideOrDilation: fc.constantFrom('stride', 'dilation'),
    factor: fc.integer({ min: 1, max: 2 }),
    pad: fc.oneof(
      fc.constantFrom<Pad>('same', 'valid'),
      fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)).map(
        ([t, b, l, r]): Pad => [
          [0, 0],
          [t, b],
          [l, r],
          [0, 0],
        ],
      ),
    ),
  })
  .map((r) => ({
    ...r,
    stride: r.strideOrDilation === 'stride' ? r.factor : 1,
    dilation: r.strideOrDilation === 'dilation' ? r.factor : 1,
  }))
  .filter((c) => c.h >= (c.kh - 1) * c.dilation + 1 && c.w >= (c.kw - 1) * c.dilation + 1);

/** dW by conv2dFilterGrad and by the convolution path, and the float64 reference. */
function both(
  c: Case,
  seed: number,
): { dw: Float32Array; byConvolution: Float32Array; ref: Float64Array } {
  const rng = new Rng(seed);
  let result: ReturnType<typeof both> | undefined;
  tf.tidy(() => {
    const x = tf.tensor4d(rng.normalArray(c.b * c.h * c.w * c.ci), [c.b, c.h, c.w, c.ci]);
    const filter = tf.zeros([c.kh, c.kw, c.ci, c.co]) as tf.Tensor4D;
    const info = nhwcConv2DInfo('test', x, filter, {
      strides: c.stride,
      pad: c.pad,
      dataFormat: 'NHWC',
      dilations: c.dilation,
    } as tf.Conv2DAttrs);
    const gs = rng.normalArray(c.b * info.outHeight * info.outWidth * c.co);
    const dy = tf.tensor4d(gs, [c.b, info.outHeight, info.outWidth, c.co]);
    result = {
      dw: conv2dFilterGrad(x, dy, info).dataSync() as Float32Array,
      byConvolution: conv2dFilterGradByConvolution(x, dy, info).dataSync() as Float32Array,
      ref: filterGrad64(c, x.dataSync() as Float32Array, gs),
    };
  });
  return result!;
}

describeBackends('conv2dFilterGrad', (backend) => {
  it(`runs the SIMD kernel ${backend === 'wasm' ? 'on wasm' : 'nowhere on cpu'}`, () => {
    expect(wasmFilterGradReady()).toBe(backend === 'wasm');
  });

  it('matches a float64 brute force and the convolution path (1e-5 relative to the largest entry)', () => {
    fc.assert(
      fc.property(caseArb, fc.integer(), (c, seed) => {
        const { dw, byConvolution, ref } = both(c, seed);
        expect(relErr(dw, ref)).toBeLessThan(1e-5);
        expect(relErr(dw, byConvolution)).toBeLessThan(1e-5);
      }),
      { numRuns: 60 },
    );
  });

  // 120×90 on wasm; 60×45 on cpu, where the convolution path is slow
  const [h, w] = backend === 'wasm' ? [90, 120] : [45, 60];
  it(`matches at the pixel net’s layers (${w}×${h}, 9 → 16 and 16 → 16 dilated 2)`, () => {
    for (const [ci, dilation] of [
      [9, 1],
      [16, 2],
    ] as const) {
      const c: Case = {
        b: 1,
        h,
        w,
        ci,
        co: 16,
        kh: 3,
        kw: 3,
        stride: 1,
        dilation,
        pad: 'same',
      };
      const { dw, byConvolution, ref } = both(c, ci);
      expect(relErr(dw, ref)).toBeLessThan(1e-5);
      expect(relErr(dw, byConvolution)).toBeLessThan(1e-5);
    }
  });

  it('leaks no tensors', async () => {
    const c: Case = {
      b: 2,
      h: 6,
      w: 7,
      ci: 3,
      co: 5,
      kh: 3,
      kw: 3,
      stride: 1,
      dilation: 2,
      pad: 'same',
    };
    both(c, 1);
    await expectNoLeaks(() => both(c, 2));
  });
});

/** dW by the kernel itself (wasm), with tiles of `tileRows` × `tileCols` when given, and the float64 reference. */
function byKernel(c: Case, seed: number, tileRows = 0, tileCols = 0) {
  const rng = new Rng(seed);
  const info = tf.backend_util.computeConv2DInfo(
    [c.b, c.h, c.w, c.ci],
    [c.kh, c.kw, c.ci, c.co],
    c.stride,
    c.dilation,
    c.pad,
  );
  const xs = rng.normalArray(c.b * c.h * c.w * c.ci);
  const gs = rng.normalArray(c.b * info.outHeight * info.outWidth * c.co);
  const attrs: FilterGradAttrs = {
    filterHeight: c.kh,
    filterWidth: c.kw,
    strideHeight: c.stride,
    strideWidth: c.stride,
    dilationHeight: c.dilation,
    dilationWidth: c.dilation,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    tileRows,
    tileCols,
  };
  const dw = tf.tidy(
    () =>
      (
        tf.engine().runKernel(
          SEG_CONV2D_BACKPROP_FILTER,
          {
            x: tf.tensor4d(xs, [c.b, c.h, c.w, c.ci]),
            dy: tf.tensor4d(gs, [c.b, info.outHeight, info.outWidth, c.co]),
          },
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor
      ).dataSync() as Float32Array,
  );
  return { dw, ref: filterGrad64(c, xs, gs) };
}

describe('SegConv2DBackpropFilter', () => {
  it('gives the same dW for any tiling of the output (1e-5 relative to the largest entry)', async () => {
    await initBackend({ backend: 'wasm', threads: 1 });
    fc.assert(
      fc.property(
        caseArb,
        fc.integer(),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        (c, seed, rows, cols) => {
          const { dw, ref } = byKernel(c, seed, rows, cols);
          expect(relErr(dw, ref)).toBeLessThan(1e-5);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('runs on the shared memory of the 2-thread build, stride and dilation together, and 1×1', async () => {
    try {
      const report = await initBackend({ backend: 'wasm', threads: 2 });
      expect(wasmFilterGradReady()).toBe(true);
      for (const c of [
        { b: 2, h: 9, w: 8, ci: 5, co: 19, kh: 3, kw: 2, stride: 2, dilation: 2, pad: 'same' },
        { b: 1, h: 5, w: 6, ci: 4, co: 6, kh: 1, kw: 1, stride: 1, dilation: 1, pad: 'valid' },
      ] satisfies Case[]) {
        const { dw, ref } = byKernel(c, 5);
        expect(relErr(dw, ref), JSON.stringify(report)).toBeLessThan(1e-5);
      }
    } finally {
      await initBackend({ backend: 'wasm', threads: 1 });
    }
  });
});
