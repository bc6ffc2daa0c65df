import { conv2d, createModel, defineNet } from '@seg/dense-conv';
import { labelMap, rgbImage, SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import { describeBackends, expectThrow } from '@seg/tensor/testing';
import { describe, expect, it } from 'vitest';
import { colorCosts, colourCosts, colourLikelihoods } from '../graphcut/interactive.js';
import { regularizedLoss } from '../metrics/regularized-loss.js';
import { createPixelNet, inputChannels, networkInput, segNetFromModel } from '../net/network.js';
import { downscaleImage, downscaleSeeds, reducedSize, upscaleProbs } from '../net/resample.js';
import { geodesicSeedDistances } from '../net/seed-distance.js';
import { keepSeedConnected } from '../proposals/connectivity.js';
import { pottsProblemEnergy } from '../proposals/potts-problem.js';
import {
  fullSizeWeight,
  poolSolver,
  proposalEnergy,
  proposalProblem,
  solvePotts,
} from '../proposals/y-step.js';
import { segmentImage } from '../segment.js';
import { trainAdm } from '../train/adm.js';
import { trainGradientDescent } from '../train/gd.js';

/** Asserts that `p` rejects with exactly `cls` and `message`. */
async function expectReject(
  p: Promise<unknown>,
  cls: new (m: string) => Error,
  message: string,
): Promise<void> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(cls);
  expect((error as Error).message).toBe(message);
}

// a 12×10 image, one object and two background seeds
const [W, H] = [12, 10];
const image = rgbImage(
  W,
  H,
  Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 37) % 256),
);
const seedData = new Int32Array(W * H).fill(-1);
seedData[0] = 0;
seedData[W * H - 1] = 0;
seedData[5 * W + 6] = 1;
const seeds = labelMap(W, H, seedData);
const shortImage = { width: W, height: H, data: new Uint8Array(5) } as never;
const probs = (data: Float32Array, numLabels = 2) => ({ width: W, height: H, numLabels, data });
const edges2 = () => [new Float32Array(4), new Float32Array(4)];

