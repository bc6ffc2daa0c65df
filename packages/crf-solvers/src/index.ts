// @seg/crf-solvers: max-flow, α-expansion / αβ-swap, binary graph cut, dense CRF.
export { GridGraph, GRID_DIRECTIONS } from './maxflow/grid-graph.js';
export type {
  Capacities,
  GridDirection,
  GridGraphOptions,
  MaxflowOptions,
  MaxflowResult,
} from './maxflow/grid-graph.js';
export { Graph } from './maxflow/graph.js';
export type { GraphOptions } from './maxflow/graph.js';
export {
  readGridInstance,
  readPottsInstance,
  writeGridInstance,
  writePottsInstance,
} from './io/formats.js';
export type { GridInstance, PottsInstance } from './io/formats.js';
