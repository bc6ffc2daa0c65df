/**
 * Readers and writers of the two instance formats of `shared/bench/anchors`
 * (little-endian, float64 payloads), so the same problem runs on the native
 * anchors and on this package:
 *
 * - SEGGRID1: `"SEGGRID1"`, uint32 W, H, C; float64 source[N], sink[N], then one
 *   float64[N] of edge capacities per forward direction (right, down, and for
 *   C = 8 down-right, down-left), the same both ways.
 * - SEGPOTTS: `"SEGPOTTS"`, uint32 W, H, K, C; float64 unary[N·K] site-major,
 *   then one float64[N] of Potts weights per forward direction.
 */
import {
  assertInt,
  assertLength,
  SegRangeError,
  SegShapeError,
  SegValueError,
} from '@seg/tensor/errors';
import { checkConnectivity } from '../maxflow/grid-graph.js';

/** A binary grid min-cut instance (SEGGRID1). */
export interface GridInstance {
  width: number;
  height: number;
  connectivity: 4 | 8;
  /** Cost of putting p on the sink side, length W·H. */
  source: Float64Array;
  /** Cost of putting p on the source side, length W·H. */
  sink: Float64Array;
  /** One array per forward direction (right, down[, downRight, downLeft]), symmetric capacities. */
  edges: Float64Array[];
}

/** A multi-label grid Potts instance (SEGPOTTS). */
export interface PottsInstance {
  width: number;
  height: number;
  numLabels: number;
  connectivity: 4 | 8;
  /** Site-major unary costs `[p*K + k]`, length W·H·K. */
  unary: Float64Array;
  /** Potts weight per forward direction (right, down[, downRight, downLeft]). */
  weights: Float64Array[];
}

