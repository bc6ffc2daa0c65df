// npm install @seg/crf-solvers, then: node install-one-package.mjs
import { GridGraph } from '@seg/crf-solvers';

// A 6×3 image: the left part looks like the object, the rest like the background, two pixels are noisy.
const width = 6,
  height = 3,
  looksLikeObject = [1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1, 0];
const g = new GridGraph({ width, height, connectivity: 4 });
g.setTerminals(
  Float32Array.from(looksLikeObject, (o) => (o ? 4 : 0)), // cost of labelling p background
  Float32Array.from(looksLikeObject, (o) => (o ? 0 : 4)), // cost of labelling p object
);
for (const dir of ['right', 'down']) g.setEdges(dir, new Float32Array(width * height).fill(2.5));
const { flow, labels } = g.maxflow(); // labels: 1 = source side (object)
for (let y = 0; y < height; y++) console.log(labels.slice(y * width, (y + 1) * width).join(' '));
console.log(`min cut ${flow}`);
