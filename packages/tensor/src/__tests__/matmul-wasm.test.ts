// The wasm matrix-product kernel (SegMatMul, gradients/wasm/matmul.wat) and
// its column sum (SegColSum): the committed bytes are what matmul.wat
// assembles to; matMul agrees with a float64 product on both backends (on
// wasm through the kernel, every transpose, edge sizes and the kernel's
// blocks of k and rows), and so does its gradient; the threaded build's
// shared memory runs it too.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kernelsWasmSource } from '../gradients/wasm/build-kernels.mjs';
import { SEG_MATMUL, segColSum, segReluGrad, wasmMatMulReady } from '../gradients/wasm/matmul.js';
import { initBackend, matMul, Rng, SegShapeError } from '../index.js';
import { describeBackends, expectNoLeaks, expectThrow } from '../testing/index.js';

/**
 * max |got − ref| over the largest sum of absolute terms (`abs`): float32
 * rounding relative to the terms' scale, which cancellation in one entry
 * cannot inflate (a sum near 0 of large terms).
 */
function relErr(got: ArrayLike<number>, ref: ArrayLike<number>, abs: ArrayLike<number>): number {
  let e = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    e = Math.max(e, Math.abs(got[i]! - ref[i]!));
    scale = Math.max(scale, abs[i]!);
  }
  return scale > 0 ? e / scale : e;
}

describe('matmul.wat → kernels-wasm.ts', () => {
  it('rebuilding gives the committed bytes of the matrix-product module', async () => {
    const section = (text: string) =>
      /export const MATMUL_WASM_BASE64 =[\s\S]*?export const MATMUL_SHARED_WASM_BASE64 =[^;]*;/.exec(
        text,
      )?.[0];
    const committed = readFileSync(
      new URL('../gradients/wasm/kernels-wasm.ts', import.meta.url),
      'utf8',
    );
    const rebuilt = section(await kernelsWasmSource());
    expect(rebuilt).toBeDefined();
    expect(section(committed), 'run `npx -y pnpm@10.34.8 build:wasm` in packages/tensor').toBe(
      rebuilt,
    );
  });
});

interface Case {
  batch: number;
  rank3: boolean;
  m: number;
  k: number;
  n: number;
  ta: boolean;
  tb: boolean;
}

/**
 * op(A)·op(B) in float64, A stored [k,m] when ta, B stored [n,k] when tb;
 * and Σ|terms| of each entry.
 */
function product64(c: Case, a: Float32Array, b: Float32Array): [Float64Array, Float64Array] {
  const { m, k, n, ta, tb } = c;
  const bs = c.rank3 ? c.batch : 1;
  const out = new Float64Array(bs * m * n);
  const abs = new Float64Array(bs * m * n);
  for (let s = 0; s < bs; s++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let sum = 0;
        let sumAbs = 0;
        for (let q = 0; q < k; q++) {
          const t =
            a[s * m * k + (ta ? q * m + i : i * k + q)]! *
            b[s * k * n + (tb ? j * k + q : q * n + j)]!;
          sum += t;
          sumAbs += Math.abs(t);
        }
        out[(s * m + i) * n + j] = sum;
        abs[(s * m + i) * n + j] = sumAbs;
      }
  return [out, abs];
}

const shape = (c: Case, r: number, q: number) => (c.rank3 ? [c.batch, r, q] : [r, q]);

/** matMul's result and the float64 reference on random operands. */
function run(
  c: Case,
  seed: number,
): { got: Float32Array; ref: Float64Array; abs: Float64Array; shape: number[] } {
  const rng = new Rng(seed);
  const bs = c.rank3 ? c.batch : 1;
  const as = rng.normalArray(bs * c.m * c.k);
  const bv = rng.normalArray(bs * c.k * c.n);
  let result: ReturnType<typeof run> | undefined;
  tf.tidy(() => {
    const A = tf.tensor(as, c.ta ? shape(c, c.k, c.m) : shape(c, c.m, c.k));
    const B = tf.tensor(bv, c.tb ? shape(c, c.n, c.k) : shape(c, c.k, c.n));
    const C = matMul(A, B, c.ta, c.tb);
    const [ref, abs] = product64(c, as, bv);
    result = { got: C.dataSync() as Float32Array, ref, abs, shape: C.shape };
  });
  return result!;
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  rank3: fc.boolean(),
  // across the kernel's tiles: 5 rows × 8 columns (the last 1–4 rows in a
  // 4-row tile), then 4 columns, then 1–3; the right operand packed from 16
  // rows on; 2 × 4 rows in the dot form (transposeB), its k in vectors of 4,
  // then 1–3
  m: fc.integer({ min: 1, max: 27 }),
  k: fc.integer({ min: 0, max: 13 }),
  n: fc.integer({ min: 1, max: 21 }),
  ta: fc.boolean(),
  tb: fc.boolean(),
});

