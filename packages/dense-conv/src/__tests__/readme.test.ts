// The README's opening example is examples/readme.ts, and it runs.
import { expectReadmeMirrors, runExample } from '@seg/tensor/testing';
import { describe, expect, it } from 'vitest';

const example = new URL('../../examples/readme.ts', import.meta.url);

describe('README example', () => {
  it('is examples/readme.ts', () => {
    expectReadmeMirrors(new URL('../../README.md', import.meta.url), example);
  });

  it('trains the backbone densely on a bundled sample, saves and reloads it', () => {
    const out = runExample(example);
    const m =
      /^step 1: loss (\d\.\d+)\nstep 20: loss (\d\.\d+)\n11 layers, receptive field 20×20\n$/.exec(
        out,
      );
    expect(m, out).not.toBeNull();
    expect(Number(m![1])).toBeCloseTo(0.715, 2);
    expect(Number(m![2])).toBeLessThan(0.3);
  });
});
