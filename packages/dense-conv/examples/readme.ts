// examples/readme.ts, run from the repository root by src/__tests__/readme.test.ts
import { addCoordChannels, denseForward, segmentationBackbone } from '@seg/dense-conv';
import { loadModel, saveModel } from '@seg/dense-conv/node';
import { imageToTensor, initBackend } from '@seg/tensor';
import { readGray, readImage } from '@seg/tensor/node';
import * as tf from '@tensorflow/tfjs-core';

await initBackend(); // wasm + SIMD
const size: [number, number] = [60, 80]; // a bundled sample and its mask (0 / 255), reduced
const rgb = imageToTensor(readImage('samples/grabcut/images/banana1.png'), 1 / 255);
const x = addCoordChannels(tf.image.resizeBilinear(rgb, size)); // [60, 80, 5]
const { data, width, height } = readGray('samples/grabcut/masks/banana1.png');
const mask = tf.image.resizeNearestNeighbor(tf.tensor3d(data, [height, width, 1]), size);
const y = tf.oneHot(tf.reshape(tf.cast(tf.greater(mask, 127), 'int32'), [-1]), 2); // [4800, 2]

const net = segmentationBackbone({ numClasses: 2, coords: true, seed: 1 });
const logits = () => tf.reshape(denseForward(net.dense, x), [-1, 2]); // [60, 80, 2]: all pixels at once
const [opt, vars] = [tf.train.adam(0.01), net.dense.variables()];
for (let step = 1; step <= 20; step++) {
  const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, logits()), true, vars)!;
  if (step % 19 === 1) console.log(`step ${step}: loss ${loss.dataSync()[0]!.toFixed(3)}`);
  loss.dispose();
}
await saveModel(net.patch, 'out/backbone'); // the patch model: the same variables
const again = await loadModel('out/backbone');
console.log(again.spec.layers.length, 'layers, receptive field', net.receptiveField.size.join('×'));
