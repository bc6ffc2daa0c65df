// @seg/tensor: the shared tensor interface of @seg.

export type { BackendName, BackendReport, InitBackendOptions } from './backend.js';
export { initBackend, kernelHelpers } from './backend.js';
export type { LabelMap, ProbMap, RgbImage } from './containers/containers.js';
export {
  argmaxLabels,
  imageToTensor,
  labelMap,
  labelMapFromCodes,
  labelsToTensor,
  probMap,
  probsToTensor,
  rgbImage,
  tensorToImage,
  tensorToLabels,
  tensorToProbs,
} from './containers/containers.js';
export {
  assertFinite,
  assertInt,
  assertIntRange,
  assertLength,
  assertLiveTensor,
  assertNonNegative,
  assertNumber,
  assertObject,
  assertShape,
  formatShape,
  optionsObject,
  SegRangeError,
  SegShapeError,
  SegValueError,
} from './errors.js';
export { conv2dGradConfig } from './gradients/conv2d-grad.js';
export type { FusedConv2dArgs } from './ops/conv2d.js';
export { fusedConv2d } from './ops/conv2d.js';
export { type FusedMatMulArgs, fusedMatMul, matMul } from './ops/mat-mul.js';
export { SegAdam, segAdam } from './optim/adam.js';
export type { NamedTensor } from './optim/gradients.js';
export { SegSgd, segSgd } from './optim/sgd.js';
export type { RunOptions, WorkerPoolOptions } from './pool/pool.js';
export { WorkerCrashError, WorkerPool, WorkerTaskError, WorkerTimeoutError } from './pool/pool.js';
export { Rng } from './rng.js';
