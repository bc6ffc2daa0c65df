// GrabCut-50, interactive segmentation with a prior learned from other
// images' scribbles (no masks): 5-fold cross-validation. For each fold, one
// network is trained by partial cross-entropy on the scribbles of the 40
// other images, then every held-out image is segmented by per-image ADM
// (`segmentImage`, the per-image experiment's setting) starting from that
// network instead of random weights — the paper's recipe of fine-tuning
// from the partial-CE model.
//   npx tsx --conditions=@seg/source experiments/crossval.ts [--set 1] [--folds 0,1,2,3,4] [--epochs 20]
//     [--init network|both|colour] [--data DIR]
// Fold f holds out the images i with i mod 5 = f (fold 0 is the tuning subset).
// Last line: CV {json} (means over the held-out images of the folds run).
import { initBackend } from '@seg/tensor';
import {
  createPixelNet,
  objectIoU,
  type SegmentOptions,
  segmentImage,
  trainGradientDescent,
} from '../src/index.js';
import { grabCutNames, loadGrabCut } from '../src/node/index.js';
import { networkLabels, reduce } from './reduced.js';
import { cli, SHARED_GRABCUT } from './settings.js';

const { opt } = cli();
const dir = opt('--data', SHARED_GRABCUT);
const set = Number(opt('--set', '1'));
const epochs = Number(opt('--epochs', '20'));
const folds = opt('--folds', '0,1,2,3,4').split(',').map(Number);
const init = opt('--init', 'network') as NonNullable<SegmentOptions['init']>;
const MAX_SIDE = 120;
const WIDTH = 16;
// segmentImage's ADM defaults, but by default the first Y-step from the
// pretrained network (init 'network'): that network is the prior
const ADM: SegmentOptions = {
  method: 'adm',
  init,
  maxSide: MAX_SIDE,
  width: WIDTH,
  seedDistance: 3,
  colorModel: 10,
  coordScale: 0,
  seed: 1,
};
const INPUT = { coordScale: 0, seedDistance: 3, colorModel: 10 };

await initBackend({ backend: 'wasm' });
const names = grabCutNames(dir);
const all = reduce(loadGrabCut(dir, { scribbles: set, names }), MAX_SIDE);
console.log(
  `cross-validation: scribbles-${set}, folds ${folds.join(',')} of 5, partial CE on the other 40 images ` +
    `(${epochs} epochs of batches of 4, one Adam step each, lr 0.01), then per-image ADM from it (init ${init})`,
);
const pretrainedIoU: number[] = [];
const admIoU: number[] = [];
const t0 = performance.now();
for (const f of folds) {
  const train = all.filter((_, i) => i % 5 !== f);
  const test = all.filter((_, i) => i % 5 === f);
  const net = createPixelNet({ numClasses: 2, seed: 1, width: WIDTH });
  await trainGradientDescent(
    net,
    train.map((t) => ({ image: t.image, seeds: t.seeds })),
    {
      lambda: 0,
      iterations: epochs,
      stepsPerIteration: 1,
      batchSize: 4,
      batchSeed: 1,
      learningRate: 0.01,
      ...INPUT,
    },
  );
  const per: string[] = [];
  for (const t of test) {
    // the pretrained network alone
    const a = objectIoU(networkLabels(net, t, INPUT), t.ex.mask!);
    // per-image ADM from it
    const r = await segmentImage(t.ex.image, t.ex.seeds, {
      ...ADM,
      initialParams: net.model.params,
    });
    const b = objectIoU(r.labels, t.ex.mask!);
    pretrainedIoU.push(a);
    admIoU.push(b);
    per.push(`${t.ex.name}:${a.toFixed(2)}→${b.toFixed(2)}`);
  }
  net.dispose();
  console.log(`fold ${f}: ${per.join(' ')}`);
}
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
console.log(
  `${admIoU.length} held-out images: pretrained network ${mean(pretrainedIoU).toFixed(3)}, ` +
    `then per-image ADM ${mean(admIoU).toFixed(3)}, ${((performance.now() - t0) / 1000).toFixed(0)} s`,
);
console.log(
  `CV ${JSON.stringify({ set, folds, epochs, init, images: admIoU.length, pretrainedIoU: mean(pretrainedIoU), admFromPretrainedIoU: mean(admIoU) })}`,
);
