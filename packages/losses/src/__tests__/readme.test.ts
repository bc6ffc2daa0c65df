// The README's opening example is examples/readme.ts, and it runs.
import { expectReadmeMirrors, runExample } from '@seg/tensor/testing';
import { describe, expect, it } from 'vitest';

const example = new URL('../../examples/readme.ts', import.meta.url);

describe('README example', () => {
  it('is examples/readme.ts', () => {
    expectReadmeMirrors(new URL('../../README.md', import.meta.url), example);
  });

  it('segments a bundled sample from 1.2% of pixels scribbled with the dense CRF loss', () => {
    const m = /^scribbled: 0\.012\nagreement with the mask: (0\.\d{3})\n$/.exec(
      runExample(example),
    );
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0.97);
  });
});
