/**
 * The worker module of {@link createSolverPool}: serves the solvers of this
 * package as pool tasks (typed arrays in, typed arrays transferred back).
 * Built as `dist/worker.js`; tests run the TypeScript source through
 * `tsWorker` of `@seg/tensor/testing`.
 */
import { exposeTasks } from '@seg/tensor/worker';
import { alphaBetaSwap, alphaExpansion, binaryGraphCut } from '../alpha-expansion/moves.js';
import { checkPerDirection, type GridInstance } from '../io/formats.js';
import { GRID_DIRECTION_NAMES } from '../maxflow/directions.js';
import { GridGraph, type MaxflowResult } from '../maxflow/grid-graph.js';

/** Solves a SEGGRID1-style instance on a {@link GridGraph}. */
function gridMaxflow(instance: GridInstance): MaxflowResult {
  const g = new GridGraph(instance);
  checkPerDirection('gridMaxflow', g.connectivity, 'edges', instance.edges);
  g.setTerminals(instance.source, instance.sink);
  instance.edges.forEach((e, k) => {
    g.setEdges(GRID_DIRECTION_NAMES[k]!, e);
  });
  return g.maxflow();
}

void exposeTasks({ alphaExpansion, alphaBetaSwap, binaryGraphCut, gridMaxflow });
