import './scripts/register.mjs';

const t = await import('@seg/tensor');
await t.initBackend({ backend: 'wasm' });
const tf = await import('@tensorflow/tfjs-core');
const dc = await import('@seg/dense-conv');
for (const widths of [
  [16, 16, 24, 32],
  [16, 16, 16, 16],
  [12, 12, 16, 16],
] as any) {
  for (const [h, w] of [
    [120, 160],
    [150, 200],
    [180, 240],
  ]) {
    const net = dc.segmentationBackbone({ numClasses: 2, coords: true, seed: 1, widths });
    const x = dc.addCoordChannels(tf.randomUniform([h, w, 3]));
    const opt = tf.train.adam(1e-3);
    const f = () => tf.mean(tf.square(dc.denseForward(net.dense, x))) as any;
    for (let i = 0; i < 2; i++) opt.minimize(f, false, net.dense.variables());
    let t0 = performance.now();
    for (let i = 0; i < 5; i++) {
      const l = opt.minimize(f, true, net.dense.variables());
      l!.dataSync();
      l!.dispose();
    }
    const step = (performance.now() - t0) / 5;
    t0 = performance.now();
    for (let i = 0; i < 5; i++) {
      const y = dc.denseForward(net.dense, x);
      y.dataSync();
      y.dispose();
    }
    console.log(
      widths.join(','),
      h,
      w,
      'step',
      step.toFixed(1),
      'fwd',
      ((performance.now() - t0) / 5).toFixed(1),
      tf.memory().numTensors,
    );
    net.dispose();
    x.dispose();
    opt.dispose();
  }
}
