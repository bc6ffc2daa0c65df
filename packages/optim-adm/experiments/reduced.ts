// What the multi-image experiments (split.ts, crossval.ts) share: GrabCut
// examples reduced to the training size, and a network's labels on one of them.
import { type LabelMap, labelMap, type RgbImage } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import {
  downscaleImage,
  downscaleSeeds,
  type NetworkInputOptions,
  networkInput,
  reducedSize,
  type SegNet,
  upscaleProbs,
} from '../src/index.js';
import type { GrabCutExample } from '../src/node/index.js';

/** An example at full size (`ex`) and reduced to a longest side of `maxSide`. */
export interface Reduced {
  ex: GrabCutExample;
  image: RgbImage;
  seeds: LabelMap;
}

export function reduce(examples: GrabCutExample[], maxSide: number): Reduced[] {
  return examples.map((ex) => {
    const [w, h] = reducedSize(ex.image.width, ex.image.height, maxSide);
    return { ex, image: downscaleImage(ex.image, w, h), seeds: downscaleSeeds(ex.seeds, w, h, 2) };
  });
}

/** Labels at full size from probabilities at the reduced size (bilinear, then argmax). */
export function labelsFromProbs(data: Float32Array, t: Reduced): LabelMap {
  const small = { width: t.image.width, height: t.image.height, numLabels: 2 };
  const full = upscaleProbs({ ...small, data }, t.ex.image.width, t.ex.image.height);
  const lab = new Int32Array(t.ex.image.width * t.ex.image.height);
  for (let p = 0; p < lab.length; p++) lab[p] = full.data[2 * p + 1]! > full.data[2 * p]! ? 1 : 0;
  return labelMap(t.ex.image.width, t.ex.image.height, lab);
}

/** The network's labels on one example, its scribbles entering only through the input channels. */
export function networkLabels(net: SegNet, t: Reduced, input: NetworkInputOptions): LabelMap {
  const probs = tf.tidy(() =>
    tf.softmax(net.forward(networkInput(t.image, { ...input, seeds: t.seeds, numClasses: 2 }))),
  );
  const data = probs.dataSync() as Float32Array;
  probs.dispose();
  return labelsFromProbs(data, t);
}
