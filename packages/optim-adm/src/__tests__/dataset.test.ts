import { labelMap, Rng, rgbImage, SegShapeError, SegValueError } from '@seg/tensor';
import { describeBackends, expectNoLeaks, expectThrow } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cropLabels,
  type DatasetExample,
  networkSize,
  resizeExample,
  sampleBatch,
  splitNames,
} from '../dataset/data.js';
import { datasetLoss, evaluateOnDataset } from '../dataset/evaluate.js';
import { createEncoderDecoder, datasetInput, type EncoderDecoder } from '../dataset/network.js';
import { DATASET_METHODS, type DatasetCheckpoint, trainOnDataset } from '../dataset/trainer.js';
import { inlineSolver, type ProposalSolver } from '../proposals/y-step.js';

/** A w×h image: a reddish disc on a bluish background, a short stroke of each label, its mask. */
function disc(seed: number, w = 24, h = 20): DatasetExample {
  const rng = new Rng(seed);
  const cx = 8 + rng.int(w - 16);
  const cy = 7 + rng.int(h - 14);
  const data = new Uint8Array(w * h * 3);
  const seeds = new Int32Array(w * h).fill(-1);
  const mask = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const inside = (x - cx) ** 2 + (y - cy) ** 2 < 20;
      const base = inside ? [200, 60, 50] : [40, 70, 190];
      for (let c = 0; c < 3; c++)
        data[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, base[c]! + rng.normal(0, 15)));
      mask[y * w + x] = inside ? 255 : 0;
    }
  }
  for (let d = -1; d <= 1; d++) seeds[cy * w + cx + d] = 1;
  for (let x = 0; x < w; x += 3) seeds[x] = 0;
  return {
    name: `disc${seed}`,
    image: rgbImage(w, h, data),
    seeds: labelMap(w, h, seeds),
    mask: { width: w, height: h, data: mask },
  };
}

/**
 * The same parameters up to float32 rounding: a resumed Adam recomputes
 * β^t by a power where the uninterrupted one multiplies (tfjs setWeights).
 */
function expectSameParams(got: EncoderDecoder, want: EncoderDecoder): void {
  const pw = want.params();
  const pg = got.params();
  for (const k of Object.keys(pw)) {
    const a = pg[k]!.dataSync();
    const b = pw[k]!.dataSync();
    let worst = 0;
    for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst, k).toBeLessThan(1e-5);
  }
}

describe('splitNames', () => {
  it('is a seeded partition into sorted train and test lists', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), fc.nat(1000), (n, seed) => {
        const names = Array.from({ length: n }, (_, i) => `im${String(i).padStart(3, '0')}`);
        const k = Math.floor(n * 0.75);
        const a = splitNames(names, k, seed);
        expect(a).toEqual(splitNames(names, k, seed));
        expect(a.train).toHaveLength(k);
        expect([...a.train, ...a.test].sort()).toEqual(names);
        expect(a.train).toEqual([...a.train].sort());
      }),
      { numRuns: 30 },
    );
  });
  it('refuses a train count above the number of names', () => {
    expectThrow(
      () => splitNames(['a', 'b'], 3),
      RangeError,
      'splitNames: trainCount is 3, expected an integer in [0, 2]',
    );
  });
});

