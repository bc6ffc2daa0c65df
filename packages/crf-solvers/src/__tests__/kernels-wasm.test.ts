// The committed WebAssembly (kernels-wasm.ts, base64) is what kernels.wat
// assembles to: an edit of the .wat without `build:wasm` fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kernelsWasmSource } from '../dense-crf/wasm/build-kernels.mjs';

describe('kernels.wat → kernels-wasm.ts', () => {
  it('rebuilding gives the committed bytes', async () => {
    const committed = readFileSync(
      new URL('../dense-crf/wasm/kernels-wasm.ts', import.meta.url),
      'utf8',
    );
    expect(
      await kernelsWasmSource(),
      'run `npx -y pnpm@10.34.8 build:wasm` in packages/crf-solvers',
    ).toBe(committed);
  });
});
