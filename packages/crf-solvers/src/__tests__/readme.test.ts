// The README's opening example is examples/readme.ts, and it runs.
import { expectReadmeMirrors, runExample } from '@seg/tensor/testing';
import { describe, expect, it } from 'vitest';

const example = new URL('../../examples/readme.ts', import.meta.url);

describe('README example', () => {
  it('is examples/readme.ts', () => {
    expectReadmeMirrors(new URL('../../README.md', import.meta.url), example);
  });

  it('denoises a bundled mask: the min cut, the binary cut and α-expansion agree', () => {
    expect(runExample(example)).toBe(
      'errors: noisy 22794, min cut 1947; flow 46604\n' +
        'energy: binary cut 46604, α-expansion 46604\n',
    );
  });
});
