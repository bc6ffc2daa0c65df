// Assembles kernels.wat into kernels-wasm.ts (base64) with wabt 1.0.39's
// wat2wasm (the `wabt` devDependency, its JavaScript build): from the package,
//   npx -y pnpm@10.34.8 build:wasm
// src/__tests__/kernels-wasm.test.ts checks that the committed file is what
// this gives, so an edit of kernels.wat without a rebuild fails the tests.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const wat = fileURLToPath(new URL('./kernels.wat', import.meta.url));
const out = fileURLToPath(new URL('./kernels-wasm.ts', import.meta.url));

/** The text of kernels-wasm.ts for the current kernels.wat. */
export async function kernelsWasmSource() {
  const wabt = await createRequire(import.meta.url)('wabt')();
  const module = wabt.parseWat('kernels.wat', readFileSync(wat, 'utf8'), { simd: true });
  let bytes;
  try {
    module.validate();
    bytes = module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
  const lines = Buffer.from(bytes)
    .toString('base64')
    .match(/.{1,100}/g)
    .map((l) => `  '${l}' +`);
  lines[lines.length - 1] = lines[lines.length - 1].replace(/ \+$/, ';');
  return [
    '// Generated from kernels.wat by build-kernels.mjs (wabt 1.0.39 wat2wasm). Do not edit.',
    '/** The permutohedral kernels module, base64. */',
    'export const KERNELS_WASM_BASE64 =',
    ...lines,
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const source = await kernelsWasmSource();
  writeFileSync(out, source);
  console.log(`kernels-wasm.ts: ${source.length} characters`);
}
