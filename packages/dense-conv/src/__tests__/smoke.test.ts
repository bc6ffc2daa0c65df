import * as tf from '@tensorflow/tfjs-core';
import { describeBackends } from '@seg/tensor/testing';
import { it } from 'vitest';
import { denseForward, receptiveField, segmentationBackbone, toDenseSpec } from '../index.js';

describeBackends('smoke', (b) => {
  it('runs', () => {
    const net = segmentationBackbone({ coords: true, seed: 1 });
    console.log(receptiveField(net.patch.spec), JSON.stringify(toDenseSpec(net.patch.spec).layers.map((l) => [l.name, (l as { dilation?: number[] }).dilation])));
    const x = tf.randomUniform([1, 60, 50, 5]);
    const y = denseForward(net.dense, x) as tf.Tensor;
    console.log(b, y.shape);
    const f = () => tf.mean(tf.square(denseForward(net.dense, x))) as tf.Scalar;
    const { value, grads } = tf.variableGrads(f);
    console.log(value.dataSync(), Object.keys(grads).length, tf.memory().numTensors);
  });
});
