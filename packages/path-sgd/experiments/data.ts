// idx (gzip) readers for MNIST-format data sets.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface Digits {
  /** count × 784 pixels in [0, 1]. */
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

function readIdx(path: string, magic: number): { dims: number[]; body: Uint8Array } {
  const buf = gunzipSync(readFileSync(path));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const got = view.getUint32(0);
  if (got !== magic) throw new Error(`${path}: magic ${got}, expected ${magic}`);
  const ndims = magic & 0xff;
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i));
  return { dims, body: buf.subarray(4 + 4 * ndims) };
}

/** Reads `<prefix>-images-idx3-ubyte.gz` and `<prefix>-labels-idx1-ubyte.gz`. */
export function readDigits(dir: string, prefix: string, limit = Infinity): Digits {
  const img = readIdx(`${dir}/${prefix}-images-idx3-ubyte.gz`, 2051);
  const lab = readIdx(`${dir}/${prefix}-labels-idx1-ubyte.gz`, 2049);
  const count = Math.min(img.dims[0]!, lab.dims[0]!, limit);
  const size = img.dims[1]! * img.dims[2]!;
  const images = new Float32Array(count * size);
  for (let i = 0; i < count * size; i++) images[i] = img.body[i]! / 255;
  const labels = Int32Array.from(lab.body.subarray(0, count));
  return { images, labels, count };
}

/** The rows `index` of a data set. */
export function subset(d: Digits, index: ArrayLike<number>): Digits {
  const size = d.images.length / d.count;
  const images = new Float32Array(index.length * size);
  const labels = new Int32Array(index.length);
  for (let k = 0; k < index.length; k++) {
    const i = index[k]!;
    images.set(d.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = d.labels[i]!;
  }
  return { images, labels, count: index.length };
}
