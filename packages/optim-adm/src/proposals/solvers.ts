/** The one place this package reaches into @seg/crf-solvers. */

export type { SolverPool } from '@seg/crf-solvers';
export { alphaExpansion, createSolverPool, GridGraph } from '@seg/crf-solvers';