const TRANSPOSES = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

describeBackends('matMul', (backend) => {
  it(`runs the SIMD kernel ${backend === 'wasm' ? 'on wasm' : 'nowhere on cpu'}`, () => {
    expect(wasmMatMulReady()).toBe(backend === 'wasm');
  });

  it('equals the float64 product for every transpose, small random shapes (1e-5 relative)', () => {
    fc.assert(
      fc.property(caseArb, fc.integer(), (c, seed) => {
        const { got, ref, abs, shape: s } = run(c, seed);
        expect(s).toEqual(shape(c, c.m, c.n));
        if (c.k === 0) expect([...got]).toEqual(new Array(got.length).fill(0));
        else expect(relErr(got, ref, abs)).toBeLessThan(1e-5);
      }),
      { numRuns: 150 },
    );
  });

  it('equals it past the kernel’s blocks of 256 steps of k and 120 rows (1e-5 relative)', () => {
    for (const [ta, tb] of TRANSPOSES) {
      for (const [m, k, n] of [
        [131, 301, 13],
        [250, 37, 29],
        [9, 513, 130],
        [1, 257, 3],
      ] as const) {
        const { got, ref, abs } = run({ batch: 1, rank3: false, m, k, n, ta, tb }, m + k + n);
        expect(relErr(got, ref, abs), JSON.stringify({ m, k, n, ta, tb })).toBeLessThan(1e-5);
      }
    }
  });

  it('equals it with b transposed along a short k and 16 rows or more (bᵀ made explicit), with its gradient', () => {
    for (const [batch, m, k, n] of [
      [1, 16, 2, 16],
      [1, 100, 10, 37],
      [1, 40, 127, 9],
      [2, 20, 5, 13],
    ] as const) {
      const c = { batch, rank3: batch > 1, m, k, n, ta: false, tb: true };
      const { got, ref, abs } = run(c, m + k + n);
      expect(relErr(got, ref, abs), JSON.stringify(c)).toBeLessThan(1e-5);
      // dA = G·B (B stored [n×k]) and dB = Gᵀ·A, per batch, in float64
      const rng = new Rng(m * k);
      const [as, bv, gs] = [m * k, n * k, m * n].map((s) => rng.normalArray(batch * s));
      const [ga, gb] = tf.tidy(() => {
        const A = tf.tensor(as!, shape(c, m, k));
        const B = tf.tensor(bv!, shape(c, n, k));
        const G = tf.tensor(gs!, shape(c, m, n));
        const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMul(x, y, false, true), G));
        return tf
          .grads(f)([A, B])
          .map((t) => t.dataSync() as Float32Array);
      });
      const da = new Float64Array(batch * m * k);
      const db = new Float64Array(batch * n * k);
      for (let s = 0; s < batch; s++)
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++)
            for (let l = 0; l < k; l++) {
              const g = gs![(s * m + i) * n + j]!;
              da[(s * m + i) * k + l]! += g * bv![(s * n + j) * k + l]!;
              db[(s * n + j) * k + l]! += g * as![(s * m + i) * k + l]!;
            }
      expect(relErr(ga!, da, da.map(Math.abs)), 'dA').toBeLessThan(1e-5);
      expect(relErr(gb!, db, db.map(Math.abs)), 'dB').toBeLessThan(1e-5);
    }
  });

  it('has the gradient of op(A)·op(B) for every transpose (against float64, 1e-5 relative)', () => {
    fc.assert(
      fc.property(caseArb, fc.integer(), (c0, seed) => {
        const c = { ...c0, k: Math.max(1, c0.k) };
        const rng = new Rng(seed);
        const bs = c.rank3 ? c.batch : 1;
        const as = rng.normalArray(bs * c.m * c.k);
        const bv = rng.normalArray(bs * c.k * c.n);
        const gs = rng.normalArray(bs * c.m * c.n);
        const [ga, gb] = tf.tidy(() => {
          const A = tf.tensor(as, c.ta ? shape(c, c.k, c.m) : shape(c, c.m, c.k));
          const B = tf.tensor(bv, c.tb ? shape(c, c.n, c.k) : shape(c, c.k, c.n));
          const G = tf.tensor(gs, shape(c, c.m, c.n));
          const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMul(x, y, c.ta, c.tb), G));
          return tf
            .grads(f)([A, B])
            .map((t) => t.dataSync() as Float32Array);
        });
        // dA = G·op(B)ᵀ, dB = op(A)ᵀ·G, stored as A and B are
        const da = new Float64Array(as.length);
        const db = new Float64Array(bv.length);
        const daAbs = new Float64Array(as.length);
        const dbAbs = new Float64Array(bv.length);
        const { m, k, n, ta, tb } = c;
        for (let s = 0; s < bs; s++)
          for (let i = 0; i < m; i++)
            for (let j = 0; j < n; j++)
              for (let q = 0; q < k; q++) {
                const ai = s * m * k + (ta ? q * m + i : i * k + q);
                const bi = s * k * n + (tb ? j * k + q : q * n + j);
                const g = gs[(s * m + i) * n + j]!;
                da[ai]! += g * bv[bi]!;
                db[bi]! += g * as[ai]!;
                daAbs[ai]! += Math.abs(g * bv[bi]!);
                dbAbs[bi]! += Math.abs(g * as[ai]!);
              }
        expect(relErr(ga!, da, daAbs)).toBeLessThan(1e-5);
        expect(relErr(gb!, db, dbAbs)).toBeLessThan(1e-5);
      }),
      { numRuns: 40 },
    );
  });

  it('falls back to tf.matMul for broadcast batches', () => {
    const a = tf.tensor3d([1, 2, 3, 4], [1, 2, 2]);
    const b = tf.tensor3d([1, 0, 0, 1, 2, 0, 0, 2], [2, 2, 2]);
    expect(matMul(a, b).arraySync()).toEqual([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [2, 4],
        [6, 8],
      ],
    ]);
    tf.dispose([a, b]);
  });

  it('names the shapes when the inner dimensions differ', () => {
    const a = tf.zeros([2, 3]);
    const b = tf.zeros([4, 5]);
    expectThrow(
      () => matMul(a, b, false, true),
      SegShapeError,
      'matMul: a is [2,3] and b is [4,5] (transposed), expected equal inner dimensions, got 3 and 5',
    );
    expectThrow(() => matMul(a, {} as tf.Tensor), SegShapeError, 'matMul: b is not a tf.Tensor');
    tf.dispose([a, b]);
  });

  it('leaks no tensors', async () => {
    const A = tf.ones([3, 4]);
    const B = tf.ones([5, 4]);
    matMul(A, B, false, true).dispose();
    await expectNoLeaks(() => matMul(A, B, false, true));
    await expectNoLeaks(() =>
      tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(matMul(x, y, false, true)))([A, B]),
    );
    tf.dispose([A, B]);
  });
});

