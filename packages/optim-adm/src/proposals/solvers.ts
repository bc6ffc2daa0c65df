/** The one place this package reaches into @seg/crf-solvers. */

export type { BinaryCutOptions, GridInstance, GridProblem, SolverPool } from '@seg/crf-solvers';
export {
  alphaExpansion,
  binaryGraphCut,
  createSolverPool,
  GRID_DIRECTION_NAMES,
  GRID_STEPS,
  GridGraph,
  gridGraphBytes,
} from '@seg/crf-solvers';
