import { describe, expect, it } from 'vitest';
import { benchPackages, flatten, workspaceRoot } from '../bench.js';

describe('seg bench helpers', () => {
  it('flattens BENCH figures into rows, 4 significant digits', () => {
    expect(flatten({ a: { b: 1.234567, c: 3 }, d: [1, 2], e: null, f: 'x' })).toEqual([
      ['a.b', '1.235'],
      ['a.c', '3'],
      ['d', '[1,2]'],
      ['e', 'null'],
      ['f', '"x"'],
    ]);
  });

  it("finds the repository and its packages' bench scripts", () => {
    const root = workspaceRoot();
    expect(root).not.toBeNull();
    const names = benchPackages(root!).map((p) => p.name);
    expect(names).toContain('@seg/tensor');
    expect(names).toContain('@seg/optim-adm');
  });
});
