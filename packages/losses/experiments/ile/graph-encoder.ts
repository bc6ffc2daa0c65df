/**
 * The molecular-graph side of the learned loss: a small message-passing
 * encoder on tfjs-core over padded graphs (≤ 9 atoms), its augmentations
 * for contrastive learning (node dropping, edge perturbation, attribute
 * masking, as in GraphCL, You et al. 2020), and the relaxation used by
 * projected-gradient decoding (node-type and bond-type probabilities).
 */

import type { Rng } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import {
  projectSimplex,
  type RelaxedProblem,
  type StructuredEncoder,
  unitRows,
} from '../../src/index.js';
import { BOND_TYPES, denseGraphs, MASKED, MAX_ATOMS, type MolGraph } from './mol-graph.js';

const N = MAX_ATOMS;

/** Options of {@link GraphEncoder}. */
export interface GraphEncoderOptions {
  /** Hidden width of the message-passing layers. @default 64 */
  hidden?: number;
  /** Message-passing layers. @default 3 */
  layers?: number;
  /** Embedding size d. @default 64 */
  dim?: number;
  /**
   * `'sum'`: the node states summed over the atoms (invariant to the atom
   * order). `'sum+ordered'`: also the padded one-hot atoms and bonds and the
   * last node states in atom order (SMILES order), so ψ can start near the
   * fixed Hamming code (a random linear map of it) and learn from there.
   * @default 'sum'
   */
  readout?: 'sum' | 'sum+ordered';
}

/**
 * A relational GNN: `H ← relu(H W₀ + Σ_t A_t H W_t + b)` with one adjacency
 * per bond type (single, double, triple), the node states of every layer
 * summed over the present atoms and concatenated, then an MLP to `d`.
 * Inputs are dense (`nodes [B,9,5]`, `bonds [B,9,9,4]`, see
 * `denseGraphs`), so soft (relaxed) graphs go through the same function.
 */
export class GraphEncoder implements StructuredEncoder<readonly MolGraph[]> {
  readonly variables: tf.Variable[] = [];
  private readonly layers: { self: tf.Variable; nb: tf.Variable; b: tf.Variable }[] = [];
  private readonly head: tf.Variable[];
  private readonly ordered: boolean;

  constructor(rng: Rng, options: GraphEncoderOptions = {}) {
    const hidden = options.hidden ?? 64;
    const depth = options.layers ?? 3;
    const dim = options.dim ?? 64;
    this.ordered = (options.readout ?? 'sum') === 'sum+ordered';
    const glorot = (rows: number, cols: number) =>
      tf.variable(
        tf.tensor2d(rng.normalArray(rows * cols, 0, Math.sqrt(2 / (rows + cols))), [rows, cols]),
      );
    let f = 5;
    for (let l = 0; l < depth; l++) {
      const layer = {
        self: glorot(f, hidden),
        nb: glorot(3 * f, hidden),
        b: tf.variable(tf.zeros([hidden])),
      };
      this.layers.push(layer);
      this.variables.push(layer.self, layer.nb, layer.b);
      f = hidden;
    }
    const readoutSize =
      depth * hidden + (this.ordered ? N * 5 + N * N * BOND_TYPES + N * hidden : 0);
    this.head = [
      glorot(readoutSize, 2 * dim),
      tf.variable(tf.zeros([2 * dim])),
      glorot(2 * dim, dim),
      tf.variable(tf.zeros([dim])),
    ];
    this.variables.push(...this.head);
  }

  /** `[B,d]` raw embeddings of discrete graphs. */
  apply(graphs: readonly MolGraph[]): tf.Tensor2D {
    const { nodes, bonds } = denseGraphs(graphs);
    return tf.tidy(() =>
      this.applyDense(
        tf.tensor3d(nodes, [graphs.length, N, 5]),
        tf.tensor4d(bonds, [graphs.length, N, N, BOND_TYPES]),
      ),
    );
  }

