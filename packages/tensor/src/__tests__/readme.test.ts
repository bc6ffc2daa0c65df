// The README's opening example is examples/readme.ts, and it runs.
import { describe, expect, it } from 'vitest';
import { expectReadmeMirrors, runExample } from '../testing/index.js';

const example = new URL('../../examples/readme.ts', import.meta.url);

describe('README example', () => {
  it('is examples/readme.ts', () => {
    expectReadmeMirrors(new URL('../../README.md', import.meta.url), example);
  });

  it('runs on a bundled sample and prints the backend, the sizes and the seeds', () => {
    expect(runExample(example)).toBe('wasm 513×371 371×513×3\nseeds: 1843 gradient: 3×3×3×8\n');
  });
});
