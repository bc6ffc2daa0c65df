// examples/readme.ts, run from the repository root by src/__tests__/readme.test.ts

import { imageToTensor, initBackend, labelMapFromCodes } from '@seg/tensor';
import { readGray, readImage } from '@seg/tensor/node';
import * as tf from '@tensorflow/tfjs-core';

const report = await initBackend(); // { backend: 'wasm', simd: true, threads: 1 }
const image = readImage('samples/grabcut/images/llama.png'); // RgbImage, 513×371
const codes = readGray('samples/grabcut/scribbles-1/llama.png'); // 0 none, 1 object, 2 background
const seeds = labelMapFromCodes(codes, { 1: 1, 2: 0 }); // LabelMap: 1, 0, −1 unlabelled
const x = imageToTensor(image, 1 / 255); // [H, W, 3] float32
const w = tf.randomNormal([3, 3, 3, 8], 0, 1, 'float32', 1);
// the gradient of a dilated convolution (rate 2), on wasm
const g = tf.grad((f) => tf.sum(tf.conv2d(x, f as tf.Tensor4D, 1, 'same', 'NHWC', 2)))(w);
console.log(report.backend, `${image.width}×${image.height}`, x.shape.join('×'));
console.log('seeds:', seeds.data.filter((l) => l >= 0).length, 'gradient:', g.shape.join('×'));
