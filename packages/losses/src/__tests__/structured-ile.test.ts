// The molecular-graph instance of the learned surrogate loss (experiments/ile).
import initRDKitModule, { type MainModule } from '@rdkit/rdkit';
import { Rng } from '@seg/tensor';
import { describeBackends, expectNoLeaks, expectThrow } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphEditDistance } from '../../experiments/ile/ged.js';
import {
  augmentGraph,
  GraphEncoder,
  graphRelaxation,
  HAMMING_SIZE,
  HammingSkipEncoder,
  hammingDense,
  roundRelaxed,
} from '../../experiments/ile/graph-encoder.js';
import {
  denseGraphs,
  MoleculeInputError,
  type MolGraph,
  readSmilesFile,
  smilesToGraph,
} from '../../experiments/ile/mol-graph.js';
import { hammingCodes, roundHamming } from '../../experiments/ile/pipeline.js';
import { decodeGradient, embedOutputs } from '../index.js';

/** GED by its definition: every partial node map (deleted / inserted nodes, relabelled, edges by their ends). */
function bruteForceGed(a: MolGraph, b: MolGraph): number {
  let best = Infinity;
  const map = new Int32Array(a.n).fill(-1);
  const used = new Uint8Array(b.n);
  const cost = () => {
    let c = 0;
    const inv = new Int32Array(b.n).fill(-1);
    for (let i = 0; i < a.n; i++) {
      if (map[i]! < 0)
        c++; // deletion
      else {
        inv[map[i]!] = i;
        if (a.atoms[i] !== b.atoms[map[i]!]) c++;
      }
    }
    for (let j = 0; j < b.n; j++) if (inv[j]! < 0) c++; // insertion
    for (let i = 0; i < a.n; i++) {
      for (let k = i + 1; k < a.n; k++) {
        const e = a.bonds[i * a.n + k]!;
        const f = map[i]! >= 0 && map[k]! >= 0 ? b.bonds[map[i]! * b.n + map[k]!]! : 0;
        if (e !== f) c++; // deleted, inserted or relabelled between mapped ends
      }
    }
    for (let j = 0; j < b.n; j++) {
      for (let l = j + 1; l < b.n; l++) {
        if (b.bonds[j * b.n + l] && (inv[j]! < 0 || inv[l]! < 0)) c++; // inserted with a new end
      }
    }
    return c;
  };
  const rec = (i: number) => {
    if (i === a.n) {
      best = Math.min(best, cost());
      return;
    }
    map[i] = -1;
    rec(i + 1);
    for (let j = 0; j < b.n; j++) {
      if (used[j]) continue;
      used[j] = 1;
      map[i] = j;
      rec(i + 1);
      used[j] = 0;
      map[i] = -1;
    }
  };
  rec(0);
  return best;
}

const graphArb = (maxN: number) =>
  fc.integer({ min: 1, max: maxN }).chain((n) =>
    fc
      .record({
        atoms: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
        bonds: fc.array(fc.constantFrom(0, 0, 1, 2, 3), {
          minLength: (n * (n - 1)) / 2,
          maxLength: (n * (n - 1)) / 2,
        }),
      })
      .map(({ atoms, bonds }) => {
        const m = new Uint8Array(n * n);
        let o = 0;
        for (let i = 0; i < n; i++) {
          for (let j = i + 1; j < n; j++) {
            m[i * n + j] = bonds[o]!;
            m[j * n + i] = bonds[o++]!;
          }
        }
        return { n, atoms: Uint8Array.from(atoms), bonds: m } as MolGraph;
      }),
  );

describe('graphEditDistance', () => {
  it('equals the brute force over partial node maps on small graphs', () => {
    fc.assert(
      fc.property(graphArb(5), graphArb(5), (a, b) => {
        expect(graphEditDistance(a, b)).toBe(bruteForceGed(a, b));
      }),
      { numRuns: 60, seed: 11 },
    );
  });

  it('is symmetric, zero on relabelled copies, and a metric on 9-atom graphs', () => {
    fc.assert(
      fc.property(
        graphArb(9),
        graphArb(9),
        graphArb(9),
        fc.integer({ min: 0, max: 1e6 }),
        (a, b, c, seed) => {
          const perm = Array.from(new Rng(seed).permutation(a.n));
          const p: MolGraph = {
            n: a.n,
            atoms: Uint8Array.from(perm, (i) => a.atoms[i]!),
            bonds: Uint8Array.from(
              { length: a.n * a.n },
              (_, k) => a.bonds[perm[Math.floor(k / a.n)]! * a.n + perm[k % a.n]!]!,
            ),
          };
          expect(graphEditDistance(a, p)).toBe(0);
          const ab = graphEditDistance(a, b);
          expect(graphEditDistance(b, a)).toBe(ab);
          expect(ab).toBeLessThanOrEqual(graphEditDistance(a, c) + graphEditDistance(c, b));
        },
      ),
      { numRuns: 15, seed: 12 },
    );
  });
});

