import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  argmaxLabels,
  imageToTensor,
  labelMap,
  labelMapFromCodes,
  labelsToTensor,
  probMap,
  probsToTensor,
  rgbImage,
  tensorToImage,
  tensorToLabels,
  tensorToProbs,
} from '../index.js';
import { describeBackends, expectNoLeaks } from '../testing/index.js';

describeBackends('containers', () => {
  it('round-trip images, labels and probabilities through tensors', async () => {
    const img = rgbImage(
      3,
      2,
      Uint8Array.from({ length: 18 }, (_, i) => i * 14),
    );
    await expectNoLeaks(() => {
      const t = imageToTensor(img);
      expect(t.shape).toEqual([2, 3, 3]);
      expect(tensorToImage(t)).toEqual(img);
      const scaled = imageToTensor(img, 1 / 255);
      expect(tensorToImage(scaled, 255)).toEqual(img);
      return [t, scaled];
    });
    const lm = labelMap(3, 2, Int32Array.from([-1, 0, 1, 2, -1, 0]), 3);
    await expectNoLeaks(() => {
      const t = labelsToTensor(lm);
      expect(t.dtype).toBe('int32');
      expect(tensorToLabels(t)).toEqual(lm);
      return t;
    });
    const pm = probMap(2, 1, 2, Float32Array.from([0.25, 0.75, 1, 0]));
    await expectNoLeaks(() => {
      const t = probsToTensor(pm);
      expect(tensorToProbs(t)).toEqual(pm);
      return t;
    });
    expect(Array.from(argmaxLabels(pm).data)).toEqual([1, 0]);
  });

  it('refuse bad containers with clear errors', () => {
    expect(() => rgbImage(2, 2, new Uint8Array(11))).toThrow(
      'rgbImage: data has length 11, expected width*height*3 = 12',
    );
    expect(() => rgbImage(0, 2, new Uint8Array(0))).toThrow(
      'rgbImage: width is 0, expected an integer ≥ 1',
    );
    expect(() => labelMap(2, 1, Int32Array.from([0, 2]), 2)).toThrow(
      'labelMap: data[1] is 2, expected an integer in [-1, 1]',
    );
    expect(() => probMap(1, 1, 2, Float32Array.from([0.5, Number.NaN]))).toThrow(
      'probMap: data[1] is NaN, expected a finite number',
    );
    expect(() => probMap(1, 1, 2, Float32Array.from([0.5, 0.6]))).toThrow(
      'probMap: the probabilities of pixel 0 sum to 1.100000023841858, expected 1 (±0.001)',
    );
    expect(() => probMap(1, 1, 2, Float32Array.from([1.5, -0.5]))).toThrow(
      'probMap: data[1] is -0.5, expected a probability ≥ 0',
    );
    expect(() => tensorToImage(tf.zeros([2, 2]))).toThrow(
      'tensorToImage: tensor has shape [2,2], expected [H,W,3]',
    );
    expect(() => tensorToLabels(tf.zeros([2, 2]))).toThrow(
      'tensorToLabels: tensor has dtype float32, expected int32',
    );
  });

  it('decodes coded scribble maps', () => {
    const gray = { width: 4, height: 1, data: Uint8Array.from([0, 1, 2, 7]) };
    expect(Array.from(labelMapFromCodes(gray, { 1: 1, 2: 0 }).data)).toEqual([-1, 1, 0, -1]);
  });

  it('refuse bad arguments of the conversions with clear errors', async () => {
    const img = rgbImage(1, 1, Uint8Array.from([1, 2, 3]));
    expect(() => labelMap(1, 1, Int32Array.from([-5]))).toThrow(
      'labelMap: data[0] is -5, expected an integer in [-1, 2147483647]',
    );
    expect(() => probMap(1, 1, 2, Float32Array.from([0.5, 0.9]), Number.NaN)).toThrow(
      'probMap: tolerance is NaN, expected a finite number ≥ 0',
    );
    const gray = { width: 2, height: 2, data: new Uint8Array(2) };
    expect(() => labelMapFromCodes(gray, { 0: 1 })).toThrow(
      'labelMapFromCodes: gray.data has length 2, expected width*height = 4',
    );
    const gray1 = { width: 1, height: 1, data: new Uint8Array(1) };
    expect(() => labelMapFromCodes(gray1, { 0: 1.5 })).toThrow(
      'labelMapFromCodes: codes[0] is 1.5, expected an integer label ≥ -1',
    );
    expect(() => labelMapFromCodes(gray1, { 0: -5 })).toThrow(
      'labelMapFromCodes: codes[0] is -5, expected an integer label ≥ -1',
    );
    expect(() => imageToTensor({ width: 2, height: 2, data: new Uint8Array(3) })).toThrow(
      'imageToTensor: image.data has length 3, expected width*height*3 = 12',
    );
    expect(() => imageToTensor(null as never)).toThrow(
      'imageToTensor: image is null, expected an object',
    );
    expect(() => labelsToTensor({ width: 2, height: 2, data: new Int32Array(3) })).toThrow(
      'labelsToTensor: map.data has length 3, expected width*height = 4',
    );
    expect(() =>
      probsToTensor({ width: 2, height: 2, numLabels: 2, data: new Float32Array(3) }),
    ).toThrow('probsToTensor: map.data has length 3, expected width*height*numLabels = 8');
    expect(() =>
      argmaxLabels({ width: 2, height: 1, numLabels: 2, data: Float32Array.from([0, 1]) }),
    ).toThrow('argmaxLabels: map.data has length 2, expected width*height*numLabels = 4');
    expect(() =>
      argmaxLabels({ width: 1, height: 1, numLabels: 2, data: Float32Array.from([1, Number.NaN]) }),
    ).toThrow('argmaxLabels: map.data has a NaN at pixel 0, expected numbers');
    expect(() => tensorToImage({} as never)).toThrow('tensorToImage: t is not a tf.Tensor');
    expect(() => tensorToProbs(null as never)).toThrow('tensorToProbs: t is not a tf.Tensor');
    await expectNoLeaks(() => {
      expect(() => imageToTensor(img, Number.NaN)).toThrow(
        'imageToTensor: scale is NaN, expected a finite number',
      );
      const nan = tf.tensor3d([Number.NaN, 1, 2], [1, 1, 3]);
      expect(() => tensorToImage(nan)).toThrow(
        'tensorToImage: tensor[0] × scale is NaN, expected a number',
      );
      const ok = tf.tensor3d([1, 1, 2], [1, 1, 3]);
      expect(() => tensorToImage(ok, Number.NaN)).toThrow(
        'tensorToImage: scale is NaN, expected a finite number',
      );
      const empty = tf.zeros([0, 2, 3]);
      expect(() => tensorToImage(empty)).toThrow(
        'tensorToImage: tensor has shape [0,2,3], expected [H,W,3] with H, W ≥ 1',
      );
      const labels = tf.tensor2d([-5], [1, 1], 'int32');
      expect(() => tensorToLabels(labels)).toThrow(
        'labelMap: data[0] is -5, expected an integer in [-1, 2147483647]',
      );
      const gone = tf.zeros([1, 1, 3]);
      gone.dispose();
      expect(() => tensorToImage(gone)).toThrow('tensorToImage: t is a disposed tf.Tensor');
      tf.dispose([nan, ok, empty, labels]);
    });
  });
});