describe('bad input: metrics, colour model, resampling, proposals', () => {
  it('regularizedLoss checks the probabilities and the image', () => {
    expectThrow(
      () => regularizedLoss(probs(new Float32Array(10)), seeds, image),
      SegShapeError,
      'regularizedLoss: probs.data has length 10, expected width*height*numLabels = 240',
    );
    expectThrow(
      () => regularizedLoss(probs(new Float32Array(W * H * 2).fill(Number.NaN)), seeds, image),
      SegValueError,
      'regularizedLoss: probs.data[0] is NaN, expected a finite number ≥ 0',
    );
    expectThrow(
      () => regularizedLoss(probs(new Float32Array(W * H).fill(1), 1), seeds, image),
      SegRangeError,
      'regularizedLoss: probs.numLabels is 1, expected an integer ≥ 2',
    );
    expectThrow(
      () => regularizedLoss(null as never, seeds, image),
      SegValueError,
      'regularizedLoss: probs is not a ProbMap (data must be a Float32Array)',
    );
    expectThrow(
      () => regularizedLoss(probs(new Float32Array(W * H * 2).fill(0.5)), seeds, shortImage),
      SegShapeError,
      'regularizedLoss: image.data has length 5, expected width*height*3 = 360',
    );
    expectThrow(
      () =>
        regularizedLoss(probs(new Float32Array(W * H * 2).fill(0.5)), seeds, image, {
          connectivity: 6 as 4,
        }),
      SegValueError,
      'regularizedLoss: options.connectivity is 6, expected 4 or 8',
    );
  });

  it('colorCosts (and its deprecated aliases), networkInput and geodesicSeedDistances check image and seeds', () => {
    expectThrow(
      () => colorCosts(image, labelMap(3, 3, new Int32Array(9)), 2),
      SegShapeError,
      "colorCosts: seeds are 3×3, expected the image's 12×10",
    );
    expectThrow(
      () => colourCosts(image, seeds, 2.5),
      SegRangeError,
      'colorCosts: K is 2.5, expected an integer ≥ 1',
    );
    expectThrow(
      () => colourLikelihoods(shortImage, seeds),
      SegShapeError,
      'colorCosts: image.data has length 5, expected width*height*3 = 360',
    );
    expectThrow(
      () => networkInput(shortImage),
      SegShapeError,
      'networkInput: image.data has length 5, expected width*height*3 = 360',
    );
    expectThrow(
      () => networkInput(image, { seeds: labelMap(W, H, new Int32Array(W * H).fill(9)) }),
      SegRangeError,
      'networkInput: options.seeds.data[0] is 9, expected an integer in [-1, 1]',
    );
    expectThrow(
      () => geodesicSeedDistances(shortImage, seeds, 2, 1),
      SegShapeError,
      'geodesicSeedDistances: image.data has length 5, expected width*height*3 = 360',
    );
    expectThrow(
      () => inputChannels(1.5),
      SegRangeError,
      'inputChannels: numClasses is 1.5, expected an integer ≥ 2',
    );
  });

  it('the resampling functions check sizes and never enlarge', () => {
    expectThrow(
      () => reducedSize(W, H, Number.NaN),
      SegValueError,
      'reducedSize: maxSide is NaN, expected a finite number ≥ 1',
    );
    expectThrow(
      () => reducedSize(0, H, 8),
      SegRangeError,
      'reducedSize: width is 0, expected an integer ≥ 1',
    );
    expectThrow(
      () => downscaleImage(image, 20, 20),
      SegShapeError,
      "downscaleImage: target size is 20×20, expected at most the input's 12×10 (it only reduces)",
    );
    expectThrow(
      () => downscaleSeeds(seeds, 20, 5, 2),
      SegShapeError,
      "downscaleSeeds: target size is 20×5, expected at most the input's 12×10 (it only reduces)",
    );
    expectThrow(
      () => downscaleSeeds(seeds, 6, 5, 1),
      SegRangeError,
      'downscaleSeeds: seeds.data[66] is 1, expected -1 (unlabelled) or a label in [0, 0]',
    );
    const p = { width: 2, height: 2, numLabels: 2, data: new Float32Array(8) };
    expectThrow(
      () => upscaleProbs({ ...p, data: new Float32Array(3) }, 4, 4),
      SegShapeError,
      'upscaleProbs: probs.data has length 3, expected width*height*numLabels = 8',
    );
    expectThrow(
      () => upscaleProbs(p, 2.5, 4),
      SegRangeError,
      'upscaleProbs: W is 2.5, expected an integer ≥ 1',
    );
  });

  it('the Potts problem functions check sizes, labels and weights', () => {
    const base = { width: 2, height: 2, numLabels: 2, unary: new Float32Array(8), potts: edges2() };
    expectThrow(
      () => solvePotts({ ...base, unary: new Float32Array(3) }),
      SegShapeError,
      'solvePotts: problem.unary has length 3, expected width*height*numLabels = 8',
    );
    expectThrow(
      () => solvePotts({ ...base, unary: new Float32Array(8).fill(Number.NaN) }),
      SegValueError,
      'solvePotts: problem.unary[0] is NaN, expected a finite number',
    );
    expectThrow(
      () => solvePotts({ ...base, seeds: new Int32Array(4).fill(7) }),
      SegRangeError,
      'solvePotts: problem.seeds[0] is 7, expected an integer in [-1, 1]',
    );
    expectThrow(
      () => solvePotts({ ...base, potts: [...edges2(), new Float32Array(4)] }),
      SegShapeError,
      'solvePotts: problem.potts has 3 arrays, expected 2 (4-connected) or 4 (8-connected)',
    );
    expectThrow(
      () => pottsProblemEnergy(base, new Int32Array(4).fill(5)),
      SegRangeError,
      'pottsProblemEnergy: labels[0] is 5, expected an integer in [0, 1]',
    );
    expectThrow(
      () => proposalEnergy(base, new Int32Array(1)),
      SegShapeError,
      'proposalEnergy: labels has length 1, expected width*height = 4',
    );
    const half = new Float32Array(8).fill(0.5);
    const none = new Int32Array(4).fill(-1);
    expectThrow(
      () => proposalProblem(new Float32Array(3), 2, 2, 2, edges2(), none, { pottsWeight: 1 }),
      SegShapeError,
      'proposalProblem: probs has length 3, expected width*height*numLabels = 8',
    );
    expectThrow(
      () => proposalProblem(half, 2, 2, 2, edges2(), none, { pottsWeight: Number.NaN }),
      SegValueError,
      'proposalProblem: options.pottsWeight is NaN, expected a finite number ≥ 0 and ≤ 1e+30',
    );
    expectThrow(
      () =>
        proposalProblem(half, 2, 2, 2, edges2(), none, { pottsWeight: 1, seeds: 'sof' as 'soft' }),
      SegValueError,
      `proposalProblem: options.seeds is "sof", expected 'hard' or 'soft'`,
    );
    expectThrow(
      () => proposalProblem(half, 2, 2, 2, edges2(), new Int32Array(1), { pottsWeight: 1 }),
      SegShapeError,
      'proposalProblem: seeds has length 1, expected width*height = 4',
    );
    expectThrow(
      () =>
        proposalProblem(half, 2, 2, 2, [new Float32Array(1), new Float32Array(4)], none, {
          pottsWeight: 1,
        }),
      SegShapeError,
      'proposalProblem: weights[0] has length 1, expected width*height = 4',
    );
    expectThrow(
      () => fullSizeWeight(Number.NaN, 10, 5),
      SegValueError,
      'fullSizeWeight: lambda is NaN, expected a finite number ≥ 0',
    );
    expectThrow(
      () => poolSolver(null as never),
      SegValueError,
      'poolSolver: pool is null, expected a SolverPool (createSolverPool)',
    );
    expectThrow(
      () => keepSeedConnected(new Int32Array(4), 2, 2, new Int32Array(4), 1 as never),
      SegValueError,
      'keepSeedConnected: constrained is number, expected an array of labels',
    );
  });
});