describe('sampleBatch', () => {
  it('at scale 1 with the image size as crop, returns the image (or its mirror)', () => {
    const ex = disc(3, 24, 16);
    for (let seed = 0; seed < 6; seed++) {
      const b = sampleBatch([ex], [0], new Rng(seed), { crop: [16, 24], shortSide: 16, jitter: 1 });
      const mirrored =
        b.rgb[0] !== ex.image.data[0] || b.seeds.some((v, i) => v !== ex.seeds.data[i]);
      for (let y = 0; y < 16; y++) {
        for (let x = 0; x < 24; x++) {
          const o = y * 24 + x;
          const src = y * 24 + (mirrored ? 23 - x : x);
          expect(b.seeds[o]).toBe(ex.seeds.data[src]);
          expect(b.truth![o]).toBe(ex.mask!.data[src]! > 127 ? 1 : 0);
          for (let c = 0; c < 3; c++) expect(b.rgb[3 * o + c]).toBe(ex.image.data[3 * src + c]);
        }
      }
    }
  });
  it('keeps a one-pixel stroke when reducing by 3', () => {
    const ex = disc(4, 48, 48);
    const b = resizeExample(ex, 16);
    expect([b.width, b.height]).toEqual([16, 16]);
    expect(b.seeds.some((v) => v === 1)).toBe(true);
    expect(b.seeds.some((v) => v === 0)).toBe(true);
  });
  it('cropLabels takes labels of the whole image into a crop as the truth is taken', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 17, max: 40 }),
        fc.integer({ min: 15, max: 40 }),
        fc.constantFrom(8, 16),
        (seed, W, H, side) => {
          const ex = disc(seed, W, H);
          const crop: [number, number] = [8, 8];
          const b = sampleBatch([ex, ex], [0, 1], new Rng(seed), { crop, shortSide: side });
          const labels = Int32Array.from(ex.mask!.data, (m) => (m > 127 ? 1 : 0));
          const out = new Int32Array(b.n * 64);
          b.windows.forEach((win, k) => {
            cropLabels(labels, W, H, W, H, win, 8, 8, k, out);
          });
          expect(Array.from(out)).toEqual(Array.from(b.truth!));
          // the same labels at a coarser grid: each crop pixel gets its cell's label
          const [lw, lh] = [Math.ceil(W / 2), Math.ceil(H / 2)];
          const coarse = Int32Array.from({ length: lw * lh }, (_, q) => q);
          const cells = new Int32Array(b.n * 64);
          b.windows.forEach((win, k) => {
            cropLabels(coarse, lw, lh, W, H, win, 8, 8, k, cells);
          });
          for (const q of cells) expect(q).toBeLessThan(lw * lh);
        },
      ),
      { numRuns: 50 },
    );
    const win = { x0: 0, y0: 0, step: 1, mirror: false };
    expectThrow(
      () => cropLabels(new Int32Array(5), 2, 3, 8, 8, win, 8, 8, 0, new Int32Array(64)),
      SegShapeError,
      'cropLabels: labels has length 5, expected lw*lh = 6',
    );
    expectThrow(
      () => cropLabels(new Int32Array(6), 2, 3, 8, 8, win, 8, 8, 1, new Int32Array(64)),
      SegShapeError,
      'cropLabels: out has length 64, expected at least (b+1)*h*w = 128',
    );
    expectThrow(
      () =>
        cropLabels(new Int32Array(6), 2, 3, 8, 8, { ...win, step: 0 }, 8, 8, 0, new Int32Array(64)),
      SegValueError,
      'cropLabels: win.step is 0, expected a finite number > 0',
    );
  });
  it('refuses a crop that is not a multiple of 8', () => {
    expectThrow(
      () => sampleBatch([disc(1)], [0], new Rng(1), { crop: [12, 16], shortSide: 16 }),
      SegShapeError,
      'sampleBatch: options.crop is 12×16, expected multiples of 8',
    );
  });
  it('networkSize rounds the scaled sides to multiples of 8', () => {
    expect(networkSize(263, 212, 80)).toEqual([96, 80]);
    expect(networkSize(10, 300, 4)).toEqual([8, 120]);
  });
});

