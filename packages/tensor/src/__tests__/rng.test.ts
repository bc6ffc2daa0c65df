import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../index.js';

describe('Rng', () => {
  it('is reproducible from its seed and differs across seeds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const a = new Rng(seed);
        const b = new Rng(seed);
        const c = new Rng(seed + 1);
        const xa = Array.from({ length: 8 }, () => a.nextUint32());
        const xb = Array.from({ length: 8 }, () => b.nextUint32());
        const xc = Array.from({ length: 8 }, () => c.nextUint32());
        expect(xa).toEqual(xb);
        expect(xa).not.toEqual(xc);
      }),
    );
  });

  it('has uniform and normal samples with the right moments', () => {
    const rng = new Rng(1);
    const n = 200_000;
    const u = rng.uniformArray(n);
    const z = rng.normalArray(n, 2, 3);
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    const variance = (a: Float32Array, m: number) =>
      a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length;
    expect(Math.abs(mean(u) - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(variance(u, 0.5) - 1 / 12)).toBeLessThan(0.002);
    expect(Math.abs(mean(z) - 2)).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(variance(z, 2)) - 3)).toBeLessThan(0.03);
    expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
  });

  it('draws integers in range and permutations', () => {
    const rng = new Rng(5);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.int(7)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    const p = Array.from(rng.permutation(100));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(() => rng.int(0)).toThrow('Rng.int: n is 0, expected an integer in [1, 4294967296]');
  });

  it('forks into an independent stream', () => {
    const a = new Rng(3);
    const f = a.fork();
    expect(f.nextUint32()).not.toBe(a.nextUint32());
  });

  it('refuses bad sizes and distribution parameters', () => {
    const rng = new Rng(1);
    expect(() => rng.normalArray(-1)).toThrow('Rng.normalArray: n is -1, expected an integer ≥ 0');
    expect(() => rng.normalArray(2.5)).toThrow(
      'Rng.normalArray: n is 2.5, expected an integer ≥ 0',
    );
    expect(() => rng.normalArray(2, 0, Number.NaN)).toThrow(
      'Rng.normalArray: std is NaN, expected a finite number ≥ 0',
    );
    expect(() => rng.normal(Number.POSITIVE_INFINITY)).toThrow(
      'Rng.normal: mean is Infinity, expected a finite number',
    );
    expect(() => rng.normal(0, -1)).toThrow('Rng.normal: std is -1, expected a finite number ≥ 0');
    expect(() => rng.uniformArray(2, Number.NaN)).toThrow(
      'Rng.uniformArray: lo is NaN, expected a finite number',
    );
    expect(() => rng.uniformArray(2, 1, 0)).toThrow(
      'Rng.uniformArray: hi is 0, expected a finite number ≥ 1',
    );
    expect(() => rng.permutation(Number.NaN)).toThrow(
      'Rng.permutation: n is NaN, expected an integer in [0, 2147483647]',
    );
    // the checks do not change the stream
    const a = new Rng(3);
    const b = new Rng(3);
    const xs = a.normalArray(5, 1, 2);
    for (let i = 0; i < 5; i++) expect(xs[i]).toBe(Math.fround(b.normal(1, 2)));
  });
});