  /** `[B,d]` raw embeddings of dense (possibly soft) graphs; differentiable in the inputs and the weights. */
  applyDense(nodes: tf.Tensor3D, bonds: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const B = nodes.shape[0];
      const present = tf.sub(1, tf.slice(nodes, [0, 0, 4], [B, N, 1])); // [B,9,1]
      let h: tf.Tensor3D = tf.concat(
        [tf.slice(nodes, [0, 0, 0], [B, N, 4]), present],
        2,
      ) as tf.Tensor3D;
      // A_t[b,i,j] = bonds[b,i,j,t] · p_i · p_j for t = single, double, triple, stacked as [B, 3·9, 9].
      const pp = tf.mul(present, tf.transpose(present, [0, 2, 1])); // [B,9,9]
      const adj = tf.reshape(
        tf.transpose(
          tf.mul(tf.slice(bonds, [0, 0, 0, 1], [B, N, N, 3]), tf.expandDims(pp, 3)),
          [0, 3, 1, 2],
        ),
        [B, 3 * N, N],
      );
      const pooled: tf.Tensor2D[] = [];
      for (const { self, nb, b } of this.layers) {
        const f = h.shape[2];
        const msg = tf.reshape(
          tf.transpose(tf.reshape(tf.matMul(adj, h), [B, 3, N, f]), [0, 2, 1, 3]),
          [B * N, 3 * f],
        );
        const flat = tf.reshape(h, [B * N, f]);
        const out = tf.relu(tf.add(tf.add(tf.matMul(flat, self), tf.matMul(msg, nb)), b));
        h = tf.mul(tf.reshape(out, [B, N, out.shape[1]!]), present) as tf.Tensor3D;
        pooled.push(tf.sum(h, 1));
      }
      const [w1, b1, w2, b2] = this.head as [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
      if (this.ordered) {
        pooled.push(
          tf.reshape(nodes, [B, N * 5]),
          tf.reshape(bonds, [B, N * N * BOND_TYPES]),
          tf.reshape(h, [B, N * h.shape[2]]),
        );
      }
      const z = tf.relu(tf.add(tf.matMul(tf.concat(pooled, 1), w1 as tf.Tensor2D), b1));
      return tf.add(tf.matMul(z, w2 as tf.Tensor2D), b2) as tf.Tensor2D;
    });
  }

  /** The weights as plain arrays (to move to another thread). */
  getWeights(): Float32Array[] {
    return this.variables.map((v) => v.dataSync() as Float32Array);
  }

  /** Sets the weights from {@link getWeights}'s arrays. */
  setWeights(w: readonly Float32Array[]): void {
    this.variables.forEach((v, i) => {
      const t = tf.tensor(w[i]!, v.shape);
      v.assign(t);
      t.dispose();
    });
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}

/** An output encoder of dense (possibly soft) graphs, as {@link graphRelaxation} needs it. */
export interface DenseGraphEncoder {
  /** `[B,d]` raw embeddings of discrete graphs. */
  apply(graphs: readonly MolGraph[]): tf.Tensor2D;
  /** `[B,d]` raw embeddings of dense graphs (`nodes [B,9,5]`, `bonds [B,9,9,4]`), differentiable in them. */
  applyDense(nodes: tf.Tensor3D, bonds: tf.Tensor4D): tf.Tensor2D;
}

/** Length of the fixed loss's code: `9·5` node-type entries and `36·4` upper-triangle bond-type entries. */
export const HAMMING_SIZE = N * 5 + ((N * (N - 1)) / 2) * BOND_TYPES;

/**
 * `[B,189]` the fixed (Hamming) code of dense graphs, the layout of
 * `hammingCodes`: the node rows, then the bond rows of the pairs `i < j`,
 * all scaled by `1/√45` (unit norm for one-hot graphs). Linear, so it
 * extends to soft graphs.
 */
export function hammingDense(nodes: tf.Tensor3D, bonds: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const B = nodes.shape[0];
    // The pairs i < j picked by a 0/1 matrix (a gather's gradient has no wasm kernel).
    const P = N * N * BOND_TYPES;
    const Q = HAMMING_SIZE - N * 5;
    const pick = new Float32Array(P * Q);
    let q = 0;
    for (let i = 0; i < N; i++)
      for (let j = i + 1; j < N; j++)
        for (let t = 0; t < BOND_TYPES; t++) pick[((i * N + j) * BOND_TYPES + t) * Q + q++] = 1;
    const pairs = tf.matMul(tf.reshape(bonds, [B, P]), tf.tensor2d(pick, [P, Q]));
    const code = tf.concat([tf.reshape(nodes, [B, N * 5]), pairs], 1);
    return tf.mul(code, 1 / Math.sqrt(N + (N * (N - 1)) / 2)) as tf.Tensor2D;
  });
}

