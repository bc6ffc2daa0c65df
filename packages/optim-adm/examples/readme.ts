// examples/readme.ts, run from the repository root by src/__tests__/readme.test.ts
import { interactiveGraphCut, objectIoU, segmentImage } from '@seg/optim-adm';
import { initBackend, labelMapFromCodes } from '@seg/tensor';
import { readGray, readImage } from '@seg/tensor/node';

await initBackend();
const image = readImage('samples/grabcut/images/banana1.png');
const codes = readGray('samples/grabcut/scribbles-1/banana1.png'); // 0 none, 1 object, 2 background
const seeds = labelMapFromCodes(codes, { 1: 1, 2: 0 });
const mask = readGray('samples/grabcut/masks/banana1.png'); // 0 / 255, 128 left out
const { labels, history } = await segmentImage(image, seeds, {
  method: 'adm',
  iterations: 4, // ADM's default: 3 (SEGMENT_DEFAULTS)
  maxSide: 80, // train on the image reduced to 80 px (default 120)
  proposals: 'train', // and solve the Y-steps at that size (default: full size)
  onProgress: (i) => console.log(i.iteration, i.regularizedLoss.toFixed(4)),
});
console.log('ADM object IoU', objectIoU(labels, mask).toFixed(3), history.length);
const classic = interactiveGraphCut(image, seeds, { lambda: 50 }); // the anchor
console.log('graph cut object IoU', objectIoU(classic, mask).toFixed(3));
