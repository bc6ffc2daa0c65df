import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend, kernelHelpers, SegRangeError } from '../index.js';
import { expectRejects } from '../testing/index.js';

const pkgDir = new URL('../../', import.meta.url).pathname;

describe('initBackend', () => {
  // first: SEG_WASM_THREADS is read when the wasm backend starts without `threads`
  it('refuses a bad SEG_WASM_THREADS', async () => {
    process.env.SEG_WASM_THREADS = 'two';
    try {
      await expectRejects(
        initBackend(),
        SegRangeError,
        'initBackend: SEG_WASM_THREADS is "two", expected an integer in [1, 8]',
      );
    } finally {
      delete process.env.SEG_WASM_THREADS;
    }
  });

  it('defaults to wasm with SIMD, and switches to cpu', async () => {
    expect(await initBackend()).toEqual({ backend: 'wasm', simd: true, threads: 1 });
    expect(tf.getBackend()).toBe('wasm');
    expect(await initBackend({ backend: 'cpu' })).toEqual({
      backend: 'cpu',
      simd: false,
      threads: 1,
    });
    expect(tf.getBackend()).toBe('cpu');
  });

  // A few ops on fixed inputs: matMul, a strided dilated conv2d and its
  // gradient, a softmax and a reduction.
  function someOps(): Float32Array[] {
    const seq = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
    return tf.tidy(() => {
      const a = tf.tensor2d(
        seq(96 * 80, (i) => Math.sin(i)),
        [96, 80],
      );
      const b = tf.tensor2d(
        seq(80 * 64, (i) => Math.cos(0.7 * i)),
        [80, 64],
      );
      const x = tf.tensor4d(
        seq(2 * 20 * 18 * 8, (i) => Math.sin(0.3 * i)),
        [2, 20, 18, 8],
      );
      const w = tf.tensor4d(
        seq(3 * 3 * 8 * 16, (i) => Math.cos(i) / 8),
        [3, 3, 8, 16],
      );
      const conv = (f: tf.Tensor) => tf.conv2d(x, f as tf.Tensor4D, 1, 'same', 'NHWC', 2);
      const g = tf.grad((f) => tf.sum(tf.square(conv(f))))(w);
      return [
        tf.matMul(a, b),
        conv(w),
        g,
        tf.softmax(tf.matMul(a, b)),
        tf.sum(conv(w), [1, 2]),
      ].map((t) => t.dataSync() as Float32Array);
    });
  }

  it('runs 2 threads and gives the 1-thread results, without leaks', async () => {
    expect(await initBackend({ threads: 1 })).toEqual({ backend: 'wasm', simd: true, threads: 1 });
    expect(kernelHelpers()).toBe(0);
    const one = someOps();
    const before = tf.memory().numTensors;
    const stale = tf.ones([2]); // made on the 1-thread module
    expect(await initBackend({ threads: 2 })).toEqual({ backend: 'wasm', simd: true, threads: 2 });
    expect(kernelHelpers()).toBe(1);
    // without `threads`, the running backend is kept, and its kernel helper
    expect(await initBackend()).toEqual({ backend: 'wasm', simd: true, threads: 2 });
    expect(kernelHelpers()).toBe(1);
    const two = someOps();
    stale.dispose(); // a no-op now, not a TypeError
    expect(tf.memory().numTensors).toBe(before);
    for (const [k, ref] of one.entries()) {
      const scale = Math.max(...ref.map(Math.abs));
      const worst = Math.max(...two[k]!.map((v, i) => Math.abs(v - ref[i]!)));
      expect(worst / scale).toBeLessThan(1e-5);
    }
  });

  it('falls back to one thread, with the reason, where threads are unavailable', async () => {
    await initBackend({ threads: 1 });
    const sab = Object.getOwnPropertyDescriptor(globalThis, 'SharedArrayBuffer')!;
    Object.defineProperty(globalThis, 'SharedArrayBuffer', {
      value: undefined,
      configurable: true,
    });
    try {
      expect(await initBackend({ threads: 2 })).toEqual({
        backend: 'wasm',
        simd: true,
        threads: 1,
        threadsFallback: 'SharedArrayBuffer is unavailable in this runtime',
      });
      expect(kernelHelpers()).toBe(0);
    } finally {
      Object.defineProperty(globalThis, 'SharedArrayBuffer', sab);
    }
    expect(tf.sum(tf.ones([3, 4])).dataSync()[0]).toBe(12);
  });

  it('refuses a bad thread count', async () => {
    for (const [threads, shown] of [
      [0, '0'],
      [1.5, '1.5'],
      [9, '9'],
    ] as const) {
      await expectRejects(
        initBackend({ threads }),
        SegRangeError,
        `initBackend: threads is ${shown}, expected an integer in [1, 8]`,
      );
    }
  });

  it('refuses an unknown backend', async () => {
    await expect(initBackend({ backend: 'webgl' as 'cpu' })).rejects.toThrow(
      `initBackend: backend is "webgl", expected 'wasm' or 'cpu'`,
    );
  });

  // The built package, imported by a plain `node` script (no vitest, no bundler):
  // gradients must be registered there too (tfjs-core's Node build registers none).
  it.skipIf(!existsSync(`${pkgDir}dist/index.js`))(
    'gives gradients of a dilated conv2d on wasm from plain node (ESM and CJS)',
    () => {
      const esm = `
      import * as tf from '@tensorflow/tfjs-core';
      import { initBackend } from '@seg/tensor';
      const r = await initBackend();
      const x = tf.tensor4d(Array.from({ length: 2 * 6 * 7 * 2 }, (_, i) => Math.sin(i)), [2, 6, 7, 2]);
      const w = tf.tensor4d(Array.from({ length: 3 * 3 * 2 * 3 }, (_, i) => Math.cos(i)), [3, 3, 2, 3]);
      const f = (a) => tf.sum(tf.square(tf.conv2d(a, w, 1, 'same', 'NHWC', 2)));
      const g = tf.grad(f)(x).dataSync();
      const xs = x.dataSync().slice();
      let worst = 0;
      for (const i of [0, 17, 40, 83, 120, 167]) {
        const e = 1e-2;
        const p = xs.slice(); p[i] += e; const m = xs.slice(); m[i] -= e;
        const fd = (f(tf.tensor4d(p, x.shape)).dataSync()[0] - f(tf.tensor4d(m, x.shape)).dataSync()[0]) / (2 * e);
        worst = Math.max(worst, Math.abs(fd - g[i]) / Math.max(1, Math.abs(fd)));
      }
      console.log(JSON.stringify({ ...r, worst, chained: typeof x.square }));`;
      const out = JSON.parse(
        execFileSync(process.execPath, ['--input-type=module', '-e', esm], {
          cwd: pkgDir,
          encoding: 'utf8',
        }),
      );
      expect(out).toMatchObject({ backend: 'wasm', simd: true, chained: 'function' });
      expect(out.worst).toBeLessThan(2e-3);
      const cjs = `
      const tf = require('@tensorflow/tfjs-core');
      const { initBackend } = require('@seg/tensor');
      initBackend({ backend: 'cpu' }).then(() => {
        const x = tf.ones([1, 5, 5, 1]);
        const g = tf.grad((w) => tf.sum(tf.conv2d(x, w, 1, 'valid', 'NHWC', 2)))(tf.ones([2, 2, 1, 1]));
        console.log(JSON.stringify(Array.from(g.dataSync())));
      });`;
      const g = JSON.parse(
        execFileSync(process.execPath, ['-e', cjs], { cwd: pkgDir, encoding: 'utf8' }),
      );
      expect(g).toEqual([9, 9, 9, 9]);
    },
  );

  // Threads from the built package in plain node, ESM (the default from
  // SEG_WASM_THREADS) and CJS: the report, a result, the kernels' helper,
  // and the process exits by itself (no thread holds an event-loop reference).
  it.skipIf(!existsSync(`${pkgDir}dist/index.js`))(
    'runs 2 wasm threads from plain node, and the process exits (ESM and CJS)',
    () => {
      const body = `
        const a = tf.tensor2d(Array.from({ length: 64 * 48 }, (_, i) => (i % 7) - 3), [64, 48]);
        const s = tf.sum(tf.matMul(a, a, false, true)).dataSync()[0];
        console.log(JSON.stringify({ ...r, s, helpers: kernelHelpers() }));`;
      const expected = (() => {
        const a = Array.from({ length: 64 * 48 }, (_, i) => (i % 7) - 3);
        let s = 0;
        for (let i = 0; i < 64; i++)
          for (let j = 0; j < 64; j++)
            for (let k = 0; k < 48; k++) s += a[i * 48 + k]! * a[j * 48 + k]!;
        return s;
      })();
      const esm = `import * as tf from '@tensorflow/tfjs-core';
        import { initBackend, kernelHelpers } from '@seg/tensor';
        const r = await initBackend();${body}`;
      const cjs = `const tf = require('@tensorflow/tfjs-core');
        const { initBackend, kernelHelpers } = require('@seg/tensor');
        initBackend({ threads: 2 }).then((r) => {${body}});`;
      for (const args of [
        ['--input-type=module', '-e', esm],
        ['-e', cjs],
      ]) {
        const out = execFileSync(process.execPath, args, {
          cwd: pkgDir,
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, SEG_WASM_THREADS: '2' },
        });
        // the kernels' helper thread too (an eval'd worker is ESM under --input-type=module)
        expect(JSON.parse(out)).toEqual({
          backend: 'wasm',
          simd: true,
          threads: 2,
          s: expected,
          helpers: 1,
        });
      }
    },
  );
});