/** Σ over rows by SegColSum (wasm), and in float64. */
function colSums(rows: number, cols: number, seed: number) {
  const xs = new Rng(seed).normalArray(rows * cols);
  const ref = new Float64Array(cols);
  const abs = new Float64Array(cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      ref[j]! += xs[i * cols + j]!;
      abs[j]! += Math.abs(xs[i * cols + j]!);
    }
  const got = tf.tidy(() => segColSum(tf.tensor2d(xs, [rows, cols]))!.dataSync() as Float32Array);
  return { got, ref, abs };
}

describe('SegMatMul and SegColSum on wasm', () => {
  it('SegColSum sums the rows (columns in blocks of 16, 4 and 1–3; no rows)', async () => {
    await initBackend({ backend: 'wasm', threads: 1 });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer(),
        (rows, cols, seed) => {
          const { got, ref, abs } = colSums(rows, cols, seed);
          if (rows === 0) expect([...got]).toEqual(new Array(cols).fill(0));
          else expect(relErr(got, ref, abs)).toBeLessThan(1e-5);
        },
      ),
      { numRuns: 100 },
    );
    const { got, ref, abs } = colSums(10800, 16, 1); // a bias gradient of the pixel net
    expect(relErr(got, ref, abs)).toBeLessThan(1e-5);
    const x = tf.zeros([5, 3]) as tf.Tensor2D;
    await expectNoLeaks(() => segColSum(x));
    x.dispose();
  });

  it('computes outer products (k = 1) itself too, which matMul leaves to tf.matMul', () => {
    for (const [ta, tb] of TRANSPOSES) {
      const c: Case = { batch: 1, rank3: false, m: 6, k: 1, n: 11, ta, tb };
      const rng = new Rng(7);
      const as = rng.normalArray(6);
      const bv = rng.normalArray(11);
      const got = tf.tidy(
        () =>
          (
            tf.engine().runKernel(
              SEG_MATMUL,
              {
                a: tf.tensor(as, ta ? [1, 6] : [6, 1]),
                b: tf.tensor(bv, tb ? [11, 1] : [1, 11]),
              },
              { transposeA: ta, transposeB: tb },
            ) as tf.Tensor
          ).dataSync() as Float32Array,
      );
      const [ref, abs] = product64(c, as, bv);
      expect(relErr(got, ref, abs), JSON.stringify({ ta, tb })).toBeLessThan(1e-6);
    }
  });

  it('SegReluGrad gives the bits of mul(dy, step(y)) (zeros, negatives, NaN; every length mod 4)', async () => {
    await initBackend({ backend: 'wasm', threads: 1 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 70 }), fc.integer(), (n, seed) => {
        const rng = new Rng(seed);
        const pick = () => {
          const u = rng.uniform();
          return u < 0.1 ? 0 : u < 0.15 ? -0 : u < 0.2 ? Number.NaN : rng.normal();
        };
        const dyv = Float32Array.from({ length: n }, pick);
        const yv = Float32Array.from({ length: n }, pick);
        const [got, want] = tf.tidy(() => {
          const dy = tf.tensor1d(dyv);
          const y = tf.tensor1d(yv);
          return [
            segReluGrad(dy, y)!.dataSync() as Float32Array,
            tf.mul(dy, tf.step(y)).dataSync() as Float32Array,
          ];
        });
        expect(got).toEqual(want);
      }),
      { numRuns: 100 },
    );
    const dy = tf.ones([3, 4]);
    const y = tf.ones([4, 3]);
    expect(segReluGrad(dy, y)).toBeNull(); // shapes differ: the caller's fallback
    await expectNoLeaks(() => segReluGrad(dy, dy)!);
    tf.dispose([dy, y]);
  });

  it('gives empty products for empty operands', () => {
    const [a, b] = [tf.zeros([0, 3]), tf.zeros([3, 4])];
    const out = tf
      .engine()
      .runKernel(SEG_MATMUL, { a, b }, { transposeA: false, transposeB: false }) as tf.Tensor;
    expect(out.shape).toEqual([0, 4]);
    tf.dispose([a, b, out]);
  });

  it('runs on the shared memory of the 2-thread build', async () => {
    try {
      const report = await initBackend({ backend: 'wasm', threads: 2 });
      expect(wasmMatMulReady()).toBe(true);
      for (const [ta, tb] of TRANSPOSES) {
        const { got, ref, abs } = run({ batch: 2, rank3: true, m: 7, k: 261, n: 13, ta, tb }, 3);
        expect(relErr(got, ref, abs), JSON.stringify(report)).toBeLessThan(1e-5);
      }
      const { got: sums, ref: sums64, abs: sumsAbs } = colSums(33, 19, 2);
      expect(relErr(sums, sums64, sumsAbs)).toBeLessThan(1e-5);
    } finally {
      await initBackend({ backend: 'wasm', threads: 1 });
    }
  });
});
