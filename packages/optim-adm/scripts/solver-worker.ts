// The @seg/crf-solvers pool tasks the Y-step uses, for running the pool from
// TypeScript sources (experiment, benchmark, tests); the built package's own
// worker serves the same tasks.
import { alphaExpansion, GRID_DIRECTIONS, GridGraph, type GridInstance } from '@seg/crf-solvers';
import { exposeTasks } from '@seg/tensor/worker';

function gridMaxflow(instance: GridInstance) {
  const g = new GridGraph(instance);
  g.setTerminals(instance.source, instance.sink);
  instance.edges.forEach((e, k) => {
    g.setEdges(GRID_DIRECTIONS[k]!, e);
  });
  return g.maxflow();
}

void exposeTasks({ gridMaxflow, alphaExpansion });
