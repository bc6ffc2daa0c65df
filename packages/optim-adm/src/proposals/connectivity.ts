/**
 * The seed-connectivity prior of interactive segmentation: a region of a
 * label must hold one of that label's scribbles. A min cut can return
 * far-away islands of the object label wherever the unary happens to favour
 * it (an unscribbled background colour the network extrapolates to
 * "object"); the user who drew one stroke per object meant none of them.
 * Exact segmentation under connectivity constraints is NP-hard (Vicente,
 * Kolmogorov, Rother, CVPR 2008); dropping the unseeded regions after the
 * cut is the usual cheap approximation.
 */
import { assertInt, SegShapeError, SegValueError } from '@seg/tensor';

/**
 * Labels after removing every 8-connected region of a label in `labels`
 * that holds no seed of that label: each such region takes the label it
 * shares the longest border with (its 4-neighbours outside it). Regions are
 * found on the input labeling, so the result does not depend on the order
 * of `constrained`. A region with no neighbour outside it (the whole image)
 * is kept.
 *
 * @param labels per pixel, row-major, in 0..K−1.
 * @param seeds per pixel: a label, or −1 for none.
 * @param constrained the labels whose regions must hold one of their seeds.
 */
export function keepSeedConnected(
  labels: Int32Array,
  width: number,
  height: number,
  seeds: Int32Array,
  constrained: readonly number[],
): Int32Array {
  const fn = 'keepSeedConnected';
  assertInt(fn, 'width', width, 1);
  assertInt(fn, 'height', height, 1);
  const N = width * height;
  if (labels.length !== N || seeds.length !== N) {
    throw new SegShapeError(
      `${fn}: labels has length ${labels.length} and seeds ${seeds.length}, expected width*height = ${N}`,
    );
  }
  if (!Array.isArray(constrained)) {
    throw new SegValueError(
      `${fn}: constrained is ${typeof constrained}, expected an array of labels`,
    );
  }
  for (const k of constrained) {
    if (!Number.isInteger(k) || k < 0) {
      throw new SegValueError(`${fn}: constrained holds ${k}, expected labels ≥ 0`);
    }
  }
  const out = Int32Array.from(labels);
  if (constrained.length === 0) return out;
  const want = new Set(constrained);
  const visited = new Uint8Array(N);
  const stack = new Int32Array(N);
  const members = new Int32Array(N);
  for (let start = 0; start < N; start++) {
    const k = labels[start]!;
    if (visited[start] || !want.has(k)) continue;
    // flood-fill the 8-connected region of label k from start
    let top = 0;
    let count = 0;
    let seeded = false;
    stack[top++] = start;
    visited[start] = 1;
    while (top > 0) {
      const p = stack[--top]!;
      members[count++] = p;
      if (seeds[p] === k) seeded = true;
      const x = p % width;
      const y = (p - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if ((dx === 0 && dy === 0) || xx < 0 || xx >= width) continue;
          const q = yy * width + xx;
          if (!visited[q] && labels[q] === k) {
            visited[q] = 1;
            stack[top++] = q;
          }
        }
      }
    }
    if (seeded) continue;
    // the label this region shares the longest border with
    const border = new Map<number, number>();
    for (let i = 0; i < count; i++) {
      const p = members[i]!;
      const x = p % width;
      const y = (p - x) / width;
      if (x > 0) bump(border, labels[p - 1]!, k);
      if (x + 1 < width) bump(border, labels[p + 1]!, k);
      if (y > 0) bump(border, labels[p - width]!, k);
      if (y + 1 < height) bump(border, labels[p + width]!, k);
    }
    let best = -1;
    let bestCount = 0;
    for (const [l, c] of border) {
      if (c > bestCount || (c === bestCount && l < best)) {
        best = l;
        bestCount = c;
      }
    }
    if (best < 0) continue;
    for (let i = 0; i < count; i++) out[members[i]!] = best;
  }
  return out;
}

function bump(border: Map<number, number>, l: number, k: number): void {
  if (l !== k) border.set(l, (border.get(l) ?? 0) + 1);
}
