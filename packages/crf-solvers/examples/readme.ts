// examples/readme.ts, run from the repository root by src/__tests__/readme.test.ts
import { alphaExpansion, binaryGraphCut, GridGraph } from '@seg/crf-solvers';
import { Rng } from '@seg/tensor';
import { readGray } from '@seg/tensor/node';

// A ground-truth mask with 20% of its pixels flipped, denoised by a min cut.
const mask = readGray('samples/grabcut/masks/teddy.png'); // 0 background, 255 object
const { width, height } = mask;
const rng = new Rng(1);
const truth = Int32Array.from(mask.data, (v) => +(v === 255));
const noisy = truth.map((l) => (rng.uniform() < 0.2 ? 1 - l : l));
const errors = (labels: ArrayLike<number>) => truth.filter((l, p) => l !== labels[p]).length;

const g = new GridGraph({ width, height, connectivity: 4 });
const source = Float32Array.from(noisy, (l) => 2 * l); // paid by a node that ends on the sink side
const sink = Float32Array.from(noisy, (l) => 2 - 2 * l); // paid on the source side (label 1)
g.setTerminals(source, sink);
const ones = new Float32Array(width * height).fill(1);
g.setEdges('right', ones); // one array per direction: right, down (and downRight, downLeft at 8)
g.setEdges('down', ones);
const { flow, labels } = g.maxflow(); // labels: Uint8Array, 1 = source side
console.log(`errors: noisy ${errors(noisy)}, min cut ${errors(labels)}; flow ${flow}`);

// The same energy as a labeling problem: unary[p·K + k] is the cost of label k at p.
const unary = new Float32Array(2 * noisy.length);
for (let p = 0; p < noisy.length; p++) unary[2 * p + 1 - noisy[p]!] = 2; // the other label: 2
const problem = { width, height, numLabels: 2, unary, weights: [ones, ones] };
const exact = binaryGraphCut(problem); // K = 2: exact
const moves = alphaExpansion(problem, { maxCycles: 5 }); // any K (createSolverPool: on workers)
console.log(`energy: binary cut ${exact.energy}, α-expansion ${moves.energy}`);
