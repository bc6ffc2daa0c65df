/**
 * Molecular graphs of at most 9 heavy atoms (C, N, O, F; bonds none / single
 * / double / triple after kekulization), read from SMILES with RDKit's
 * MinimalLib (@rdkit/rdkit, WebAssembly).
 */

import type { MainModule } from '@rdkit/rdkit';
import { SegValueError } from '@seg/tensor';

/** The atom types, in the order of `MolGraph.atoms` codes. */
export const ATOMS = ['C', 'N', 'O', 'F'] as const;
/** Atomic numbers of {@link ATOMS}. */
const ATOMIC_NUMBERS = [6, 7, 8, 9];
/** Largest number of heavy atoms. */
export const MAX_ATOMS = 9;
/** Atom code of an atom whose type is masked (augmentations only). */
export const MASKED = 4;
/** Bond codes: 0 none, 1 single, 2 double, 3 triple. */
export const BOND_TYPES = 4;

/** A molecular graph: `n` atoms, `atoms[i]` in 0..3 (C, N, O, F; 4 = masked), `bonds[i*n+j]` in 0..3, symmetric, zero diagonal. */
export interface MolGraph {
  n: number;
  atoms: Uint8Array;
  bonds: Uint8Array;
}

/** Why a line of a SMILES file was not turned into a graph. */
export type MoleculeProblem = 'unparsable' | 'too-many-atoms' | 'atom-type' | 'bond-type';

/** A SMILES line that cannot be a {@link MolGraph}: names the line of the file and the reason. */
export class MoleculeInputError extends SegValueError {
  override name = 'MoleculeInputError';
  constructor(
    readonly line: number,
    readonly smiles: string,
    readonly problem: MoleculeProblem,
    detail: string,
  ) {
    super(`smilesToGraph: line ${line} (${JSON.stringify(smiles)}): ${detail}`);
  }
}

interface CommonChem {
  molecules: { atoms: { z?: number }[]; bonds: { bo?: number; atoms: [number, number] }[] }[];
}

/**
 * The graph of one SMILES (RDKit parse, kekulized, hydrogens implicit; charges ignored).
 *
 * @param rdkit the RDKit module (`await initRDKitModule()`).
 * @param line the line of the file, for the error message.
 * @throws MoleculeInputError when RDKit cannot parse it, it has more than
 * {@link MAX_ATOMS} heavy atoms, an atom other than C/N/O/F, or a bond that is not single/double/triple.
 */
export function smilesToGraph(rdkit: MainModule, smiles: string, line: number): MolGraph {
  const mol = rdkit.get_mol(smiles);
  if (!mol?.is_valid()) {
    mol?.delete();
    throw new MoleculeInputError(line, smiles, 'unparsable', 'RDKit cannot parse this SMILES');
  }
  let json: CommonChem;
  try {
    json = JSON.parse(mol.get_json()) as CommonChem; // commonchem JSON is kekulized
  } finally {
    mol.delete();
  }
  const m = json.molecules[0]!;
  const n = m.atoms.length;
  if (n > MAX_ATOMS) {
    throw new MoleculeInputError(
      line,
      smiles,
      'too-many-atoms',
      `${n} heavy atoms, expected at most ${MAX_ATOMS}`,
    );
  }
  const atoms = new Uint8Array(n);
  m.atoms.forEach((a, i) => {
    const z = a.z ?? 6;
    const code = ATOMIC_NUMBERS.indexOf(z);
    if (code < 0) {
      throw new MoleculeInputError(
        line,
        smiles,
        'atom-type',
        `atom ${i} has atomic number ${z}, expected C, N, O or F`,
      );
    }
    atoms[i] = code;
  });
  const bonds = new Uint8Array(n * n);
  for (const b of m.bonds) {
    const bo = b.bo ?? 1;
    if (bo !== 1 && bo !== 2 && bo !== 3) {
      throw new MoleculeInputError(
        line,
        smiles,
        'bond-type',
        `bond ${b.atoms[0]}-${b.atoms[1]} has order ${bo}, expected 1, 2 or 3`,
      );
    }
    const [i, j] = b.atoms;
    bonds[i * n + j] = bo;
    bonds[j * n + i] = bo;
  }
  return { n, atoms, bonds };
}

