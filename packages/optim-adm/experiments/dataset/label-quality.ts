// How good the labels ADM trains on are (issue 21's gap to full supervision):
// on every training image at the network's scale, the network's argmax and
// its Y-step proposal (the Potts problem of the trainer's whole-image
// Y-step: −log S, λ/μ times the contrast weights, the scribbles hard), each
// scored by object IoU against the truth there (pixels the truth leaves out
// not counted).
import { gridWeights } from '@seg/losses';
import { argmaxLabels, labelMap } from '@seg/tensor';
import {
  type DatasetExample,
  type EncoderDecoder,
  inlineSolver,
  objectIoU,
  predictExample,
  resizeExample,
} from '../../src/index.js';
import { buildProposalProblem } from '../../src/proposals/y-step.js';

/** Mean object IoU over the examples: the network's argmax and the proposal, at the network's scale. */
export interface LabelQuality {
  network: number;
  proposal: number;
}

/** {@link LabelQuality} of `net` on `examples` with Y-steps at Potts weight `lambda / mu`. */
export async function labelQuality(
  net: EncoderDecoder,
  examples: readonly DatasetExample[],
  shortSide: number,
  lambda: number,
  mu: number,
): Promise<LabelQuality> {
  const solver = inlineSolver({ keepBytes: 0 });
  let network = 0;
  let proposal = 0;
  for (const ex of examples) {
    const at = resizeExample(ex, shortSide);
    const { width: w, height: h } = at;
    const { small } = predictExample(net, ex, shortSide);
    // the truth at this scale (-1 left out) as a 0 / 128 / 255 mask
    const truth = {
      width: w,
      height: h,
      data: Uint8Array.from(at.truth!, (t) => (t < 0 ? 128 : t * 255)),
    };
    const weights = gridWeights({ width: w, height: h, data: at.rgb }, { connectivity: 8 }).edges;
    const problem = buildProposalProblem(
      { probs: small.data, width: w, height: h, numLabels: 2, weights, seeds: at.seeds },
      { pottsWeight: lambda / mu, seeds: 'hard' },
    );
    const [y] = await solver.solve([problem]);
    network += objectIoU(argmaxLabels(small), truth);
    proposal += objectIoU(labelMap(w, h, y!), truth);
  }
  await solver.close?.();
  return { network: network / examples.length, proposal: proposal / examples.length };
}
