// fusedMatMul (a dense layer: act(a·b + bias), SegFusedMatMul on wasm): its
// values against float64, its gradients against tf.matMul + tf.add + tf.relu,
// no leaks, and its errors.
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { fusedMatMul, Rng, SegShapeError, SegValueError } from '../index.js';
import {
  describeBackends,
  expectNoLeaks,
  expectThrow,
  maxNormRelativeError as relErr,
} from '../testing/index.js';
import { expectFusedGradients, weightedSum } from './fixtures/fused-gradients.js';

interface Case {
  m: number;
  k: number;
  n: number;
  bias: boolean;
  activation: 'linear' | 'relu';
}

// across the product's tiles (5 rows × 8 columns, the edges, the packed
// panels from 16 rows on) and the epilogue's vectors of 4 and its last 1–3
const caseArb: fc.Arbitrary<Case> = fc.record({
  m: fc.integer({ min: 1, max: 23 }),
  k: fc.integer({ min: 1, max: 19 }),
  n: fc.integer({ min: 1, max: 21 }),
  bias: fc.boolean(),
  activation: fc.constantFrom('linear' as const, 'relu' as const),
});

function operands(c: Case, seed: number) {
  const rng = new Rng(seed);
  return {
    a: rng.normalArray(c.m * c.k),
    b: rng.normalArray(c.k * c.n),
    bias: rng.normalArray(c.n),
    g: rng.normalArray(c.m * c.n),
  };
}

/** Σ g ⊙ act(a·b + bias), by fusedMatMul or by separate ops. */
function loss(c: Case, g: tf.Tensor, fused: boolean) {
  return (a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor) => {
    let y: tf.Tensor;
    if (fused) {
      y = fusedMatMul({
        a: a as tf.Tensor2D,
        b: b as tf.Tensor2D,
        ...(c.bias ? { bias: bias as tf.Tensor1D } : {}),
        activation: c.activation,
      });
    } else {
      y = tf.matMul(a, b);
      if (c.bias) y = tf.add(y, bias);
      if (c.activation === 'relu') y = tf.relu(y);
    }
    return weightedSum(y, g, bias);
  };
}

function gradients(c: Case, seed: number, fused: boolean): Float32Array[] {
  const v = operands(c, seed);
  return tf.tidy(() => {
    const a = tf.tensor2d(v.a, [c.m, c.k]);
    const b = tf.tensor2d(v.b, [c.k, c.n]);
    const bias = tf.tensor1d(v.bias);
    const g = tf.tensor2d(v.g, [c.m, c.n]);
    return tf
      .grads(loss(c, g, fused))([a, b, bias])
      .map((t) => t.dataSync() as Float32Array);
  });
}

describeBackends('fusedMatMul', () => {
  it('equals act(a·b + bias) in float64 (1e-5 relative to the largest entry)', () => {
    fc.assert(
      fc.property(caseArb, fc.integer(), (c, seed) => {
        const v = operands(c, seed);
        const want = new Float64Array(c.m * c.n);
        for (let i = 0; i < c.m; i++) {
          for (let j = 0; j < c.n; j++) {
            let s = c.bias ? v.bias[j]! : 0;
            for (let q = 0; q < c.k; q++) s += v.a[i * c.k + q]! * v.b[q * c.n + j]!;
            want[i * c.n + j] = c.activation === 'relu' ? Math.max(s, 0) : s;
          }
        }
        const got = tf.tidy(() =>
          fusedMatMul({
            a: tf.tensor2d(v.a, [c.m, c.k]),
            b: tf.tensor2d(v.b, [c.k, c.n]),
            ...(c.bias ? { bias: tf.tensor1d(v.bias) } : {}),
            activation: c.activation,
          }).dataSync(),
        );
        expect(relErr(got, want)).toBeLessThan(1e-5);
      }),
      { numRuns: 60 },
    );
  });

  it('has the gradient of tf.matMul + tf.add + tf.relu (1e-5 relative to the largest entry)', () => {
    expectFusedGradients(caseArb, gradients, 40);
  });

  it('leaks no tensors, forward or with its gradient', async () => {
    const c: Case = { m: 17, k: 9, n: 11, bias: true, activation: 'relu' };
    const v = operands(c, 3);
    const a = tf.tensor2d(v.a, [c.m, c.k]);
    const b = tf.tensor2d(v.b, [c.k, c.n]);
    const bias = tf.tensor1d(v.bias);
    gradients(c, 1, true);
    await expectNoLeaks(() => fusedMatMul({ a, b, bias, activation: 'relu' }).dispose());
    await expectNoLeaks(() => gradients(c, 2, true));
    tf.dispose([a, b, bias]);
  });

  it('names the argument, what was expected and what came', () => {
    const a = tf.ones([3, 4]) as tf.Tensor2D;
    const b = tf.ones([5, 2]) as tf.Tensor2D;
    const w = tf.ones([4, 2]) as tf.Tensor2D;
    const bias = tf.ones([3]) as tf.Tensor1D;
    expectThrow(
      () => fusedMatMul({ a, b }),
      SegShapeError,
      'fusedMatMul: b has shape [5,2], expected [4,*]',
    );
    expectThrow(
      () => fusedMatMul({ a, b: w, bias }),
      SegShapeError,
      'fusedMatMul: bias has shape [3], expected [2]',
    );
    expectThrow(
      () => fusedMatMul({ a, b: w, activation: 'elu' as 'relu' }),
      SegValueError,
      `fusedMatMul: activation is "elu", expected 'linear' or 'relu'`,
    );
    tf.dispose([a, b, w, bias]);
  });
});
