/**
 * Geodesic distances from the scribbles: for every pixel and label, the
 * length of the shortest 8-connected path to a seed of that label, where a
 * step costs its length times `1 + gamma·‖ΔI‖/σ` (σ the image's colour
 * standard deviation). Paths that cross colour edges are long, so a pixel
 * is near the seeds of the region it belongs to (Criminisi, Sharp, Blake,
 * GeoS, ECCV 2008; Bai & Sapiro, ICCV 2007).
 */
import {
  assertInt,
  assertIntRange,
  assertLength,
  assertNumber,
  type LabelMap,
  type RgbImage,
  SegShapeError,
  SegValueError,
} from '@seg/tensor';
import { checkImage } from '../validate.js';

/** Binary min-heap of (key, node) on typed arrays. */
class Heap {
  private keys: Float64Array;
  private nodes: Int32Array;
  size = 0;
  constructor(capacity: number) {
    this.keys = new Float64Array(capacity);
    this.nodes = new Int32Array(capacity);
  }
  push(key: number, node: number): void {
    if (this.size === this.keys.length) {
      const k = new Float64Array(this.size * 2);
      k.set(this.keys);
      const n = new Int32Array(this.size * 2);
      n.set(this.nodes);
      this.keys = k;
      this.nodes = n;
    }
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keys[parent]! <= key) break;
      this.keys[i] = this.keys[parent]!;
      this.nodes[i] = this.nodes[parent]!;
      i = parent;
    }
    this.keys[i] = key;
    this.nodes[i] = node;
  }
  /** Removes the minimum; returns its node (its key is in `lastKey`). */
  pop(): number {
    const node = this.nodes[0]!;
    this.lastKey = this.keys[0]!;
    const key = this.keys[--this.size]!;
    const last = this.nodes[this.size]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= this.size) break;
      if (c + 1 < this.size && this.keys[c + 1]! < this.keys[c]!) c++;
      if (this.keys[c]! >= key) break;
      this.keys[i] = this.keys[c]!;
      this.nodes[i] = this.nodes[c]!;
      i = c;
    }
    this.keys[i] = key;
    this.nodes[i] = last;
    return node;
  }
  lastKey = 0;
}

const OFFSETS: [number, number, number][] = [
  [1, 0, 1],
  [-1, 0, 1],
  [0, 1, 1],
  [0, -1, 1],
  [1, 1, Math.SQRT2],
  [1, -1, Math.SQRT2],
  [-1, 1, Math.SQRT2],
  [-1, -1, Math.SQRT2],
];

/**
 * Geodesic distance of every pixel to the seeds of each label, in pixels
 * (h·w·K, pixel-major); `Infinity` for a label without seeds.
 */
export function geodesicSeedDistances(
  image: RgbImage,
  seeds: LabelMap,
  numLabels: number,
  gamma: number,
): Float32Array {
  const fn = 'geodesicSeedDistances';
  assertInt(fn, 'numLabels', numLabels, 1);
  assertNumber(fn, 'gamma', gamma, 0);
  checkImage(fn, image);
  const { width: w, height: h, data } = image;
  if (!seeds || !(seeds.data instanceof Int32Array)) {
    throw new SegValueError(`${fn}: seeds is not a LabelMap (data must be an Int32Array)`);
  }
  if (seeds.width !== w || seeds.height !== h) {
    throw new SegShapeError(
      `${fn}: seeds are ${seeds.width}×${seeds.height}, expected the image's ${w}×${h}`,
    );
  }
  assertLength(fn, 'seeds.data', seeds.data, w * h, 'width*height');
  assertIntRange(fn, 'seeds.data', seeds.data, -1, numLabels - 1);
  const n = w * h;
  let mean0 = 0;
  let mean1 = 0;
  let mean2 = 0;
  for (let p = 0; p < n; p++) {
    mean0 += data[3 * p]!;
    mean1 += data[3 * p + 1]!;
    mean2 += data[3 * p + 2]!;
  }
  mean0 /= n;
  mean1 /= n;
  mean2 /= n;
  let v = 0;
  for (let p = 0; p < n; p++) {
    const a = data[3 * p]! - mean0;
    const b = data[3 * p + 1]! - mean1;
    const c = data[3 * p + 2]! - mean2;
    v += a * a + b * b + c * c;
  }
  const scale = gamma / Math.sqrt(Math.max(v / n, 1));
  const out = new Float32Array(n * numLabels).fill(Number.POSITIVE_INFINITY);
  const dist = new Float64Array(n);
  const heap = new Heap(n);
  for (let k = 0; k < numLabels; k++) {
    dist.fill(Number.POSITIVE_INFINITY);
    heap.size = 0;
    for (let p = 0; p < n; p++) {
      if (seeds.data[p] === k) {
        dist[p] = 0;
        heap.push(0, p);
      }
    }
    while (heap.size > 0) {
      const p = heap.pop();
      const d = heap.lastKey;
      if (d > dist[p]!) continue;
      const x = p % w;
      const y = (p - x) / w;
      for (const [dx, dy, len] of OFFSETS) {
        const qx = x + dx;
        const qy = y + dy;
        if (qx < 0 || qy < 0 || qx >= w || qy >= h) continue;
        const q = qy * w + qx;
        const a = data[3 * p]! - data[3 * q]!;
        const b = data[3 * p + 1]! - data[3 * q + 1]!;
        const c = data[3 * p + 2]! - data[3 * q + 2]!;
        const nd = d + len * (1 + scale * Math.sqrt(a * a + b * b + c * c));
        if (nd < dist[q]!) {
          dist[q] = nd;
          heap.push(nd, q);
        }
      }
    }
    for (let p = 0; p < n; p++) out[p * numLabels + k] = dist[p]!;
  }
  return out;
}