/** What {@link readSmilesFile} returns. */
export interface MoleculeSet {
  smiles: string[];
  graphs: MolGraph[];
  /** The lines left out, with why. */
  skipped: MoleculeInputError[];
}

/**
 * Reads a CSV whose first line is the header `smiles` and every other line
 * one SMILES (line numbers count the header as line 1). Lines that fail
 * {@link smilesToGraph} are skipped and reported; blank lines are ignored.
 */
export function readSmilesFile(rdkit: MainModule, text: string): MoleculeSet {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== 'smiles') {
    throw new SegValueError(
      `readSmilesFile: line 1 is ${JSON.stringify(lines[0])}, expected the header "smiles"`,
    );
  }
  const out: MoleculeSet = { smiles: [], graphs: [], skipped: [] };
  for (let l = 1; l < lines.length; l++) {
    const s = lines[l]!.trim();
    if (s === '') continue;
    try {
      out.graphs.push(smilesToGraph(rdkit, s, l + 1));
      out.smiles.push(s);
    } catch (e) {
      if (e instanceof MoleculeInputError) out.skipped.push(e);
      else throw e;
    }
  }
  return out;
}

/**
 * Dense, padded layout of graphs for the encoder: `nodes[b][i][c]`
 * (`[B, 9, 5]`, one-hot C, N, O, F, absent; a masked atom is all zero) and
 * `bonds[b][i][j][t]` (`[B, 9, 9, 4]`, one-hot none, single, double, triple).
 */
export function denseGraphs(graphs: readonly MolGraph[]): {
  nodes: Float32Array;
  bonds: Float32Array;
} {
  const N = MAX_ATOMS;
  const nodes = new Float32Array(graphs.length * N * 5);
  const bonds = new Float32Array(graphs.length * N * N * BOND_TYPES);
  graphs.forEach((g, b) => {
    for (let i = 0; i < N; i++) {
      const a = i < g.n ? g.atoms[i]! : 5;
      if (a < 4) nodes[(b * N + i) * 5 + a] = 1;
      else if (a === 5) nodes[(b * N + i) * 5 + 4] = 1;
      for (let j = 0; j < N; j++) {
        const t = i < g.n && j < g.n ? g.bonds[i * g.n + j]! : 0;
        bonds[((b * N + i) * N + j) * BOND_TYPES + t] = 1;
      }
    }
  });
  return { nodes, bonds };
}

/** A V2000 molfile of a graph (for drawing; no coordinates, no hydrogens). */
export function graphToMolblock(g: MolGraph): string {
  const pad = (v: string | number, w: number) => String(v).padStart(w);
  const edges: [number, number, number][] = [];
  for (let i = 0; i < g.n; i++)
    for (let j = i + 1; j < g.n; j++)
      if (g.bonds[i * g.n + j]) edges.push([i, j, g.bonds[i * g.n + j]!]);
  const lines = [
    '',
    '  @seg',
    '',
    `${pad(g.n, 3)}${pad(edges.length, 3)}  0  0  0  0  0  0  0  0999 V2000`,
  ];
  for (let i = 0; i < g.n; i++) {
    const sym = ATOMS[g.atoms[i]!] ?? 'C';
    lines.push(
      `    0.0000    0.0000    0.0000 ${sym.padEnd(3)} 0  0  0  0  0  0  0  0  0  0  0  0`,
    );
  }
  for (const [i, j, t] of edges) lines.push(`${pad(i + 1, 3)}${pad(j + 1, 3)}${pad(t, 3)}  0`);
  lines.push('M  END');
  return lines.join('\n');
}
