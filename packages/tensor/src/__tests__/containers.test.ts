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
});
