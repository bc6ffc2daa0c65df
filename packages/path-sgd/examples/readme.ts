// examples/readme.ts, run from the repository root by src/__tests__/readme.test.ts
import { createModel, linear, relu } from '@seg/dense-conv';
import { PathSgdOptimizer, pathNorm } from '@seg/path-sgd';
import { initBackend } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';

await initBackend();
const x = tf.randomNormal([256, 1, 1, 20], 0, 1, 'float32', 1); // 256 examples of 20 features
const teacher = tf.randomNormal([20, 3], 0, 1, 'float32', 2);
const y = tf.oneHot(tf.argMax(tf.matMul(tf.reshape(x, [256, 20]), teacher), 1), 3); // 3 classes
const layers = [
  linear({ name: 'fc1', outChannels: 64 }),
  relu(),
  linear({ name: 'fc2', outChannels: 3 }),
];

// One network and a copy with its hidden units rescaled (in ×10, out ÷10): the same function.
for (const c of [1, 10]) {
  for (const rule of ['Path-SGD', 'SGD']) {
    const model = createModel({ inChannels: 20, layers }, 1);
    const scale = { 'fc1/weight': c, 'fc1/bias': c, 'fc2/weight': 1 / c };
    for (const [name, s] of Object.entries(scale))
      model.params[name]!.assign(tf.mul(model.params[name]!, s));
    const logits = () => tf.reshape(model.apply(x), [-1, 3]);
    const loss = () => tf.losses.softmaxCrossEntropy(y, logits()) as tf.Scalar;
    const opt = rule === 'SGD' ? tf.train.sgd(0.05) : new PathSgdOptimizer(model, 0.05); // a drop-in
    for (let step = 0; step < 50; step++) opt.minimize(loss, false, model.variables());
    const [value, norm] = [loss().dataSync()[0]!.toFixed(4), pathNorm(model).toFixed(3)];
    console.log(`×${c} ${rule}: loss ${value}, path norm ${norm}`);
  }
}
