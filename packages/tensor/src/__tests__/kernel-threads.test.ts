// The SIMD kernels on more than one thread (gradients/wasm/kernel-threads.ts):
// on the 2-thread build, matMul, fusedConv2d and its filter gradient cut into parts (every part
// size, forced by lowering the part threshold) give the very bits of the
// kernel in one call, with no tensor left behind; the ranges cover their
// extent; a restart on one thread stops the helpers.
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  kernelThreads,
  partsFor,
  partTuning,
  splitRange,
  stallKernelThreadsForTests,
} from '../gradients/wasm/kernel-threads.js';
import { fusedConv2d, initBackend, kernelHelpers, matMul, Rng } from '../index.js';
import { expectNoLeaks } from '../testing/index.js';

/** `f`'s values with the kernels cut into the smallest parts, and in one call. */
function splitAndWhole(f: () => tf.Tensor): { split: Float32Array; whole: Float32Array } {
  const saved = partTuning.minMacs;
  try {
    partTuning.minMacs = 1;
    const split = tf.tidy(() => f().dataSync() as Float32Array);
    partTuning.minMacs = Number.POSITIVE_INFINITY;
    const whole = tf.tidy(() => f().dataSync() as Float32Array);
    return { split, whole };
  } finally {
    partTuning.minMacs = saved;
  }
}

describe('splitRange and partsFor', () => {
  it('cut [0, extent) into at most `parts` aligned, disjoint ranges that cover it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 1, max: 16 }),
        fc.constantFrom(1, 4, 8),
        (extent, parts, align) => {
          const r = splitRange(extent, parts, align);
          expect(r.length).toBeLessThanOrEqual(parts);
          expect(r[0]![0]).toBe(0);
          expect(r.at(-1)![1]).toBe(extent);
          for (let i = 0; i < r.length; i++) {
            expect(r[i]![1]).toBeGreaterThan(r[i]![0]);
            if (i > 0) expect(r[i]![0]).toBe(r[i - 1]![1]);
            if (i < r.length - 1) expect((r[i]![1] - r[i]![0]) % align).toBe(0);
          }
        },
      ),
    );
    expect(partsFor(1e9, 1)).toBe(1);
    expect(partsFor(1e9, 2)).toBe(4);
    expect(partsFor(10, 2)).toBe(1);
  });
});

