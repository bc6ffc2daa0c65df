// @seg/crf-solvers: max-flow, α-expansion / αβ-swap, binary graph cut, dense CRF.

export type { BinaryCutOptions } from './alpha-expansion/moves.js';
export { alphaBetaSwap, alphaExpansion, binaryGraphCut } from './alpha-expansion/moves.js';
export type {
  Costs,
  GraphEnergy,
  GraphProblem,
  GridEnergy,
  GridProblem,
  LabelingProblem,
  LabelingResult,
  MoveOptions,
} from './alpha-expansion/problem.js';
export { computeEnergy } from './alpha-expansion/problem.js';
export type { FloatArray } from './arrays.js';
export type { SolveCallOptions, SolverPool, SolverPoolOptions } from './batch/pool.js';
export { createSolverPool } from './batch/pool.js';
export { GRAPH_CUT_MAX_BYTES } from './bounds.js';
// Dense CRF: permutohedral-lattice Gaussian filtering and mean-field inference.
export type { BilateralFeatureOptions } from './dense-crf/features.js';
export { bilateralFeatures, MAX_FEATURE, spatialFeatures } from './dense-crf/features.js';
export { bilateralFilter, exactGaussianFilter } from './dense-crf/filter.js';
export type {
  FilterOptions,
  LatticeOptions,
  QuadraticGradientOptions,
} from './dense-crf/lattice.js';
export { LATTICE_MAX_BYTES, LatticeForms, PermutohedralLattice } from './dense-crf/lattice.js';
export type {
  Compatibility,
  DenseCrfInput,
  DenseCrfMeanFieldOptions,
  DenseCrfOptions,
  DenseCrfRunOptions,
  KernelNormalization,
  PairwiseBilateralOptions,
  PairwiseGaussianOptions,
  PairwiseOptions,
} from './dense-crf/mean-field.js';
export { argmaxRows, DenseCrf, denseCrf, denseCrfMeanField } from './dense-crf/mean-field.js';
export type { GridInstance, PottsInstance } from './io/formats.js';
export {
  readGridInstance,
  readPottsInstance,
  writeGridInstance,
  writePottsInstance,
} from './io/formats.js';
export type { GridDirection, GridStep } from './maxflow/directions.js';
export { GRID_DIRECTION_NAMES, GRID_DIRECTIONS, GRID_STEPS } from './maxflow/directions.js';
export type { GraphOptions } from './maxflow/graph.js';
export { Graph } from './maxflow/graph.js';
export type {
  Capacities,
  GridGraphOptions,
  MaxflowOptions,
  MaxflowResult,
} from './maxflow/grid-graph.js';
export { GridGraph, gridGraphBytes } from './maxflow/grid-graph.js';
