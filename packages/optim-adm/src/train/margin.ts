/**
 * The large-margin term of `@seg/losses` (Nguyen et al., arXiv 2405.18499) in
 * the scribble setting: on the pixel network's penultimate features of the
 * scribbled pixels, with the network's last 1×1 layer as the linear
 * classifier, added to every gradient step's loss (partial cross-entropy,
 * and ADM's proposal term). Centroids (object, background) are kept by
 * momentum across the steps of one training run.
 */
import { applyNet, defineNet, type NetSpec } from '@seg/dense-conv';
import {
  initMarginState,
  type LargeMarginOptions,
  largeMarginTerms,
  type MarginState,
  updateMarginState,
} from '@seg/losses';
import { assertNumber, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import type { SegNet } from '../net/network.js';

/**
 * The trainers' `margin` option: the large-margin weights and thresholds of
 * `largeMarginLoss` (λ, α, β, γ, δ_var, δ_dist, aggregation; its defaults),
 * and the centroid momentum.
 */
export interface ScribbleMarginOptions extends LargeMarginOptions {
  /** μ of the centroid momentum (see `initMarginState`). @default 0.99 */
  momentum?: number;
}

/** What the margin term reads of an example (the trainers' `PreparedExample` has it). */
export interface MarginExample {
  /** The network input `[1, h, w, C]`. */
  input: tf.Tensor4D;
  /** The seeds `[1, h, w]`, −1 unlabelled. */
  seedTensor: tf.Tensor3D;
}

/** The margin term of one training run (internal to the trainers). */
export interface ScribbleMargin {
  /** Logits `[1,h,w,K]` and the margin term of one example, inside the optimizer's tape. */
  forward(p: MarginExample): { logits: tf.Tensor4D; term: tf.Scalar };
  /** After a gradient step: moves the centroids with the features of that step. */
  update(): void;
  /** Disposes features still held (after an error). */
  dispose(): void;
}

const NUMBERS = ['lambda', 'alpha', 'beta', 'gamma', 'deltaVar', 'deltaDist'] as const;

/**
 * Checks the `margin` option and the network it needs: the output layer
 * must be a 1×1 convolution (stride 1, no dilation) or a dense layer reading
 * one layer, the penultimate features. Returns null when the option is absent.
 */
export function scribbleMargin(
  fn: string,
  net: SegNet,
  options: ScribbleMarginOptions | undefined | false,
): ScribbleMargin | null {
  if (options === undefined || options === false) return null;
  if (options === null || typeof options !== 'object') {
    throw new SegValueError(`${fn}: options.margin is ${String(options)}, expected an object`);
  }
  for (const key of NUMBERS) {
    if (options[key] !== undefined) assertNumber(fn, `options.margin.${key}`, options[key], 0);
  }
  const agg = options.aggregation ?? 'max';
  if (agg !== 'max' && agg !== 'mean') {
    throw new SegValueError(
      `${fn}: options.margin.aggregation is ${JSON.stringify(agg)}, expected 'max' or 'mean'`,
    );
  }
  const spec = net.model.spec;
  const last = spec.layers.find((l) => l.name === spec.output);
  const oneByOne =
    last?.kind === 'conv2d' &&
    last.filterSize[0] === 1 &&
    last.filterSize[1] === 1 &&
    last.stride[0] === 1 &&
    last.stride[1] === 1;
  if (!last || (!oneByOne && last.kind !== 'linear') || last.inputs.length !== 1) {
    throw new SegValueError(
      `${fn}: options.margin needs a network whose output layer is a 1×1 convolution or a dense layer on the penultimate features; '${spec.output}' is ${last ? `a ${last.kind} layer` : 'not a layer'}`,
    );
  }
  const featureLayer = last.inputs[0]!;
  const trunk: NetSpec = defineNet({
    inChannels: spec.inChannels,
    layers: spec.layers,
    output: featureLayer,
    form: spec.form,
  });
  const K = net.numClasses;
  const C = trunk.outChannels;
  const params = net.model.params;
  const weightName = `${last.name}/${last.kind === 'linear' ? 'weight' : 'filter'}`;
  const biasName = `${last.name}/bias`;
  let state: MarginState = initMarginState(K, C, {
    ...(options.momentum !== undefined ? { momentum: options.momentum } : {}),
  });
  const lossOptions: LargeMarginOptions = { ...options, aggregation: agg };
  delete (lossOptions as ScribbleMarginOptions).momentum;
  let kept: { f: tf.Tensor; y: tf.Tensor }[] = [];
  let checked = false;
  return {
    forward(p) {
      const [, h, w] = p.input.shape;
      const n = h * w;
      const f = tf.reshape(applyNet(trunk, params, p.input), [n, C]) as tf.Tensor2D;
      const weight = tf.reshape(params[weightName]!, [C, K]) as tf.Tensor2D;
      const bias = params[biasName] ?? tf.zeros([K]);
      const logits = tf.reshape(tf.add(tf.matMul(f, weight), bias), [1, h, w, K]) as tf.Tensor4D;
      if (!checked) {
        // the network must be applied as is (not, e.g., by a dense forward)
        const same = tf.tidy(
          () => tf.max(tf.abs(tf.sub(net.forward(p.input), logits))).dataSync()[0]!,
        );
        if (!(same < 1e-3)) {
          throw new SegValueError(
            `${fn}: options.margin needs a network applied as is (its output is the 1×1 layer on '${featureLayer}'); this one's forward differs by ${same}`,
          );
        }
        checked = true;
      }
      const y = tf.reshape(p.seedTensor, [n]);
      const term = largeMarginTerms(f, y, { weight, bias }, state, lossOptions).total;
      kept.push({ f: tf.keep(f), y: tf.keep(y) });
      return { logits, term };
    },
    update() {
      for (const { f, y } of kept) {
        state = updateMarginState(state, f, y);
        tf.dispose([f, y]);
      }
      kept = [];
    },
    dispose() {
      for (const { f, y } of kept) tf.dispose([f, y]);
      kept = [];
    },
  };
}

/** The network's logits of one example and, with a margin term, that term (null without). */
export function forwardWithMargin(
  net: SegNet,
  margin: ScribbleMargin | null,
  p: MarginExample,
): { logits: tf.Tensor4D; term: tf.Scalar | null } {
  if (!margin) return { logits: net.forward(p.input), term: null };
  return margin.forward(p);
}
