/**
 * The two backends of the permutohedral lattice, chosen once per lattice:
 * 'wasm' (WebAssembly SIMD, the default wherever it is available) and 'js'
 * (plain typed-array loops). Both embed the points and build the kernels
 * with the same interface and the same results.
 */
import { SegValueError } from '@seg/tensor';
import { embedPointsJs } from './embed.js';
import { JsLatticeKernels } from './js-kernels.js';
import type { Embedding, LatticeArrays, LatticeKernels } from './lattice-kernels.js';
import { hashVertices, KeyTable } from './lattice-vertices.js';
import {
  embedPoints,
  hashEmbedded,
  WasmLatticeKernels,
  type WasmWorkspace,
  wasmKernelsAvailable,
} from './wasm/kernels.js';

/** A lattice backend: the simplex search and the kernels on the built lattice. */
export interface LatticeBackend {
  readonly name: 'wasm' | 'js';
  /** Each point's enclosing simplex (features N×d, scaled by `scaleFactor` when elevated). */
  embed(features: Float32Array, d: number, scaleFactor: Float64Array): Embedding;
  /** Dense indices for the embedding's vertices, in order of first appearance, and the table of their keys. */
  hash(embedding: Embedding, n: number, d: number): { vertexOf: Int32Array; table: KeyTable };
  /** The kernels on a built lattice (`workspace`: a wasm memory to share, ignored by 'js'). */
  kernels(lattice: LatticeArrays, workspace?: WasmWorkspace): LatticeKernels;
}

const WASM: LatticeBackend = {
  name: 'wasm',
  embed: embedPoints,
  hash: (embedding, n, d) => {
    const h = hashEmbedded(embedding, n, d);
    if (h === null) return hashVertices(embedding, n, d);
    return { vertexOf: h.vertexOf, table: KeyTable.fromKeys(d, h.keys, h.m) };
  },
  kernels: (lattice, workspace) => new WasmLatticeKernels(lattice, workspace),
};

const JS: LatticeBackend = {
  name: 'js',
  embed: embedPointsJs,
  hash: hashVertices,
  kernels: (lattice) => new JsLatticeKernels(lattice),
};

/**
 * The backend for `kernels` ('wasm', 'js', or undefined for 'wasm' where
 * WebAssembly SIMD runs and 'js' elsewhere); throws a SegValueError naming
 * `fn` for anything else.
 */
export function latticeBackend(fn: string, kernels: unknown): LatticeBackend {
  const name = kernels ?? (wasmKernelsAvailable() ? 'wasm' : 'js');
  if (name === 'wasm') return WASM;
  if (name === 'js') return JS;
  throw new SegValueError(`${fn}: options.kernels is ${String(name)}, expected 'wasm' or 'js'`);
}
