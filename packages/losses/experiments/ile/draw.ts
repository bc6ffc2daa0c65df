/** A figure of decoded molecules next to the truth, drawn by RDKit (get_svg) and laid out in one SVG. */
import type { MainModule } from '@rdkit/rdkit';
import { graphToMolblock, type MolGraph } from './mol-graph.js';

/** One SVG of a graph (valences are not checked: decoded graphs may break them). */
export function moleculeSvg(rdkit: MainModule, g: MolGraph, width: number, height: number): string {
  const mol = rdkit.get_mol(
    graphToMolblock(g),
    JSON.stringify({ sanitize: false, removeHs: false }),
  );
  if (!mol) return `<svg xmlns='http://www.w3.org/2000/svg' width='${width}' height='${height}'/>`;
  try {
    mol.set_new_coords();
    return mol.get_svg(width, height);
  } finally {
    mol.delete();
  }
}

/** A grid: one row per example, one column per method, with titles; each cell an RDKit drawing with its caption. */
export function gridSvg(
  rdkit: MainModule,
  columns: readonly string[],
  rows: readonly { cells: readonly { graph: MolGraph; caption: string }[] }[],
  cell = { width: 200, height: 160 },
): string {
  const title = 24;
  const captionH = 18;
  const W = columns.length * cell.width;
  const H = title + rows.length * (cell.height + captionH);
  const parts = [
    `<svg xmlns='http://www.w3.org/2000/svg' width='${W}' height='${H}' viewBox='0 0 ${W} ${H}' font-family='sans-serif'>`,
    `<rect width='${W}' height='${H}' fill='white'/>`,
  ];
  columns.forEach((c, j) => {
    parts.push(
      `<text x='${j * cell.width + cell.width / 2}' y='17' font-size='14' font-weight='bold' text-anchor='middle'>${c}</text>`,
    );
  });
  rows.forEach((row, i) => {
    const y = title + i * (cell.height + captionH);
    row.cells.forEach((c, j) => {
      const svg = moleculeSvg(rdkit, c.graph, cell.width, cell.height)
        .replace(/<\?xml[^>]*\?>/, '')
        .replace('<svg ', `<svg x='${j * cell.width}' y='${y}' `);
      parts.push(svg);
      parts.push(
        `<text x='${j * cell.width + cell.width / 2}' y='${y + cell.height + 13}' font-size='12' text-anchor='middle'>${c.caption}</text>`,
      );
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}