describe('kernels on the 2-thread build', () => {
  beforeAll(async () => {
    expect(await initBackend({ backend: 'wasm', threads: 2 })).toEqual({
      backend: 'wasm',
      simd: true,
      threads: 2,
    });
  });
  afterAll(async () => {
    await initBackend({ backend: 'wasm', threads: 1 });
  });

  it('run on a helper thread too', () => {
    expect(kernelThreads(tf.backend())).toBe(2);
    expect(kernelHelpers()).toBe(1);
  });

  it('matMul in parts gives the bits of one call (every transpose, batches, k = 0; split by rows, or by columns where m < n)', () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 3 }),
          m: fc.integer({ min: 1, max: 40 }),
          k: fc.integer({ min: 0, max: 300 }),
          n: fc.integer({ min: 1, max: 40 }),
          ta: fc.boolean(),
          tb: fc.boolean(),
          seed: fc.integer(),
        }),
        ({ batch, m, k, n, ta, tb, seed }) => {
          if (k === 1) k = 2; // outer products are XNNPACK's (mat-mul.ts)
          const rng = new Rng(seed);
          const sa = ta ? [k, m] : [m, k];
          const sb = tb ? [n, k] : [k, n];
          const shape = (s: number[]) => (batch > 1 ? [batch, ...s] : s);
          const a = tf.tensor(rng.normalArray(batch * m * k), shape(sa));
          const b = tf.tensor(rng.normalArray(batch * k * n), shape(sb));
          const { split, whole } = splitAndWhole(() => matMul(a, b, ta, tb));
          tf.dispose([a, b]);
          expect(split).toEqual(whole);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('jobs of different sizes back to back never run a call of the next job half-published', () => {
    // a helper that read NEXT of a finished job, then CALLS of the next one (more calls)
    // used to claim a call of the next job before its arguments were all written
    const rng = new Rng(11);
    const shapes: [number, number, number][] = [
      [40, 30, 24], // the tiled form, right operand packed (two jobs: packPanels, matmul)
      [3, 50, 9], // few rows: one or two parts
      [64, 20, 40],
      [24, 30, 100], // m < n: split by columns, each part packing its own panels (one job)
    ];
    const ops = shapes.map(([m, k, n]) => ({
      a: tf.tensor2d(rng.normalArray(m * k), [m, k]),
      b: tf.tensor2d(rng.normalArray(k * n), [k, n]),
    }));
    const saved = partTuning.minMacs;
    try {
      partTuning.minMacs = Number.POSITIVE_INFINITY;
      const want = ops.map(({ a, b }) => tf.tidy(() => Array.from(matMul(a, b).dataSync())));
      partTuning.minMacs = 1;
      for (let r = 0; r < 2000; r++) {
        const i = r % ops.length;
        const got = tf.tidy(() => Array.from(matMul(ops[i]!.a, ops[i]!.b).dataSync()));
        if (got.some((v, q) => v !== want[i]![q])) expect.fail(`round ${r}: product ${i} differs`);
      }
    } finally {
      partTuning.minMacs = saved;
      for (const { a, b } of ops) tf.dispose([a, b]);
    }
  });

  it('matMul of more products than one job holds (a batch of 300) gives the bits of each product', () => {
    const rng = new Rng(4);
    const a = tf.tensor3d(rng.normalArray(300 * 5 * 7), [300, 5, 7]);
    const b = tf.tensor3d(rng.normalArray(300 * 7 * 6), [300, 7, 6]);
    const { split } = splitAndWhole(() => matMul(a, b));
    const each = tf.tidy(() =>
      tf.unstack(a).flatMap((ai, i) => [...matMul(ai, tf.unstack(b)[i]!).dataSync()]),
    );
    tf.dispose([a, b]);
    expect(Array.from(split)).toEqual(each);
  });

  it('fusedConv2d in parts gives the bits of one call (rows of an image, groups of images)', () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 6 }),
          h: fc.integer({ min: 3, max: 17 }),
          w: fc.integer({ min: 3, max: 13 }),
          ci: fc.integer({ min: 1, max: 6 }),
          co: fc.integer({ min: 1, max: 9 }),
          kh: fc.integer({ min: 1, max: 3 }),
          stride: fc.integer({ min: 1, max: 2 }),
          dilation: fc.integer({ min: 1, max: 2 }),
          pad: fc.constantFrom<'same' | 'valid'>('same', 'valid'),
          relu: fc.boolean(),
          seed: fc.integer(),
        }),
        (c) => {
          if (c.stride > 1 && c.dilation > 1) c.dilation = 1; // tfjs: one or the other
          const span = (c.kh - 1) * c.dilation + 1;
          if (c.pad === 'valid' && (span > c.h || span > c.w)) c.pad = 'same';
          const rng = new Rng(c.seed);
          const x = tf.tensor4d(rng.normalArray(c.n * c.h * c.w * c.ci), [c.n, c.h, c.w, c.ci]);
          const filter = tf.tensor4d(rng.normalArray(c.kh * c.kh * c.ci * c.co), [
            c.kh,
            c.kh,
            c.ci,
            c.co,
          ]);
          const bias = tf.tensor1d(rng.normalArray(c.co));
          const conv = (f: tf.Tensor4D) =>
            fusedConv2d({
              x,
              filter: f,
              bias,
              strides: c.stride,
              pad: c.pad,
              dilations: c.dilation,
              activation: c.relu ? 'relu' : 'linear',
            });
          const { split, whole } = splitAndWhole(() => conv(filter));
          // and the filter gradient (SegConv2DBackpropFilter, in filter rows)
          const grads = splitAndWhole(() =>
            tf.grad((f) => tf.sum(tf.square(conv(f as tf.Tensor4D))))(filter),
          );
          tf.dispose([x, filter, bias]);
          expect(split).toEqual(whole);
          expect(grads.split).toEqual(grads.whole);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('leave no tensor behind', async () => {
    const a = tf.ones([64, 300]);
    const b = tf.ones([300, 70]);
    const x = tf.ones([1, 40, 40, 8]) as tf.Tensor4D;
    const f = tf.ones([3, 3, 8, 16]) as tf.Tensor4D;
    const saved = partTuning.minMacs;
    partTuning.minMacs = 1;
    try {
      await expectNoLeaks(() => matMul(a, b));
      await expectNoLeaks(() => fusedConv2d({ x, filter: f, strides: 1, pad: 'same' }));
    } finally {
      partTuning.minMacs = saved;
      tf.dispose([a, b, x, f]);
    }
  });

  it('stop with the threaded backend: one thread after a restart on one', async () => {
    await initBackend({ backend: 'wasm', threads: 1 });
    expect(kernelThreads(tf.backend())).toBe(1);
    const a = tf.ones([64, 300]);
    const b = tf.ones([300, 70]);
    expect(tf.tidy(() => matMul(a, b).dataSync()[0])).toBe(300);
    tf.dispose([a, b]);
    await initBackend({ backend: 'wasm', threads: 2 });
    expect(kernelThreads(tf.backend())).toBe(2);
  });

  it('do not hang on a helper that stops after claiming a part: the caller computes it, then runs alone', async () => {
    await initBackend({ backend: 'wasm', threads: 2 });
    const rng = new Rng(9);
    const a = tf.tensor2d(rng.normalArray(400 * 400), [400, 400]);
    const b = tf.tensor2d(rng.normalArray(400 * 400), [400, 400]);
    const want = tf.tidy(() => {
      const saved = partTuning.minMacs;
      partTuning.minMacs = Number.POSITIVE_INFINITY;
      const y = matMul(a, b).dataSync() as Float32Array;
      partTuning.minMacs = saved;
      return y;
    });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const saved = partTuning.stallMs;
    partTuning.stallMs = 100; // or 20 × the caller's longest part, on a loaded machine
    stallKernelThreadsForTests(true);
    try {
      // the helper claims a part once it wakes while the caller works on its own
      // (on a loaded machine it may wake late: the caller then did every part)
      const differing = (y: Float32Array) => y.reduce((c, v, i) => c + (v === want[i] ? 0 : 1), 0);
      for (let attempt = 0; attempt < 100 && warn.mock.calls.length === 0; attempt++) {
        expect(differing(tf.tidy(() => matMul(a, b).dataSync() as Float32Array))).toBe(0);
      }
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(
        /^matmul: a kernel thread did not finish its part within \d+\.\d s; the calling thread computed it/,
      );
      expect(kernelThreads(tf.backend())).toBe(1);
      expect(kernelHelpers()).toBe(0);
      expect(tf.tidy(() => matMul(a, b).dataSync() as Float32Array)).toEqual(want);
    } finally {
      stallKernelThreadsForTests(false);
      partTuning.stallMs = saved;
      warn.mockRestore();
      tf.dispose([a, b]);
    }
  });
});
