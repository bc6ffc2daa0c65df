// The README's opening example is examples/readme.ts, and it runs.
import { expectReadmeMirrors, runExample } from '@seg/tensor/testing';
import { describe, expect, it } from 'vitest';

const example = new URL('../../examples/readme.ts', import.meta.url);

describe('README example', () => {
  it('is examples/readme.ts', () => {
    expectReadmeMirrors(new URL('../../README.md', import.meta.url), example);
  });

  it('segments a bundled sample by ADM and by the classic graph cut', () => {
    const out = runExample(example);
    const m =
      /^(?:\d \d\.\d{4}\n){4}ADM object IoU (\d\.\d{3}) 4\ngraph cut object IoU 0\.911\n$/.exec(
        out,
      );
    expect(m, out).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0.85);
  });
});