describe('SMILES → graph (RDKit)', () => {
  let R: MainModule;
  beforeAll(async () => {
    R = await initRDKitModule();
  });

  it('kekulizes aromatic rings and reads atoms and bonds in SMILES order', () => {
    const g = smilesToGraph(R, 'c1ccoc1', 2); // furan
    expect(Array.from(g.atoms)).toEqual([0, 0, 0, 2, 0]);
    const orders = [
      g.bonds[0 * 5 + 1],
      g.bonds[1 * 5 + 2],
      g.bonds[2 * 5 + 3],
      g.bonds[3 * 5 + 4],
      g.bonds[4 * 5 + 0],
    ];
    expect(orders.sort()).toEqual([1, 1, 1, 2, 2]);
    const n = smilesToGraph(R, 'C#N', 3);
    expect(Array.from(n.atoms)).toEqual([0, 1]);
    expect(n.bonds[1]).toBe(3);
    // Benzene and pyridine differ by one relabelled atom.
    expect(
      graphEditDistance(smilesToGraph(R, 'c1ccccc1', 1), smilesToGraph(R, 'c1ccncc1', 1)),
    ).toBe(1);
  });

  it('names the line and the reason of bad input; readSmilesFile skips and reports them', () => {
    expectThrow(
      () => smilesToGraph(R, 'C1CC', 7),
      MoleculeInputError as never,
      'smilesToGraph: line 7 ("C1CC"): RDKit cannot parse this SMILES',
    );
    expectThrow(
      () => smilesToGraph(R, 'CCCCCCCCCC', 8),
      MoleculeInputError as never,
      'smilesToGraph: line 8 ("CCCCCCCCCC"): 10 heavy atoms, expected at most 9',
    );
    expectThrow(
      () => smilesToGraph(R, 'CCl', 9),
      MoleculeInputError as never,
      'smilesToGraph: line 9 ("CCl"): atom 1 has atomic number 17, expected C, N, O or F',
    );
    const set = readSmilesFile(R, 'smiles\nCCO\nC1CC\n\nCCCCCCCCCC\nCS\nOC=O\n');
    expect(set.smiles).toEqual(['CCO', 'OC=O']);
    expect(set.skipped.map((e) => [e.line, e.problem])).toEqual([
      [3, 'unparsable'],
      [5, 'too-many-atoms'],
      [6, 'atom-type'],
    ]);
    expect(() => readSmilesFile(R, 'smile\nCC')).toThrow(
      'readSmilesFile: line 1 is "smile", expected the header "smiles"',
    );
  });
});

describe('Hamming code of the fixed loss', () => {
  it('rounds back to the graph it encodes (atoms in their order)', () => {
    fc.assert(
      fc.property(graphArb(9), (g) => {
        const back = roundHamming(hammingCodes([g]));
        expect(back.n).toBe(g.n);
        expect(Array.from(back.atoms)).toEqual(Array.from(g.atoms));
        expect(Array.from(back.bonds)).toEqual(Array.from(g.bonds));
      }),
      { numRuns: 20, seed: 13 },
    );
  });
});

