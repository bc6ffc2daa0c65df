/**
 * The two backends of the permutohedral lattice, chosen once per lattice:
 * 'wasm' (WebAssembly SIMD, the default wherever it is available) and 'js'
 * (plain typed-array loops). Both find the points' simplices and number
 * their vertices, and build the kernels, with the same interface and the
 * same results.
 */
import { SegValueError } from '@seg/tensor';
import { embedPointsJs } from './embed.js';
import { JsLatticeKernels } from './js-kernels.js';
import type { LatticeArrays, LatticeKernels } from './lattice-kernels.js';
import { findNeighbors, hashVertices } from './lattice-vertices.js';
import {
  embedAndHash,
  WasmLatticeKernels,
  type WasmWorkspace,
  wasmKernelsAvailable,
} from './wasm/kernels.js';

/** The points' simplices: barycentric weights and vertex indices (N×(d+1) each), and the vertices. */
export interface LatticeVertices {
  bary: Float32Array;
  /** Vertex indices in order of first appearance. */
  vertexOf: Int32Array;
  /** Number of vertices m. */
  m: number;
  /** Per direction j (d+1 of them), per vertex, the two blur neighbours ((d+1)×m×2, m where absent). */
  neighbors(): Int32Array;
}

/** A lattice backend: the simplex search with the vertex numbering, and the kernels on the built lattice. */
export interface LatticeBackend {
  readonly name: 'wasm' | 'js';
  /**
   * Each point's enclosing simplex (features N×d, scaled by `scaleFactor` when
   * elevated) and its vertices, numbered in order of first appearance (the
   * wasm backend's arrays are views of a scratch memory, valid until its next
   * call: the kernels copy what they keep).
   */
  vertices(features: Float32Array, d: number, scaleFactor: Float64Array): LatticeVertices;
  /** The kernels on a built lattice (`workspace`: a wasm memory to share, ignored by 'js'). */
  kernels(lattice: LatticeArrays, workspace?: WasmWorkspace): LatticeKernels;
}

const WASM: LatticeBackend = {
  name: 'wasm',
  vertices: embedAndHash,
  kernels: (lattice, workspace) => new WasmLatticeKernels(lattice, workspace),
};

const JS: LatticeBackend = {
  name: 'js',
  vertices: (features, d, scaleFactor) => {
    const embedding = embedPointsJs(features, d, scaleFactor);
    const { vertexOf, table } = hashVertices(embedding, features.length / d, d);
    return { bary: embedding.bary, vertexOf, m: table.size, neighbors: () => findNeighbors(table) };
  },
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
