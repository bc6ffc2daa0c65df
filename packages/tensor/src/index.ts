// @seg/tensor: the shared tensor interface of @seg.
export { initBackend } from './backend.js';
export type { BackendName, BackendReport, InitBackendOptions } from './backend.js';
export { conv2dGradConfig } from './gradients/conv2d-grad.js';
export {
  SegRangeError,
  SegShapeError,
  SegValueError,
  assertFinite,
  assertInt,
  assertIntRange,
  assertLength,
  assertNonNegative,
  assertNumber,
  assertShape,
  formatShape,
} from './errors.js';
export { Rng } from './rng.js';
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
export type { LabelMap, ProbMap, RgbImage } from './containers/containers.js';
export { WorkerPool, WorkerTaskError } from './pool/pool.js';
export type { RunOptions, WorkerPoolOptions } from './pool/pool.js';
