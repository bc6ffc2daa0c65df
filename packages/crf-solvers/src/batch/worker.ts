/**
 * The worker module of {@link createSolverPool}: serves the solvers of this
 * package as pool tasks (typed arrays in, typed arrays transferred back).
 * Built as `dist/worker.js`; tests run the TypeScript source through
 * `tsWorker` of `@seg/tensor/testing`.
 */
import { SegShapeError } from '@seg/tensor/errors';
import { exposeTasks } from '@seg/tensor/worker';
import { alphaBetaSwap, alphaExpansion, binaryGraphCut } from '../alpha-expansion/moves.js';
import type { GridInstance } from '../io/formats.js';
import { GRID_DIRECTIONS, GridGraph, type MaxflowResult } from '../maxflow/grid-graph.js';

/** Solves a SEGGRID1-style instance on a {@link GridGraph}. */
function gridMaxflow(instance: GridInstance): MaxflowResult {
  const g = new GridGraph(instance);
  const nd = g.connectivity / 2;
  if (!Array.isArray(instance.edges) || instance.edges.length !== nd) {
    const e = instance.edges;
    const got = Array.isArray(e) ? `${e.length} arrays` : String(e);
    throw new SegShapeError(
      `gridMaxflow: edges has ${got}, expected ${nd} (one per forward direction of connectivity ${g.connectivity})`,
    );
  }
  g.setTerminals(instance.source, instance.sink);
  instance.edges.forEach((e, k) => {
    g.setEdges(GRID_DIRECTIONS[k]!, e);
  });
  return g.maxflow();
}

void exposeTasks({ alphaExpansion, alphaBetaSwap, binaryGraphCut, gridMaxflow });
