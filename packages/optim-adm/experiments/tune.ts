// Tuning runs of segmentImage on a subset of GrabCut-50 (every 5th image by
// default), one variant per line of --variants (JSON of SegmentOptions).
//   npx tsx --conditions=@seg/source experiments/tune.ts --set 1 [--every 5] --variants '[{"method":"adm"},...]'
import { initBackend } from '@seg/tensor';
import { objectIoU, type SegmentOptions, segmentImage } from '../src/index.js';
import { grabCutNames, loadGrabCut } from '../src/node/index.js';
import { cli, SHARED_GRABCUT } from './settings.js';

const { opt } = cli();
const dir = opt('--data', SHARED_GRABCUT);
const set = Number(opt('--set', '1'));
const every = Number(opt('--every', '5'));
const offset = Number(opt('--offset', '0'));
const variants = JSON.parse(
  opt('--variants', '[{"method":"graphcut"},{"method":"adm"}]'),
) as SegmentOptions[];
await initBackend({ backend: 'wasm' });
const names = grabCutNames(dir).filter((_, i) => i % every === offset);
const examples = loadGrabCut(dir, { scribbles: set, names });
for (const v of variants) {
  const ious: number[] = [];
  const t0 = performance.now();
  const per: string[] = [];
  for (const ex of examples) {
    const r = await segmentImage(ex.image, ex.seeds, v);
    const iou = objectIoU(r.labels, ex.mask!);
    ious.push(iou);
    per.push(`${ex.name}:${iou.toFixed(2)}`);
  }
  const mean = ious.reduce((a, b) => a + b, 0) / ious.length;
  console.log(
    `${mean.toFixed(4)}  ${((performance.now() - t0) / 1000).toFixed(0)}s  ${JSON.stringify(v)}\n    ${per.join(' ')}`,
  );
}
