// @seg/optim-adm: ADM (Marin et al., CVPR 2019) and gradient-descent trainers
// for segmentation from scribbles, the classic interactive graph cut,
// metrics, and one-call interactive segmentation.

export type { Batch, BatchOptions, CropWindow, DatasetExample } from './dataset/data.js';
export { cropLabels, networkSize, resizeExample, sampleBatch, splitNames } from './dataset/data.js';
export type { DatasetScores, EvaluateOptions } from './dataset/evaluate.js';
export { datasetLoss, evaluateOnDataset, predictExample } from './dataset/evaluate.js';
export type { EncoderDecoder, EncoderDecoderOptions } from './dataset/network.js';
export { createEncoderDecoder, datasetInput, NET_STRIDE } from './dataset/network.js';
export type {
  DatasetCheckpoint,
  DatasetEarlyStopping,
  DatasetMethod,
  DatasetStepInfo,
  DatasetTrainOptions,
  DatasetTrainResult,
} from './dataset/trainer.js';
export { DATASET_METHODS, trainOnDataset } from './dataset/trainer.js';
export type { InteractiveGraphCutOptions } from './graphcut/interactive.js';
export {
  colorCosts,
  colourCosts,
  colourLikelihoods,
  interactiveGraphCut,
} from './graphcut/interactive.js';
export {
  DEFAULT_SEGMENT_MAX_BYTES,
  estimateSegmentBytes,
  MemoryBudgetError,
  memoryBudgetText,
  SEGMENT_BASE_BYTES,
  SEGMENT_BYTES_PER_PIXEL,
} from './memory.js';
export type { GrayMask } from './metrics/iou.js';
export { meanIoU, objectIoU } from './metrics/iou.js';
export type { RegularizedLoss, RegularizedLossOptions } from './metrics/regularized-loss.js';
export { regularizedLoss } from './metrics/regularized-loss.js';
export type { NetworkInputOptions, PixelNetOptions, SegNet } from './net/network.js';
export {
  createPixelNet,
  inputChannels,
  networkInput,
  pixelNetSpec,
  segNetFromModel,
} from './net/network.js';
export { downscaleImage, downscaleSeeds, reducedSize, upscaleProbs } from './net/resample.js';
export { geodesicSeedDistances } from './net/seed-distance.js';
export { keepSeedConnected } from './proposals/connectivity.js';
export { DEFAULT_KEEP_BYTES, keptCutBytes } from './proposals/kept-cuts.js';
export type { LegacyPottsProblem, PottsProblem } from './proposals/potts-problem.js';
export { HARD, MAX_POTTS_WEIGHT, pottsProblemEnergy } from './proposals/potts-problem.js';
export type {
  InlineSolverOptions,
  ProposalProblemOptions,
  ProposalSolver,
} from './proposals/y-step.js';
export {
  fullSizeWeight,
  inlineSolver,
  poolSolver,
  proposalEnergy,
  proposalProblem,
  solvePotts,
} from './proposals/y-step.js';
export type {
  NetworkMethodDefaults,
  SegmentMethod,
  SegmentOptions,
  SegmentResult,
} from './segment.js';
export { SEGMENT_DEFAULTS, seedsFromScribbles, segmentImage } from './segment.js';
export type { AdmIterationInfo, AdmOptions, AdmResult } from './train/adm.js';
export { trainAdm } from './train/adm.js';
export type {
  CheckpointOptions,
  EarlyStopping,
  Timings,
  TrainerBaseOptions,
  TrainerCheckpoint,
  TrainingExample,
} from './train/common.js';
export type { GdIterationInfo, GdOptions, GdResult } from './train/gd.js';
export { trainGradientDescent } from './train/gd.js';
export type { ScribbleMarginOptions } from './train/margin.js';
export type { ScribbleMap } from './validate.js';
export { SCRIBBLE_FORMAT } from './validate.js';
