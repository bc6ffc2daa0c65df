import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../index.js';

const pkgDir = new URL('../../', import.meta.url).pathname;

describe('initBackend', () => {
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
});
