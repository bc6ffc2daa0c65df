import { conv2d, createModel, relu } from '@seg/dense-conv';
import { labelMap, Rng, rgbImage, SegValueError } from '@seg/tensor';
import { describeBackends, expectNoLeaks, expectThrow } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { createPixelNet, inputChannels, segNetFromModel } from '../net/network.js';
import { trainAdm } from '../train/adm.js';
import { trainGradientDescent } from '../train/gd.js';
import type { ScribbleMarginOptions } from '../train/margin.js';

/** A 12×10 image: a reddish disc on a bluish background, three seeds of each label. */
function synthetic() {
  const [w, h] = [12, 10];
  const rng = new Rng(5);
  const data = new Uint8Array(w * h * 3);
  const seeds = new Int32Array(w * h).fill(-1);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const base = (x - 6) ** 2 + (y - 5) ** 2 < 9 ? [200, 60, 50] : [40, 70, 190];
      for (let c = 0; c < 3; c++)
        data[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, base[c]! + rng.normal(0, 20)));
    }
  for (const p of [5 * w + 6, 5 * w + 5, 4 * w + 6]) seeds[p] = 1;
  for (const p of [0, w * h - 1, w - 1]) seeds[p] = 0;
  return { image: rgbImage(w, h, data), seeds: labelMap(w, h, seeds) };
}

const small = { iterations: 2, stepsPerIteration: 2, pretrainSteps: 2, lambda: 2 };

async function trained(
  trainer: 'adm' | 'gd',
  margin: ScribbleMarginOptions | undefined,
): Promise<Float32Array[]> {
  const net = createPixelNet({ seed: 3, width: 5 });
  const opts = { ...small, optimizer: tf.train.sgd(0.05), ...(margin ? { margin } : {}) };
  if (trainer === 'adm') await trainAdm(net, synthetic(), opts);
  else await trainGradientDescent(net, synthetic(), opts);
  const out = net.model.variables().map((v) => Float32Array.from(v.dataSync()));
  net.dispose();
  opts.optimizer.dispose();
  return out;
}

describeBackends('trainers: options.margin', () => {
  it.each(['adm', 'gd'] as const)(
    '%s: λ = 0 trains as without; λ > 0 changes the network',
    async (t) => {
      const plain = await trained(t, undefined);
      const zero = await trained(t, { lambda: 0 });
      const on = await trained(t, { lambda: 1, deltaDist: 3, momentum: 0.5 });
      let dZero = 0;
      let dOn = 0;
      plain.forEach((p, i) => {
        for (let j = 0; j < p.length; j++) {
          dZero = Math.max(dZero, Math.abs(p[j]! - zero[i]![j]!));
          dOn = Math.max(dOn, Math.abs(p[j]! - on[i]![j]!));
          expect(Number.isFinite(on[i]![j]!)).toBe(true);
        }
      });
      expect(dZero).toBeLessThan(1e-5);
      expect(dOn).toBeGreaterThan(1e-4);
    },
  );

  it('does not leak', async () => {
    await expectNoLeaks(() => trained('adm', { aggregation: 'mean' }));
    await expectNoLeaks(() => trained('gd', {}));
  });

  it('names a bad option and a network it cannot use', async () => {
    const net = createPixelNet({ seed: 1, width: 4 });
    await expect(
      trainAdm(net, synthetic(), { ...small, margin: { aggregation: 'min' as 'max' } }),
    ).rejects.toThrow(
      new SegValueError(`trainAdm: options.margin.aggregation is "min", expected 'max' or 'mean'`),
    );
    net.dispose();
    const model = createModel(
      {
        inChannels: inputChannels(2),
        layers: [
          conv2d({ name: 'a', outChannels: 4, filterSize: 3, padding: 'same' }),
          relu(),
          conv2d({ name: 'out', outChannels: 2, filterSize: 3, padding: 'same' }),
        ],
      },
      1,
    );
    const wide = segNetFromModel(model);
    let error: unknown;
    try {
      await trainGradientDescent(wide, synthetic(), { ...small, margin: {} });
    } catch (e) {
      error = e;
    }
    expectThrow(
      () => {
        throw error;
      },
      SegValueError,
      "trainGradientDescent: options.margin needs a network whose output layer is a 1×1 convolution or a dense layer on the penultimate features; 'out' is a conv2d layer",
    );
    wide.dispose();
  });
});
