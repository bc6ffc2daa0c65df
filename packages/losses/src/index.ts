// @seg/losses: regularized losses of weakly supervised segmentation.

export { GRID_STEPS } from '@seg/crf-solvers';
export { partialCrossEntropy } from './cross-entropy/partial-cross-entropy.js';
export type { ProposalLossOptions } from './cross-entropy/proposal-losses.js';
export { proposalCrossEntropy, proposalKlDivergence } from './cross-entropy/proposal-losses.js';
export type { AffinityMethod } from './dense-crf/affinity.js';
export { EXACT_MAX_PIXELS } from './dense-crf/affinity.js';
export type { DenseBackward, DenseLossOptions } from './dense-crf/dense-losses.js';
export { denseCrfLoss, normalizedCutLoss } from './dense-crf/dense-losses.js';
export type { DenseKernelOptions } from './dense-crf/kernel.js';
export { DenseCrfKernel, denseCrfKernel } from './dense-crf/kernel.js';
export type { GridCrfLossOptions, GridRelaxation } from './grid-crf/grid-crf-loss.js';
export { gridCrfLoss } from './grid-crf/grid-crf-loss.js';
export type {
  Connectivity,
  GridWeights,
  GridWeightsOptions,
  ImageLike,
} from './grid-crf/grid-weights.js';
export { GRID_DIRECTIONS, gridWeights, pottsEnergy } from './grid-crf/grid-weights.js';
export type { LinearClassifier } from './margin/check.js';
export type {
  LargeMarginOptions,
  LargeMarginTerms,
  MarginAggregation,
} from './margin/large-margin.js';
export { largeMarginLoss, largeMarginTerms } from './margin/large-margin.js';
export type { MarginMetrics } from './margin/metrics.js';
export { marginMetrics } from './margin/metrics.js';
export type { MarginState, MarginStateOptions } from './margin/state.js';
export { initMarginState, updateMarginState } from './margin/state.js';
export type {
  CandidateDecoding,
  CandidateOptions,
  GradientDecoding,
  GradientDecodingOptions,
  RelaxedProblem,
} from './structured/decode.js';
export { decodeCandidates, decodeGradient, projectSimplex } from './structured/decode.js';
export type {
  ContrastiveOptions,
  StructuredEncoder,
  TrainingReport,
} from './structured/embedding.js';
export { embedOutputs, trainOutputEmbedding } from './structured/embedding.js';
export type { NtXentOptions } from './structured/nt-xent.js';
export { learnedLoss, ntXentLoss, unitRows } from './structured/nt-xent.js';
export type { SurrogateOptions } from './structured/surrogate.js';
export { fitSurrogate } from './structured/surrogate.js';
export type { Reduction, ReductionOptions } from './validate.js';
export { SIMPLEX_TOLERANCE } from './validate.js';
