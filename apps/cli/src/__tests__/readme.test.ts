// The README's opening example is examples/readme.sh, and it runs (on the built CLI).
import { existsSync } from 'node:fs';
import { expectReadmeMirrors, runExample } from '@seg/tensor/testing';
import { describe, expect, it } from 'vitest';

const example = new URL('../../examples/readme.sh', import.meta.url);
const built = existsSync(new URL('../../dist/seg.js', import.meta.url));

describe('README example', () => {
  it('is examples/readme.sh', () => {
    expectReadmeMirrors(new URL('../../README.md', import.meta.url), example);
  });

  it.skipIf(!built)(
    'prints the backend report, segments a bundled sample, evaluates the samples',
    () => {
      const out = runExample(example);
      expect(out.split('\n')[0]).toBe('{"backend":"wasm","simd":true,"threads":1}');
      const iou = Number(/object IoU against .*teddy\.png: (\d\.\d+)/.exec(out)?.[1]);
      expect(iou).toBeGreaterThan(0.95);
      const evaluation = JSON.parse(out.trim().split('\n').at(-1)!);
      expect(evaluation.images.map((i: { name: string }) => i.name)).toEqual([
        'banana1',
        'llama',
        'teddy',
      ]);
      expect(evaluation.meanIoU).toBeGreaterThan(0.7);
    },
  );
});
