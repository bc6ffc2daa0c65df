/**
 * The full-size min cuts of {@link segmentImage} (the classic graph cut and
 * the clean-up Y-step of `output: 'proposal'`), built so that no more is
 * alive at once than the solver needs. The same cut as `solvePotts` on the
 * same problem, bit for bit; only the lifetimes differ:
 * - the problem (its float32 unary and Potts weights, 24 bytes a pixel
 *   8-connected) is dropped once its grid instance is built, before the
 *   graph is allocated;
 * - the instance (float64 terminals and edges, 48 bytes a pixel) is dropped
 *   once the graph holds its capacities, before the cut is read;
 * - the contrast weights are scaled into Potts weights in place (the graph
 *   cut) or dropped once the problem has its own (the clean-up).
 */
import { gridWeights } from '@seg/losses';
import type { LabelMap, RgbImage } from '@seg/tensor';
import { histogramCosts } from './net/colour-histogram.js';
import { binaryInstance, cutLabels, type PottsProblem } from './proposals/potts-problem.js';
import { GridGraph } from './proposals/solvers.js';
import { proposalProblem } from './proposals/y-step.js';

const DIRS = ['right', 'down', 'downRight', 'downLeft'] as const;

/**
 * The exact minimiser of the two-label problem `build()` makes, by one min
 * cut on a grid graph, seeds hard (as `solvePotts`). `build` is called once;
 * nothing else may hold the problem, so that it can be freed before the
 * graph is allocated.
 */
export function cutBuilt(build: () => PottsProblem): Int32Array {
  let problem: PottsProblem | undefined = build();
  const seeds = problem.seeds;
  let inst: ReturnType<typeof binaryInstance> | undefined = binaryInstance(problem);
  problem = undefined;
  const g = new GridGraph({
    width: inst.width,
    height: inst.height,
    connectivity: inst.connectivity,
  });
  g.setTerminals(inst.source, inst.sink);
  inst.edges.forEach((w, d) => {
    g.setEdges(DIRS[d]!, w);
  });
  inst = undefined;
  return cutLabels(g.maxflow().labels, seeds);
}

/**
 * The classic graph cut of `interactiveGraphCut` (inputs checked by it):
 * 16³-bin colour costs of the seeds, contrast weights × λ (scaled in place),
 * hard seeds, one min cut.
 */
export function classicCut(
  image: RgbImage,
  seeds: LabelMap,
  lambda: number,
  connectivity: 4 | 8,
): Int32Array {
  return cutBuilt(() => {
    const unary = histogramCosts(image, seeds, 2);
    const { edges } = gridWeights(image, { connectivity });
    for (const w of edges) for (let i = 0; i < w.length; i++) w[i] = lambda * w[i]!;
    return {
      width: image.width,
      height: image.height,
      numLabels: 2,
      unary,
      weights: [...edges],
      seeds: seeds.data,
    };
  });
}

/**
 * The problem of the clean-up Y-step of `segmentImage` (`output: 'proposal'`):
 * unary −log S of the full-size probabilities `probs` (N·2), contrast
 * weights of `image` × `pottsWeight`, hard seeds. ADM's Y-steps at full size
 * have the same weights and seeds, so a solver that keeps their graph
 * (`inlineSolver`) re-solves it from the last flow.
 */
export function cleanUpProblem(
  image: RgbImage,
  seeds: LabelMap,
  probs: Float32Array,
  pottsWeight: number,
  connectivity: 4 | 8,
): PottsProblem {
  const { edges } = gridWeights(image, { connectivity });
  return proposalProblem(probs, image.width, image.height, 2, edges, seeds.data, {
    pottsWeight,
  });
}

/** The clean-up Y-step ({@link cleanUpProblem}) by one min cut, its problem freed before the graph is built. */
export function cleanUpCut(
  image: RgbImage,
  seeds: LabelMap,
  probs: Float32Array,
  pottsWeight: number,
  connectivity: 4 | 8,
): Int32Array {
  return cutBuilt(() => cleanUpProblem(image, seeds, probs, pottsWeight, connectivity));
}