describeBackends('dataset network and trainer', () => {
  const train = [disc(1), disc(2), disc(3), disc(4)];
  const tiny = { channels: [3, 3, 4, 4], seed: 1 };
  const run = {
    steps: 4,
    batchSize: 2,
    crop: [16, 16] as [number, number],
    shortSide: 16,
    logEvery: 2,
  };

  it('gives logits aligned with its input, without leaks, and checks the size', async () => {
    const net = createEncoderDecoder(tiny);
    await expectNoLeaks(() => {
      const y = tf.tidy(() =>
        net.forward(datasetInput(new Float32Array(2 * 16 * 24 * 3), 2, 16, 24)),
      );
      expect(y.shape).toEqual([2, 16, 24, 2]);
      y.dispose();
    });
    const x = tf.zeros([1, 12, 16, 3]) as tf.Tensor4D;
    expectThrow(
      () => net.forward(x),
      SegShapeError,
      'EncoderDecoder.forward: x is 12×16, expected a height and width that are multiples of 8',
    );
    x.dispose();
    net.dispose();
  });

  it.each(DATASET_METHODS)('%s trains without leaks and reports finite losses', async (method) => {
    const net = createEncoderDecoder(tiny);
    await expectNoLeaks(async () => {
      const r = await trainOnDataset(net, train, { ...run, method, pretrainSteps: 2, lambda: 2 });
      expect(r.history.map((h) => h.step)).toEqual([2, 4]);
      for (const h of r.history) expect(Number.isFinite(h.loss)).toBe(true);
      expect(r.history[1]!.pretraining).toBe(false);
    });
    net.dispose();
  });

  it('a resumed run ends where an uninterrupted one does', async () => {
    const a = createEncoderDecoder(tiny);
    await trainOnDataset(a, train, { ...run, method: 'adm', pretrainSteps: 2 });
    const b = createEncoderDecoder(tiny);
    let saved: DatasetCheckpoint | null = null;
    await trainOnDataset(b, train, {
      ...run,
      method: 'adm',
      pretrainSteps: 2,
      checkpoint: { every: 3, save: (cp) => void (saved ??= cp) },
      onStep: (i) => i.step < 3,
    });
    expect(saved!.step).toBe(3);
    const c = createEncoderDecoder({ ...tiny, seed: 7 });
    const r = await trainOnDataset(c, train, {
      ...run,
      method: 'adm',
      pretrainSteps: 2,
      resume: saved!,
    });
    expect(r.steps).toBe(4);
    expectSameParams(c, a);
    const bad = trainOnDataset(c, train, { ...run, method: 'bad' as 'pce' });
    await expect(bad).rejects.toBeInstanceOf(SegValueError);
    await expect(bad).rejects.toThrow(
      'trainOnDataset: options.method is "bad", expected one of pce, gd-grid, gd-dense, adm, full',
    );
    for (const n of [a, b, c]) n.dispose();
  });

  it("GD and ADM start from a 'pce' checkpoint of their pre-training as from their own", async () => {
    const pce = createEncoderDecoder(tiny);
    let saved: DatasetCheckpoint | null = null;
    await trainOnDataset(pce, train, {
      ...run,
      method: 'pce',
      checkpoint: { every: 2, save: (cp) => void (saved ??= cp) },
    });
    for (const method of ['gd-grid', 'adm'] as const) {
      const a = createEncoderDecoder(tiny);
      await trainOnDataset(a, train, { ...run, method, pretrainSteps: 2 });
      const b = createEncoderDecoder({ ...tiny, seed: 5 });
      await trainOnDataset(b, train, { ...run, method, pretrainSteps: 2, resume: saved! });
      expectSameParams(b, a);
      const late = trainOnDataset(b, train, { ...run, method, pretrainSteps: 1, resume: saved! });
      await expect(late).rejects.toThrow(
        `trainOnDataset: options.resume is a 'pce' checkpoint at step 2, expected '${method}' (or 'pce' within the 1 pre-training steps)`,
      );
      a.dispose();
      b.dispose();
    }
    pce.dispose();
  });

  it("ADM's Y-step on the crops' whole images (the default) or on each crop: trains, leaks nothing, and checks the option", async () => {
    const net = createEncoderDecoder(tiny);
    const opts = { ...run, method: 'adm' as const, pretrainSteps: 1 };
    for (const proposals of ['image', 'crop'] as const) {
      await expectNoLeaks(async () => {
        const r = await trainOnDataset(net, train, { ...opts, proposals });
        expect(r.steps).toBe(4);
        expect(r.yStepMs).toBeGreaterThan(0);
        expect(r.history.every((h) => Number.isFinite(h.loss))).toBe(true);
      });
    }
    await expect(
      trainOnDataset(net, train, { ...opts, proposals: 'whole' as 'image' }),
    ).rejects.toThrow("trainOnDataset: options.proposals is \"whole\", expected 'crop' or 'image'");
    net.dispose();
  });

  it("ADM's Y-step with the images' scribble colour model (colorWeight): trains, leaks nothing, checks the option", async () => {
    const net = createEncoderDecoder(tiny);
    const opts = { ...run, method: 'adm' as const, pretrainSteps: 1 };
    await expectNoLeaks(async () => {
      const r = await trainOnDataset(net, train, { ...opts, colorWeight: 2 });
      expect(r.steps).toBe(4);
      expect(r.history.every((h) => Number.isFinite(h.loss))).toBe(true);
    });
    for (const [w, shown] of [
      [-1, '-1'],
      [Number.NaN, 'NaN'],
    ] as const) {
      await expect(trainOnDataset(net, train, { ...opts, colorWeight: w })).rejects.toThrow(
        `trainOnDataset: options.colorWeight is ${shown}, expected a finite number ≥ 0`,
      );
    }
    net.dispose();
  });

  it("ADM's colour model re-estimated from each image's last proposal (colorModel: 'proposals'): other Y-step unaries than the scribbles', leaks nothing, checks the option", async () => {
    const opts = {
      ...run,
      steps: 8,
      method: 'adm' as const,
      pretrainSteps: 1,
      colorWeight: 2,
    };
    /** The unaries of every Y-step problem of a run, in order (the Y-steps solved inline). */
    const unaries = async (colorModel: 'scribbles' | 'proposals') => {
      const inline = inlineSolver();
      const seen: number[][] = [];
      const solver: ProposalSolver = {
        size: 1,
        solve: (problems) => {
          for (const p of problems) seen.push(Array.from(p.unary));
          return inline.solve(problems);
        },
      };
      const net = createEncoderDecoder(tiny);
      try {
        const r = await trainOnDataset(net, train, { ...opts, colorModel, solver });
        expect(r.history.every((h) => Number.isFinite(h.loss))).toBe(true);
        return seen;
      } finally {
        net.dispose();
      }
    };
    let reestimated: number[][] = [];
    await expectNoLeaks(async () => {
      reestimated = await unaries('proposals');
    });
    const fixed = await unaries('scribbles');
    expect(reestimated.length).toBe(fixed.length);
    // each image's first Y-step uses its scribbles in both (the same run so far) …
    expect(reestimated[0]).toEqual(fixed[0]);
    // … and a revisited image gets its last proposal's histograms instead
    expect(reestimated.some((u, i) => u.some((v, j) => v !== fixed[i]![j]))).toBe(true);
    const net = createEncoderDecoder(tiny);
    await expect(
      trainOnDataset(net, train, { ...opts, colorModel: 'grabcut' as 'proposals' }),
    ).rejects.toThrow(
      "trainOnDataset: options.colorModel is \"grabcut\", expected 'scribbles' or 'proposals'",
    );
    net.dispose();
  });

  it('early stopping: stops after `patience` scores without a gain and keeps the best parameters', async () => {
    const scores = [0.1, 0.3, 0.2, 0.25, 0.9];
    const a = createEncoderDecoder(tiny);
    const opts = { ...run, steps: 10, method: 'adm' as const, pretrainSteps: 2 };
    let calls = 0;
    await expectNoLeaks(async () => {
      const r = await trainOnDataset(a, train, {
        ...opts,
        earlyStopping: { every: 2, patience: 2, score: () => scores[calls++]! },
      });
      // scored after steps 4, 6, 8 (not within the pre-training): 0.1, 0.3 (best), 0.2, 0.25 → stop at 10
      expect(r.scores).toEqual([
        { step: 4, score: 0.1 },
        { step: 6, score: 0.3 },
        { step: 8, score: 0.2 },
        { step: 10, score: 0.25 },
      ]);
      expect(r.best).toEqual({ step: 6, score: 0.3 });
      expect(r.steps).toBe(10);
    });
    // the parameters are those after step 6
    const b = createEncoderDecoder(tiny);
    await trainOnDataset(b, train, { ...opts, onStep: (i) => i.step < 6 });
    expectSameParams(a, b);
    const stopEarly = createEncoderDecoder(tiny);
    const r = await trainOnDataset(stopEarly, train, {
      ...opts,
      steps: 20,
      earlyStopping: { every: 2, patience: 1, score: () => 0.5 },
    });
    expect(r.steps).toBe(6);
    const bad = (earlyStopping: unknown) =>
      trainOnDataset(b, train, {
        ...opts,
        earlyStopping: earlyStopping as { every: number; score: () => number },
      });
    await expect(bad({ every: 0, score: () => 1 })).rejects.toThrow(
      'trainOnDataset: options.earlyStopping.every is 0, expected an integer ≥ 1',
    );
    await expect(bad({ every: 2 })).rejects.toThrow(
      'trainOnDataset: options.earlyStopping.score is undefined, expected a function',
    );
    await expect(bad({ every: 2, score: () => Number.NaN })).rejects.toThrow(
      'trainOnDataset: options.earlyStopping.score() returned NaN, expected a finite number',
    );
    for (const n of [a, b, stopEarly]) n.dispose();
  });

  it('scores unseen images and the training loss, without leaks', async () => {
    const net = createEncoderDecoder(tiny);
    await trainOnDataset(net, train, { ...run, method: 'full', steps: 6 });
    await expectNoLeaks(() => {
      const s = evaluateOnDataset(net, [disc(9), disc(10)], { shortSide: 16 });
      expect(s.names).toEqual(['disc9', 'disc10']);
      for (const v of [...s.network, ...s.graphCut, ...s.denseCrf]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      const l = datasetLoss(net, train, 5, 16);
      expect(Number.isFinite(l.mean)).toBe(true);
      expect(l.mean).toBeCloseTo(l.partialCE + 5 * l.potts, 10);
    });
    net.dispose();
  });
});