/**
 * The learned embedding with the fixed code beside it:
 * `ψ_α(y) = [α·φ(y), √(1−α²)·ψ(y)]`, with φ the unit-norm Hamming code
 * ({@link hammingDense}) and ψ the unit-norm learned embedding of `inner`.
 * Unit norm on discrete graphs, so its loss is
 * `2 − 2⟨ψ_α(y), ψ_α(y')⟩ = α²·Δ_Hamming(y, y') + (1−α²)·Δ_learned(y, y')`,
 * a weighted sum of the fixed and the learned loss. Nothing is trained here:
 * `inner` is trained alone (NT-Xent), α is a setting.
 */
export class HammingSkipEncoder
  implements DenseGraphEncoder, StructuredEncoder<readonly MolGraph[]>
{
  constructor(
    readonly inner: GraphEncoder,
    readonly alpha: number,
  ) {}

  /** The inner encoder's weights (ψ_α itself adds none). */
  get variables(): tf.Variable[] {
    return this.inner.variables;
  }

  apply(graphs: readonly MolGraph[]): tf.Tensor2D {
    const { nodes, bonds } = denseGraphs(graphs);
    return tf.tidy(() =>
      this.applyDense(
        tf.tensor3d(nodes, [graphs.length, N, 5]),
        tf.tensor4d(bonds, [graphs.length, N, N, BOND_TYPES]),
      ),
    );
  }

  applyDense(nodes: tf.Tensor3D, bonds: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(
      () =>
        tf.concat(
          [
            tf.mul(hammingDense(nodes, bonds), this.alpha),
            tf.mul(
              unitRows(this.inner.applyDense(nodes, bonds)),
              Math.sqrt(1 - this.alpha * this.alpha),
            ),
          ],
          1,
        ) as tf.Tensor2D,
    );
  }
}

/** Rates of {@link augmentGraph}. */
export interface AugmentOptions {
  /** Probability that an atom (and its bonds) is dropped. @default 0.1 */
  dropNode?: number;
  /** Probability that a bond is removed or changes type; as many non-bonded pairs gain a random bond. @default 0.1 */
  perturbEdge?: number;
  /** Probability that an atom's type is masked. @default 0.15 */
  maskAtom?: number;
  /** Draw one augmentation per view instead of applying all three. @default false */
  oneOf?: boolean;
}

/**
 * A random view of `g` (a new graph; `g` is not modified), at least one atom
 * kept. With `oneOf`, one of the three augmentations is drawn per view (as in
 * GraphCL) and applied at its rate; otherwise all three are applied.
 */
export function augmentGraph(g: MolGraph, rng: Rng, options: AugmentOptions = {}): MolGraph {
  let pDrop = options.dropNode ?? 0.1;
  let pEdge = options.perturbEdge ?? 0.1;
  let pMask = options.maskAtom ?? 0.15;
  if (options.oneOf) {
    const pick = rng.int(3);
    if (pick !== 0) pDrop = 0;
    if (pick !== 1) pEdge = 0;
    if (pick !== 2) pMask = 0;
  }
  let keep: number[] = [];
  for (let i = 0; i < g.n; i++) if (rng.uniform() >= pDrop) keep.push(i);
  if (keep.length === 0) keep = [rng.int(g.n)];
  const n = keep.length;
  const atoms = Uint8Array.from(keep, (i) => (rng.uniform() < pMask ? MASKED : g.atoms[i]!));
  const bonds = new Uint8Array(n * n);
  let nBonds = 0;
  for (let u = 0; u < n; u++) {
    for (let v = u + 1; v < n; v++) {
      let t = g.bonds[keep[u]! * g.n + keep[v]!]!;
      if (t > 0) {
        nBonds++;
        if (rng.uniform() < pEdge) t = (t + 1 + rng.int(3)) % 4; // another type, none included
      }
      bonds[u * n + v] = t;
      bonds[v * n + u] = t;
    }
  }
  const pairs = (n * (n - 1)) / 2;
  const pAdd = pairs > nBonds ? (pEdge * nBonds) / (pairs - nBonds) : 0;
  for (let u = 0; u < n; u++) {
    for (let v = u + 1; v < n; v++) {
      if (
        bonds[u * n + v] === 0 &&
        g.bonds[keep[u]! * g.n + keep[v]!] === 0 &&
        rng.uniform() < pAdd
      ) {
        const t = 1 + rng.int(3);
        bonds[u * n + v] = t;
        bonds[v * n + u] = t;
      }
    }
  }
  return { n, atoms, bonds };
}

