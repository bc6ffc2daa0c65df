// The README's opening example is examples/readme.ts, and it runs.
import { expectReadmeMirrors, runExample } from '@seg/tensor/testing';
import { describe, expect, it } from 'vitest';

const example = new URL('../../examples/readme.ts', import.meta.url);

describe('README example', () => {
  it('is examples/readme.ts', () => {
    expectReadmeMirrors(new URL('../../README.md', import.meta.url), example);
  });

  it('trains a rescaled copy of a network exactly as the original with Path-SGD, not with SGD', () => {
    const runs = [
      ...runExample(example).matchAll(/^×(\d+) (Path-SGD|SGD): loss (\S+), path norm (\S+)$/gm),
    ];
    const [path1, sgd1, path10, sgd10] = runs.map((m) => m.slice(3).map(Number));
    expect(runs.map((m) => `×${m[1]} ${m[2]}`)).toEqual([
      '×1 Path-SGD',
      '×1 SGD',
      '×10 Path-SGD',
      '×10 SGD',
    ]);
    expect(path10).toEqual(path1); // invariant: the same loss and path norm to the printed digits
    expect(sgd10![0]).not.toBeCloseTo(sgd1![0]!, 2);
    expect(path1![0]).toBeLessThan(0.3);
  });
});