describeBackends('graph encoder and relaxation', () => {
  it('embeds dense and discrete graphs alike; augmentations keep a valid graph; decoding runs without leaks', async () => {
    const rng = new Rng(3);
    const graphs = fc.sample(graphArb(9), { numRuns: 6, seed: 14 });
    const enc = new GraphEncoder(rng, { hidden: 8, dim: 6 });
    // Invariant to the atom order.
    const g = graphs[0]!;
    const perm = Array.from(rng.permutation(g.n));
    const p: MolGraph = {
      n: g.n,
      atoms: Uint8Array.from(perm, (i) => g.atoms[i]!),
      bonds: Uint8Array.from(
        { length: g.n * g.n },
        (_, k) => g.bonds[perm[Math.floor(k / g.n)]! * g.n + perm[k % g.n]!]!,
      ),
    };
    const [e1, e2] = tf.tidy(() => [enc.apply([g]).dataSync(), enc.apply([p]).dataSync()]);
    for (let i = 0; i < 6; i++) expect(e2[i]!).toBeCloseTo(e1[i]!, 3);
    // The ordered readout also sees the atom order (SMILES order).
    const ordered = new GraphEncoder(rng, { hidden: 8, dim: 6, readout: 'sum+ordered' });
    const [o1, o2] = tf.tidy(() => [ordered.apply([g]).dataSync(), ordered.apply([p]).dataSync()]);
    expect(o1.length).toBe(6);
    if (perm.some((v, i) => v !== i && g.atoms[v] !== g.atoms[i])) {
      expect(Math.max(...Array.from(o1, (v, i) => Math.abs(v - o2[i]!)))).toBeGreaterThan(1e-4);
    }
    ordered.dispose();
    for (const h of graphs) {
      const a = augmentGraph(h, rng, { dropNode: 0.3, perturbEdge: 0.3, maskAtom: 0.3 });
      expect(a.n).toBeGreaterThanOrEqual(1);
      for (let i = 0; i < a.n; i++) {
        expect(a.bonds[i * a.n + i]).toBe(0);
        for (let j = 0; j < a.n; j++) expect(a.bonds[i * a.n + j]).toBe(a.bonds[j * a.n + i]);
      }
    }
    // Dense round trip: rounding the one-hot form gives the graphs back.
    const { nodes, bonds } = denseGraphs(graphs);
    const back = roundRelaxed(tf.tensor3d(nodes, [6, 9, 5]), tf.tensor4d(bonds, [6, 9, 9, 4]));
    expect(back.map((b) => graphEditDistance(b, graphs[back.indexOf(b)]!))).toEqual([
      0, 0, 0, 0, 0, 0,
    ]);
    const target = embedOutputs(enc, graphs.slice(0, 2));
    await expectNoLeaks(() => {
      const problem = graphRelaxation(enc, graphs.slice(0, 4)); // 2 starts for each of 2 examples
      const r = decodeGradient(target, problem, { steps: 2, learningRate: 0.05 });
      problem.dispose();
      expect(r.outputs.length).toBe(2);
    });
    tf.dispose([target]);
    enc.dispose();
  });
});

describeBackends('learned loss with the Hamming code beside it', () => {
  it('the dense code is the fixed code; Δ of ψ_α is α²·Δ_Hamming + (1−α²)·Δ_learned', async () => {
    const graphs = fc.sample(graphArb(9), { numRuns: 5, seed: 15 });
    const { nodes, bonds } = denseGraphs(graphs);
    const code = tf.tidy(() =>
      hammingDense(tf.tensor3d(nodes, [5, 9, 5]), tf.tensor4d(bonds, [5, 9, 9, 4])).dataSync(),
    );
    expect(code.length).toBe(5 * HAMMING_SIZE);
    expect(Array.from(code)).toEqual(Array.from(hammingCodes(graphs)));
    const enc = new GraphEncoder(new Rng(4), { hidden: 8, dim: 6, readout: 'sum+ordered' });
    const alpha = 0.6;
    const skip = new HammingSkipEncoder(enc, alpha);
    await expectNoLeaks(() => {
      const [e, psi] = tf.tidy(() => [
        skip.apply(graphs).arraySync(),
        embedOutputs(enc, graphs).arraySync(),
      ]);
      const dot = (u: number[], v: number[]) => u.reduce((a, x, k) => a + x * v[k]!, 0);
      const phi = (i: number) =>
        Array.from(code.subarray(i * HAMMING_SIZE, (i + 1) * HAMMING_SIZE));
      for (let i = 0; i < 5; i++) {
        expect(dot(e[i]!, e[i]!)).toBeCloseTo(1, 5);
        const j = (i + 1) % 5;
        const mixed =
          alpha ** 2 * (2 - 2 * dot(phi(i), phi(j))) +
          (1 - alpha ** 2) * (2 - 2 * dot(psi[i]!, psi[j]!));
        expect(2 - 2 * dot(e[i]!, e[j]!)).toBeCloseTo(mixed, 5);
      }
    });
    enc.dispose();
  });
});