describeBackends('bad input: networks, trainers, segmentImage', () => {
  const ex = { image, seeds };
  const small = { iterations: 1, stepsPerIteration: 1 };

  it('segNetFromModel and the trainers check the network', async () => {
    const spec = defineNet({
      inChannels: 5,
      layers: [conv2d({ name: 'classify', outChannels: 2, filterSize: 1 })],
    });
    const model = createModel(spec, 1);
    expectThrow(
      () => segNetFromModel(model, 'sparse' as 'dense'),
      SegValueError,
      `segNetFromModel: mode is "sparse", expected 'apply' or 'dense'`,
    );
    expectThrow(
      () => segNetFromModel(null as never),
      SegValueError,
      'segNetFromModel: model is null, expected a @seg/dense-conv Model (createModel)',
    );
    await expectReject(
      trainAdm(segNetFromModel(model), ex, small),
      SegShapeError,
      "trainAdm: net's network takes 5 input channels, expected inputChannels(2) = 9 (see networkInput)",
    );
    model.dispose();
    await expectReject(
      trainGradientDescent(null as never, ex, small),
      SegValueError,
      'trainGradientDescent: net is null, expected a SegNet (createPixelNet or segNetFromModel)',
    );
    const gone = createPixelNet({ width: 2 });
    gone.dispose();
    await expectReject(
      trainAdm(gone, ex, small),
      SegValueError,
      "trainAdm: net's parameter 'conv1/filter' is disposed",
    );
  });

  it('the trainers check their options before training', async () => {
    const net = createPixelNet({ width: 2 });
    await expectReject(
      trainAdm(net, ex, { ...small, pretrainSteps: 1.5 }),
      SegRangeError,
      'trainAdm: options.pretrainSteps is 1.5, expected an integer ≥ 0',
    );
    await expectReject(
      trainAdm(net, ex, { ...small, solver: {} as never }),
      SegValueError,
      'trainAdm: options.solver has no solve(problems), expected a ProposalSolver (inlineSolver or poolSolver)',
    );
    await expectReject(
      trainAdm(net, ex, { ...small, checkpoint: { every: 0, save: () => {} } }),
      SegRangeError,
      'trainAdm: options.checkpoint.every is 0, expected an integer ≥ 1',
    );
    await expectReject(
      trainAdm(net, ex, { ...small, checkpoint: {} as never }),
      SegValueError,
      'trainAdm: options.checkpoint.save is undefined, expected a function',
    );
    await expectReject(
      trainGradientDescent(net, ex, { ...small, onIteration: 'log' as never }),
      SegValueError,
      'trainGradientDescent: options.onIteration is string, expected a function',
    );
    await expectReject(
      trainGradientDescent(net, ex, { ...small, lossLambda: Number.NaN }),
      SegValueError,
      'trainGradientDescent: options.lossLambda is NaN, expected a finite number ≥ 0',
    );
    await expectReject(
      trainAdm(net, ex, null as never),
      SegValueError,
      'trainAdm: options is null, expected an object',
    );
    await expectReject(
      trainAdm(net, null as never, small),
      SegValueError,
      'trainAdm: examples is null, expected { image, seeds }',
    );
    net.dispose();
  });

  it('segmentImage checks its options before training', async () => {
    await expectReject(
      segmentImage(image, seeds, { method: 'gd-grid', fullLambda: Number.NaN }),
      SegValueError,
      'segmentImage: options.fullLambda is NaN, expected a finite number ≥ 0 and ≤ 1e+30',
    );
    await expectReject(
      segmentImage(image, seeds, { onProgress: 'log' as never }),
      SegValueError,
      'segmentImage: options.onProgress is string, expected a function',
    );
    await expectReject(
      segmentImage(image, seeds, { maxSide: 12, initialParams: null as never }),
      SegValueError,
      'segmentImage: options.initialParams is null, expected a record of tensors by parameter name',
    );
    await expectReject(
      segmentImage(image, seeds, null as never),
      SegValueError,
      'segmentImage: options is null, expected an object',
    );
  });
});
