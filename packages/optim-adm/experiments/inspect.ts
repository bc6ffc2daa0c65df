// One GrabCut image segmented by segmentImage, its iterations printed and the
// result drawn over the image: red where only the result says object, green
// where only the truth does, yellow where both; scribbles yellow (object) and
// cyan (background).
//   npx tsx --conditions=@seg/source experiments/inspect.ts NAME [--set 1] \
//     [--options '{"method":"adm"}'] [--data DIR] [--out FILE.png]
import { initBackend } from '@seg/tensor';
import { writeImage } from '@seg/tensor/node';
import { objectIoU, type SegmentOptions, segmentImage } from '../src/index.js';
import { loadGrabCut } from '../src/node/index.js';
import { cli, SHARED_GRABCUT } from './settings.js';

const { opt } = cli();
const name = process.argv[2];
if (!name || name.startsWith('--')) throw new Error('inspect: expected an image name first');
const dir = opt('--data', SHARED_GRABCUT);
const set = Number(opt('--set', '1'));
const options = JSON.parse(opt('--options', '{}')) as SegmentOptions;
const out = opt('--out', `out/inspect-${name}-${set}.png`);

await initBackend({ backend: 'wasm' });
const [ex] = loadGrabCut(dir, { scribbles: set, names: [name] });
const { image, seeds, mask } = ex!;
const r = await segmentImage(image, seeds, {
  ...options,
  onProgress: (i) =>
    console.log(
      `iteration ${i.iteration}: regularized loss ${i.regularizedLoss.toFixed(4)}, partial CE ${i.partialCE.toFixed(4)}`,
    ),
});
if (mask) console.log(`object IoU ${objectIoU(r.labels, mask).toFixed(4)}`);
const { width: W, height: H } = image;
const rgb = new Uint8Array(3 * W * H);
for (let p = 0; p < W * H; p++) {
  const grey = image.data[3 * p + 1]! >> 1;
  const ours = r.labels.data[p] === 1;
  const truth = mask ? mask.data[p]! >= 128 : false;
  rgb.set([ours ? 200 : grey, truth ? 200 : grey, grey], 3 * p);
  if (seeds.data[p] === 1) rgb.set([255, 255, 0], 3 * p);
  if (seeds.data[p] === 0) rgb.set([0, 255, 255], 3 * p);
}
writeImage(out, { width: W, height: H, data: rgb });
console.log(`→ ${out}`);