/** Projection of relaxed graphs: node rows and symmetrized bond rows onto their simplices; no self-bond. */
export function projectRelaxed(nodes: tf.Tensor, bonds: tf.Tensor): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const sym = tf.div(tf.add(bonds, tf.transpose(bonds, [0, 2, 1, 3])), 2);
    const p = projectSimplex(sym);
    const eye = tf.reshape(tf.eye(N), [1, N, N, 1]);
    const none = tf.reshape(tf.oneHot([0], BOND_TYPES), [1, 1, 1, BOND_TYPES]);
    const fixed = tf.add(tf.mul(p, tf.sub(1, eye)), tf.mul(eye, none));
    return [projectSimplex(nodes), fixed];
  });
}

/** Rounds relaxed graphs: per atom the most likely type (absent atoms removed), per pair the most likely bond. */
export function roundRelaxed(nodes: tf.Tensor, bonds: tf.Tensor): MolGraph[] {
  const [nt, bt] = tf.tidy(() => [tf.argMax(nodes, 2).dataSync(), tf.argMax(bonds, 3).dataSync()]);
  const B = nodes.shape[0]!;
  const out: MolGraph[] = [];
  for (let b = 0; b < B; b++) {
    const keep: number[] = [];
    for (let i = 0; i < N; i++) if (nt[b * N + i]! < 4) keep.push(i);
    if (keep.length === 0) keep.push(0); // at least one atom: the first, as carbon
    const n = keep.length;
    const atoms = Uint8Array.from(keep, (i) => Math.min(3, nt[b * N + i]!));
    const bondsOut = new Uint8Array(n * n);
    for (let u = 0; u < n; u++) {
      for (let v = 0; v < n; v++) {
        if (u !== v) bondsOut[u * n + v] = bt[(b * N + keep[u]!) * N + keep[v]!]!;
      }
    }
    out.push({ n, atoms, bonds: bondsOut });
  }
  return out;
}

/**
 * The projected-gradient decoding problem of molecular graphs for
 * `decodeGradient`: the relaxation is `[nodes [B·S,9,5], bonds [B·S,9,9,4]]`
 * started at the dense form of `starts` (S per example, example-major),
 * moved towards the simplex centre by `jitter` so gradients are not stuck on a vertex.
 */
export function graphRelaxation(
  encoder: DenseGraphEncoder,
  starts: readonly MolGraph[],
  jitter = 0.2,
): RelaxedProblem<MolGraph> & { dispose(): void } {
  const { nodes, bonds } = denseGraphs(starts);
  const B = starts.length;
  const s0 = tf.tidy(() => {
    const n0 = tf.add(tf.mul(tf.tensor3d(nodes, [B, N, 5]), 1 - jitter), jitter / 5);
    const b0 = tf.add(
      tf.mul(tf.tensor4d(bonds, [B, N, N, BOND_TYPES]), 1 - jitter),
      jitter / BOND_TYPES,
    );
    return projectRelaxed(n0, b0);
  });
  return {
    starts: s0,
    embed: (z) => encoder.applyDense(z[0] as tf.Tensor3D, z[1] as tf.Tensor4D),
    project: (z) => projectRelaxed(z[0]!, z[1]!),
    round: (z) => roundRelaxed(z[0]!, z[1]!),
    embedOutputs: (ys) => encoder.apply(ys),
    dispose: () => tf.dispose(s0),
  };
}
