// The experiments' shared settings: the tuning grid, what every network
// method shares, and ADM's headline setting.
import { join } from 'node:path';
import type { SegmentOptions } from '../src/index.js';

/** The command line: `flag('--quick')`, `opt('--workers', '2')`. */
export function cli(argv = process.argv.slice(2)) {
  const flag = (k: string) => argv.includes(k);
  const opt = (k: string, d: string) => {
    const i = argv.indexOf(k);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : d;
  };
  return { flag, opt };
}

/** GrabCut-50 of the project's `shared/` (`$SEG_SHARED`, or beside the clone). */
export const SHARED_GRABCUT = process.env.SEG_SHARED
  ? join(process.env.SEG_SHARED, 'data/grabcut')
  : new URL('../../../../shared/data/grabcut', import.meta.url).pathname;

// One setting per method for the whole set, each picked from the same small
// grid on a 10-image tuning subset (every 5th image), by the mean IoU over
// both scribble sets there, see the README:
// λ ∈ {0.5, 2, 5, 15} (per-pixel Potts weight at the training resolution),
// dense CRF λ ∈ {0.02, 0.2}; ADM also init ∈ {network, colour, both},
// proposals ∈ {train, full}, coordScale ∈ {0, 1}; every network method's input:
// seedDistance (geodesic distance to the scribbles, see networkInput) ∈
// {0, 1, 3} and colorModel (the scribbles' colour log-likelihoods) ∈ {0, 3, 10};
// and every network method's output: seedConnected (object regions without an
// object scribble dropped) and output (argmax, or one full-size Potts cut on the
// network's probabilities).
export const GRID = {
  lambda: [0.5, 2, 5, 15],
  lambdaDense: [0.02, 0.2],
  init: ['network', 'color', 'both'],
  coordScale: [0, 1],
  seedDistance: [0, 1, 3],
  colorModel: [0, 3, 10],
  proposals: ['train', 'full'],
  seedConnected: [false, true],
  output: ['network', 'proposal'],
};
export const COMMON: SegmentOptions = {
  maxSide: 120,
  iterations: 10,
  stepsPerIteration: 5,
  learningRate: 0.01,
  seed: 1,
  width: 16,
  coordScale: 0,
  seedDistance: 3,
  seedConnected: true,
  output: 'proposal',
};
export const ADM: SegmentOptions = {
  ...COMMON,
  method: 'adm',
  lambda: 5,
  mu: 1,
  init: 'color',
  proposals: 'full',
  colorModel: 10,
};
