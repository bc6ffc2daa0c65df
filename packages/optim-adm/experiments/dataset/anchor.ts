// The anchor of the data-set experiment: the classic interactive graph cut
// (scribble colour histograms, contrast-sensitive 8-connected Potts, λ = 50,
// seeds hard) on each test image WITH its scribbles — what the network, which
// sees no scribbles at test time, is compared with (shared/data/README.md:
// about 0.652 over the 262 horses).
import { interactiveGraphCut, objectIoU } from '../../src/index.js';
import { loadDataset } from './io.js';

/** Mean object IoU of the classic graph cut over `names` of `dir` (images with a mask). */
export function classicGraphCutIoU(dir: string, names: string[]): number {
  let sum = 0;
  let n = 0;
  for (const ex of loadDataset(dir, names)) {
    if (!ex.mask) continue;
    sum += objectIoU(interactiveGraphCut(ex.image, ex.seeds), ex.mask);
    n++;
  }
  return sum / n;
}
