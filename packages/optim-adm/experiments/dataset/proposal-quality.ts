// How good the labels ADM trains on are (issue 21's gap to full supervision):
// on every training image at the network's scale, the network's argmax and
// its Y-step proposal (the Potts problem of the trainer's whole-image
// Y-step: −log S, λ/μ times the contrast weights, the scribbles hard), each
// scored by object IoU against the truth there (pixels the truth leaves out
// not counted).
import { gridWeights } from '@seg/losses';
import * as tf from '@tensorflow/tfjs-core';
import {
  type DatasetExample,
  datasetInput,
  type EncoderDecoder,
  inlineSolver,
  resizeExample,
} from '../../src/index.js';
import { buildProposalProblem } from '../../src/proposals/y-step.js';

/** Mean object IoU over the examples: the network's argmax and the proposal, at the network's scale. */
export interface LabelQuality {
  network: number;
  proposal: number;
}

/** IoU of label 1 between `pred` and the truth (-1: not counted); 1 when both are empty. */
function iou(pred: ArrayLike<number>, truth: Int32Array): number {
  let inter = 0;
  let union = 0;
  for (let p = 0; p < truth.length; p++) {
    if (truth[p]! < 0) continue;
    const a = pred[p] === 1;
    const b = truth[p] === 1;
    if (a && b) inter++;
    if (a || b) union++;
  }
  return union === 0 ? 1 : inter / union;
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
    const probs = tf.tidy(() => tf.softmax(net.forward(datasetInput(at.rgb, 1, h, w))));
    const S = probs.dataSync() as Float32Array;
    probs.dispose();
    const argmax = Int32Array.from({ length: w * h }, (_, p) =>
      S[2 * p + 1]! > S[2 * p]! ? 1 : 0,
    );
    const weights = gridWeights({ width: w, height: h, data: at.rgb }, { connectivity: 8 }).edges;
    const problem = buildProposalProblem(
      { probs: S, width: w, height: h, numLabels: 2, weights, seeds: at.seeds },
      { pottsWeight: lambda / mu, seeds: 'hard' },
    );
    const [y] = await solver.solve([problem]);
    network += iou(argmax, at.truth!);
    proposal += iou(y!, at.truth!);
  }
  await solver.close?.();
  return { network: network / examples.length, proposal: proposal / examples.length };
}
