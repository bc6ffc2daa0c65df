// The per-method defaults of segmentImage live in one table, SEGMENT_DEFAULTS;
// the table in its TSDoc is checked against it here, so the docs cannot drift.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type NetworkMethodDefaults, SEGMENT_DEFAULTS, type SegmentMethod } from '../segment.js';

/** The rows of the markdown table in SEGMENT_DEFAULTS' TSDoc, by method. */
function docRows(): Map<string, string[]> {
  const src = readFileSync(new URL('../segment.ts', import.meta.url), 'utf8');
  const doc = src.slice(0, src.indexOf('export const SEGMENT_DEFAULTS'));
  const block = doc.slice(doc.lastIndexOf('/**'));
  const rows = new Map<string, string[]>();
  for (const line of block.split('\n')) {
    const m = /^\s*\*\s*\|\s*'([a-z-]+)'\s*\|(.*)\|\s*$/.exec(line);
    if (!m) continue;
    rows.set(
      m[1]!,
      m[2]!.split('|').map((c) => c.trim()),
    );
  }
  return rows;
}

const cell = (v: 'lambda' | number) => (v === 'lambda' ? 'λ' : String(v));

describe('SEGMENT_DEFAULTS', () => {
  it('its TSDoc table shows exactly its values', () => {
    const rows = docRows();
    const methods = Object.keys(SEGMENT_DEFAULTS) as SegmentMethod[];
    expect([...rows.keys()].sort()).toEqual([...methods].sort());
    expect(rows.get('graphcut')![0]).toBe(String(SEGMENT_DEFAULTS.graphcut.lambda));
    for (const m of methods) {
      if (m === 'graphcut') continue;
      const d: NetworkMethodDefaults = SEGMENT_DEFAULTS[m];
      const [lambda, train, report, output, colour, iterations] = rows.get(m)!;
      expect({ m, lambda, train, report, output, colour, iterations }).toEqual({
        m,
        lambda: String(d.lambda),
        train: cell(d.trainLambda),
        report: cell(d.reportLambda),
        output: m === 'adm' ? `${cell(d.outputLambda)} (/ μ)` : cell(d.outputLambda),
        colour: String(d.colorModel),
        iterations: String(d.iterations),
      });
    }
  });
});