function header(fn: string, bytes: Uint8Array, magic: string, words: number): number[] {
  const head = 8 + 4 * words;
  if (bytes.length < head) {
    throw new SegShapeError(`${fn}: the data has ${bytes.length} bytes, expected at least ${head}`);
  }
  const got = String.fromCharCode(...bytes.subarray(0, 8));
  if (got !== magic)
    throw new SegValueError(
      `${fn}: the data starts with ${JSON.stringify(got)}, expected "${magic}"`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, head);
  const out: number[] = [];
  for (let i = 0; i < words; i++) out.push(view.getUint32(8 + 4 * i, true));
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function float64s(bytes: Uint8Array, offset: number, count: number): Float64Array {
  if (LITTLE_ENDIAN) {
    // copy into a fresh, aligned buffer (a Node Buffer's slice would be a view)
    const copy = new Uint8Array(count * 8);
    copy.set(new Uint8Array(bytes.buffer, bytes.byteOffset + offset, count * 8));
    return new Float64Array(copy.buffer);
  }
  const out = new Float64Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * 8);
  for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

function writeFloat64s(view: DataView, offset: number, a: ArrayLike<number>): number {
  if (LITTLE_ENDIAN) {
    new Uint8Array(view.buffer, offset, a.length * 8).set(
      new Uint8Array(Float64Array.from(a).buffer),
    );
    return offset + a.length * 8;
  }
  for (let i = 0; i < a.length; i++) view.setFloat64(offset + i * 8, a[i]!, true);
  return offset + a.length * 8;
}

/**
 * Throws unless `arrays` holds one array per forward direction of
 * `connectivity` (2 for 4, 4 for 8); returns that count.
 */
export function checkPerDirection(
  fn: string,
  connectivity: 4 | 8,
  arg: string,
  arrays: unknown,
): number {
  const nd = connectivity / 2;
  if (!Array.isArray(arrays) || arrays.length !== nd) {
    const got = Array.isArray(arrays) ? `${arrays.length} arrays` : String(arrays);
    throw new SegShapeError(
      `${fn}: ${arg} has ${got}, expected ${nd} (one per forward direction of connectivity ${connectivity})`,
    );
  }
  return nd;
}

/** Checks what a writer is given: uint32 sizes ≥ 1, one array per forward direction, all of length W·H. */
function checkInstance(
  fn: string,
  inst: { width: number; height: number; connectivity: 4 | 8 },
  perDirection: string,
  arrays: readonly ArrayLike<number>[],
): { n: number; nd: number } {
  assertInt(fn, 'width', inst.width, 1, 0xffffffff);
  assertInt(fn, 'height', inst.height, 1, 0xffffffff);
  const nd = checkPerDirection(fn, checkConnectivity(fn, inst.connectivity), perDirection, arrays);
  const n = inst.width * inst.height;
  for (let k = 0; k < nd; k++)
    assertLength(fn, `${perDirection}[${k}]`, arrays[k]!, n, 'width*height');
  return { n, nd };
}

function checkSize(fn: string, bytes: Uint8Array, expected: number, what: string): void {
  if (bytes.length !== expected) {
    throw new SegShapeError(
      `${fn}: the data has ${bytes.length} bytes, expected ${what} = ${expected}`,
    );
  }
}

/** Parses a SEGGRID1 file's bytes. */
export function readGridInstance(bytes: Uint8Array): GridInstance {
  const fn = 'readGridInstance';
  const [width, height, c] = header(fn, bytes, 'SEGGRID1', 3) as [number, number, number];
  const connectivity = checkConnectivity(fn, c);
  const n = width * height;
  if (n === 0)
    throw new SegShapeError(`${fn}: the grid is ${width}×${height}, expected at least one node`);
  const nd = connectivity / 2;
  checkSize(fn, bytes, 20 + 8 * n * (2 + nd), `20 + 8·W·H·(2 + C/2)`);
  const edges: Float64Array[] = [];
  for (let k = 0; k < nd; k++) edges.push(float64s(bytes, 20 + 8 * n * (2 + k), n));
  return {
    width,
    height,
    connectivity,
    source: float64s(bytes, 20, n),
    sink: float64s(bytes, 20 + 8 * n, n),
    edges,
  };
}

/** Encodes a binary grid instance as SEGGRID1 bytes. */
export function writeGridInstance(inst: GridInstance): Uint8Array {
  const fn = 'writeGridInstance';
  const { width, height, connectivity } = inst;
  const { n, nd } = checkInstance(fn, inst, 'edges', inst.edges);
  assertLength(fn, 'source', inst.source, n, 'width*height');
  assertLength(fn, 'sink', inst.sink, n, 'width*height');
  const out = new Uint8Array(20 + 8 * n * (2 + nd));
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = 'SEGGRID1'.charCodeAt(i);
  view.setUint32(8, width, true);
  view.setUint32(12, height, true);
  view.setUint32(16, connectivity, true);
  let o = writeFloat64s(view, 20, inst.source);
  o = writeFloat64s(view, o, inst.sink);
  for (let k = 0; k < nd; k++) o = writeFloat64s(view, o, inst.edges[k]!);
  return out;
}

/** Parses a SEGPOTTS file's bytes. */
export function readPottsInstance(bytes: Uint8Array): PottsInstance {
  const fn = 'readPottsInstance';
  const [width, height, numLabels, c] = header(fn, bytes, 'SEGPOTTS', 4) as [
    number,
    number,
    number,
    number,
  ];
  const connectivity = checkConnectivity(fn, c);
  const n = width * height;
  if (n === 0)
    throw new SegShapeError(`${fn}: the grid is ${width}×${height}, expected at least one node`);
  if (numLabels === 0) throw new SegRangeError(`${fn}: numLabels is 0, expected an integer ≥ 1`);
  const nd = connectivity / 2;
  checkSize(fn, bytes, 24 + 8 * n * (numLabels + nd), '24 + 8·W·H·(K + C/2)');
  const weights: Float64Array[] = [];
  for (let k = 0; k < nd; k++) weights.push(float64s(bytes, 24 + 8 * n * (numLabels + k), n));
  return {
    width,
    height,
    numLabels,
    connectivity,
    unary: float64s(bytes, 24, n * numLabels),
    weights,
  };
}

/** Encodes a multi-label Potts instance as SEGPOTTS bytes. */
export function writePottsInstance(inst: PottsInstance): Uint8Array {
  const fn = 'writePottsInstance';
  const { width, height, numLabels, connectivity } = inst;
  const { n, nd } = checkInstance(fn, inst, 'weights', inst.weights);
  assertInt(fn, 'numLabels', numLabels, 1, 0xffffffff);
  assertLength(fn, 'unary', inst.unary, n * numLabels, 'width*height*numLabels');
  const out = new Uint8Array(24 + 8 * n * (numLabels + nd));
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = 'SEGPOTTS'.charCodeAt(i);
  view.setUint32(8, width, true);
  view.setUint32(12, height, true);
  view.setUint32(16, numLabels, true);
  view.setUint32(20, connectivity, true);
  let o = writeFloat64s(view, 24, inst.unary);
  for (let k = 0; k < nd; k++) o = writeFloat64s(view, o, inst.weights[k]!);
  return out;
}
