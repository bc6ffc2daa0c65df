// examples/readme.ts, run from the repository root by src/__tests__/readme.test.ts
import { denseCrfKernel, denseCrfLoss, partialCrossEntropy } from '@seg/losses';
import { initBackend, labelMapFromCodes } from '@seg/tensor';
import { readGray, readImage } from '@seg/tensor/node';
import * as tf from '@tensorflow/tfjs-core';

await initBackend(); // wasm-SIMD
// A bundled sample (398×284), its scribbles and its mask, reduced 4× (nearest neighbour).
const size: [number, number] = [100, 71];
const reduce = (data: Uint8Array | Int32Array, c: number) => {
  const t = tf.image.resizeNearestNeighbor(tf.tensor4d(data, [1, 398, 284, c], 'int32'), size);
  return tf.cast(c === 1 ? tf.squeeze(t, [3]) : t, 'int32');
};
const images = reduce(readImage('samples/grabcut/images/teddy.png').data, 3); // [N,H,W,3], 0–255
const codes = readGray('samples/grabcut/scribbles-1/teddy.png'); // 0 none, 1 object, 2 background
const seeds = reduce(labelMapFromCodes(codes, { 1: 1, 2: 0 }).data, 1); // [N,H,W], −1: none
const mask = reduce(readGray('samples/grabcut/masks/teddy.png').data, 1); // 255 object

// Logits [N,H,W,K], trained directly here (a network's output, usually).
const logits = tf.variable(tf.zeros([1, ...size, 2]));
const kernel = denseCrfKernel(images, { sigmaRgb: 15, sigmaXy: 12 }); // once per image
const loss = () => {
  const pce = partialCrossEntropy(logits, seeds, { reduction: 'mean' }); // the scribbled pixels
  const reg = denseCrfLoss(tf.softmax(logits), kernel, { reduction: 'mean' }); // all pairs
  return tf.add(pce, tf.mul(1e-3, reg)) as tf.Scalar;
};
const opt = tf.train.adam(0.1);
for (let step = 0; step < 30; step++) opt.minimize(loss); // every step reuses the kernel
kernel.dispose(); // when these images leave the batch
const agree = tf.mean(tf.equal(tf.argMax(logits, 3), tf.cast(tf.greater(mask, 127), 'int32')));
console.log('scribbled:', tf.mean(tf.greaterEqual(seeds, 0)).dataSync()[0]!.toFixed(3));
console.log('agreement with the mask:', agree.dataSync()[0]!.toFixed(3));
