// GrabCut-50, the train/test protocol of issue 6: one network trained on 40
// images, each from its own scribbles, and tested on the other 10, whose
// scribbles enter only through the network's input (the seed-distance
// channels): no training and no graph cut on the test images.
//   npx tsx --conditions=@seg/source experiments/split.ts [--set 1] [--epochs 20]
//     [--methods adm,gd-grid,pce] [--batch 4] [--width 16] [--proposals train|full] [--data DIR]
//     [--finetune adm,pce] [--colour-model 10]
// Test images: every 5th from the third (10 of 50), disjoint from the tuning
// subset (every 5th from the first). Minibatches of 4 images, one gradient
// step per batch (ADM: a Y-step for the batch's images before each step, the
// reference schedule of adm-seg), Adam lr 0.01, the per-image experiment's λ.
// Last line: SPLIT {json}.
import { initBackend } from '@seg/tensor';
import { createPixelNet, objectIoU, trainAdm, trainGradientDescent } from '../src/index.js';
import { grabCutNames, loadGrabCut } from '../src/node/index.js';
import { labelsFromProbs, networkLabels, reduce } from './reduced.js';
import { cli, SHARED_GRABCUT } from './settings.js';

const { opt } = cli();
const dir = opt('--data', SHARED_GRABCUT);
const set = Number(opt('--set', '1'));
const epochs = Number(opt('--epochs', '20'));
const batchSize = Number(opt('--batch', '4'));
const width = Number(opt('--width', '16'));
const proposals = opt('--proposals', 'train') as 'train' | 'full';
const methods = opt('--methods', 'adm,gd-grid,pce').split(',');
const finetune = opt('--finetune', 'adm,pce').split(',');
const MAX_SIDE = 120;
const INPUT = { coordScale: 0, seedDistance: 3, colorModel: Number(opt('--colour-model', '10')) };

await initBackend({ backend: 'wasm' });
const names = grabCutNames(dir);
const isTest = (i: number) => i % 5 === 2;
const trainNames = names.filter((_, i) => !isTest(i));
const testNames = names.filter((_, i) => isTest(i));
const train = reduce(loadGrabCut(dir, { scribbles: set, names: trainNames }), MAX_SIDE);
const test = reduce(loadGrabCut(dir, { scribbles: set, names: testNames }), MAX_SIDE);
console.log(
  `split: train ${train.length} images, test ${test.length} (${testNames.join(' ')}), scribbles-${set}, ` +
    `${epochs} epochs of batches of ${batchSize}, one step per batch, width ${width}, proposals ${proposals}, input ${JSON.stringify(INPUT)}`,
);

/** Object IoU of the network on each test image (argmax of the upsampled probabilities). */
function testIoU(net: ReturnType<typeof createPixelNet>): number[] {
  return test.map((t) => objectIoU(networkLabels(net, t, INPUT), t.ex.mask!));
}

const out: Record<string, number> = {};
for (const method of methods) {
  const t0 = performance.now();
  const net = createPixelNet({ numClasses: 2, seed: 1, width });
  const common = {
    iterations: epochs,
    stepsPerIteration: 1,
    batchSize,
    batchSeed: 1,
    learningRate: 0.01,
    ...INPUT,
  };
  let trainLoss = 0;
  if (method === 'adm') {
    const examples = train.map((t) => ({
      image: t.image,
      seeds: t.seeds,
      ...(proposals === 'full' ? { full: { image: t.ex.image, seeds: t.ex.seeds } } : {}),
    }));
    const r = await trainAdm(net, examples, { ...common, lambda: 5, mu: 1, init: 'color' });
    trainLoss = r.history.at(-1)!.regularizedLoss;
  } else {
    const examples = train.map((t) => ({ image: t.image, seeds: t.seeds }));
    const r = await trainGradientDescent(net, examples, {
      ...common,
      lambda: method === 'pce' ? 0 : 0.5,
      lossLambda: 5,
      regularizer: 'grid',
    });
    trainLoss = r.history.at(-1)!.regularizedLoss;
  }
  const key = { adm: 'adm', 'gd-grid': 'gdGrid', pce: 'pce' }[method] ?? method;
  const ious = testIoU(net);
  if (finetune.includes(method)) {
    // the interactive setting with a prior: per test image, ADM from the
    // trained network on that image's own scribbles (the per-image schedule:
    // 10 Y-steps at full size × 5 θ-steps)
    for (const init of ['network', 'color'] as const) {
      const tuned = [];
      for (const t of test) {
        const copy = createPixelNet({ numClasses: 2, seed: 1, width });
        for (const [k, v] of Object.entries(net.model.params)) copy.model.params[k]!.assign(v);
        const r = await trainAdm(
          copy,
          { image: t.image, seeds: t.seeds, full: { image: t.ex.image, seeds: t.ex.seeds } },
          {
            iterations: 10,
            stepsPerIteration: 5,
            learningRate: 0.01,
            ...INPUT,
            lambda: 5,
            mu: 1,
            init,
          },
        );
        const lab = labelsFromProbs(r.probs[0]!, t);
        tuned.push(objectIoU(lab, t.ex.mask!));
        copy.dispose();
      }
      const m = tuned.reduce((a, b) => a + b, 0) / tuned.length;
      out[`${key}ThenAdm${init === 'network' ? 'Network' : 'Colour'}TestIoU`] = m;
      console.log(
        `${method}, then per-image ADM from it (init ${init}): test mean object IoU ${m.toFixed(3)} (${tuned.map((v) => v.toFixed(2)).join(' ')})`,
      );
    }
  }
  net.dispose();
  const mean = ious.reduce((a, b) => a + b, 0) / ious.length;
  out[`${key}TestIoU`] = mean;
  out[`${key}TrainLoss`] = trainLoss;
  console.log(
    `${method}: test mean object IoU ${mean.toFixed(3)} (${ious.map((v) => v.toFixed(2)).join(' ')}), ` +
      `train regularized loss (λ=5) ${trainLoss.toFixed(4)}, ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
}
console.log(
  `SPLIT ${JSON.stringify({ set, epochs, batchSize, width, proposals, ...INPUT, ...out })}`,
);
