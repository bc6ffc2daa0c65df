import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { it } from 'vitest';
import { Rng, SegValueError } from '../index.js';
import { describeBackends, expectNoLeaks, expectThrow } from '../testing/index.js';
import { expectFusedGradients, weightedSum } from './fixtures/fused-gradients.js';

interface Case {
  h: number;
  w: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  dilation: number;
  pad: 'same' | 'valid';
  bias: boolean;
  activation: 'linear' | 'relu';
}

const caseArb = fc
  .record({
    h: fc.integer({ min: 3, max: 9 }),
    w: fc.integer({ min: 3, max: 9 }),
    cin: fc.integer({ min: 1, max: 3 }),
    cout: fc.integer({ min: 1, max: 3 }),
    k: fc.integer({ min: 1, max: 3 }),
    strideOrDilation: fc.constantFrom('stride', 'dilation'),
    factor: fc.integer({ min: 1, max: 2 }),
    pad: fc.constantFrom('same' as const, 'valid' as const),
    bias: fc.boolean(),
    activation: fc.constantFrom('linear' as const, 'relu' as const),
  })
  .map((r) => ({
    ...r,
    stride: r.strideOrDilation === 'stride' ? r.factor : 1,
    dilation: r.strideOrDilation === 'dilation' ? r.factor : 1,
  }))
  .filter((c) => Math.min(c.h, c.w) >= (c.k - 1) * c.dilation + 1);

/** Σ g ⊙ act(conv(x, w) + b), by the FusedConv2D kernel or by separate ops. */
function loss(c: Case, g: tf.Tensor, fused: boolean) {
  return (x: tf.Tensor, f: tf.Tensor, b: tf.Tensor) => {
    let y: tf.Tensor;
    if (fused) {
      const inputs: tf.NamedTensorMap = c.bias ? { x, filter: f, bias: b } : { x, filter: f };
      y = tf.engine().runKernel(tf.FusedConv2D, inputs, {
        strides: c.stride,
        pad: c.pad,
        dataFormat: 'NHWC',
        dilations: c.dilation,
        activation: c.activation,
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
    } else {
      y = tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation);
      if (c.bias) y = tf.add(y, b);
      if (c.activation === 'relu') y = tf.relu(y);
    }
    return weightedSum(y, g, b);
  };
}

function gradients(c: Case, seed: number, fused: boolean): Float32Array[] {
  const rng = new Rng(seed);
  return tf.tidy(() => {
    const x = tf.tensor4d(rng.normalArray(2 * c.h * c.w * c.cin), [2, c.h, c.w, c.cin]);
    const f = tf.tensor4d(rng.normalArray(c.k * c.k * c.cin * c.cout), [c.k, c.k, c.cin, c.cout]);
    const b = tf.tensor1d(rng.normalArray(c.cout));
    const shape = tf.conv2d(x, f, c.stride, c.pad, 'NHWC', c.dilation).shape;
    const g = tf.tensor(rng.normalArray(shape.reduce((p, q) => p * q, 1)), shape);
    return tf
      .grads(loss(c, g, fused))([x, f, b])
      .map((t) => t.dataSync() as Float32Array);
  });
}

describeBackends('FusedConv2D gradient', () => {
  it('equals the gradient of conv2d + add + relu (1e-5 relative to the largest entry)', () => {
    expectFusedGradients(caseArb, gradients, 30);
  });

  it('leaks no tensors', async () => {
    const c: Case = {
      h: 6,
      w: 7,
      cin: 2,
      cout: 3,
      k: 3,
      stride: 1,
      dilation: 2,
      pad: 'same',
      bias: true,
      activation: 'relu',
    };
    gradients(c, 1, true);
    await expectNoLeaks(() => gradients(c, 2, true));
  });

  it('refuses an activation it has no gradient for', () => {
    const x = tf.ones([1, 3, 3, 1]);
    const f = tf.ones([1, 1, 1, 1]);
    expectThrow(
      () =>
        tf.grad((t: tf.Tensor) =>
          tf.sum(
            tf.engine().runKernel(tf.FusedConv2D, { x: t, filter: f }, {
              strides: 1,
              pad: 'valid',
              dataFormat: 'NHWC',
              dilations: 1,
              activation: 'elu',
            } as unknown as tf.NamedAttrMap) as tf.Tensor,
          ),
        )(x),
      SegValueError,
      `FusedConv2D gradient: activation is "elu", expected 'linear' or 'relu'`,
    );
    tf.dispose([x, f]);
  });
});
