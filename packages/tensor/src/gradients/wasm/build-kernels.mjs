// Assembles filter-grad.wat into kernels-wasm.ts (base64), twice: as written
// (importing a non-shared memory) and with its memory import made shared
// (tfjs-backend-wasm's multi-threaded build runs on a shared memory, and an
// import must match it), with wabt 1.0.39's wat2wasm (the `wabt`
// devDependency, its JavaScript build): from the package,
//   npx -y pnpm@10.34.8 build:wasm
// src/__tests__/filter-grad-wasm.test.ts checks that the committed file is
// what this gives, so an edit of filter-grad.wat without a rebuild fails the tests.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const wat = fileURLToPath(new URL('./filter-grad.wat', import.meta.url));
const out = fileURLToPath(new URL('./kernels-wasm.ts', import.meta.url));

const IMPORT = '(import "env" "memory" (memory 1)) ;; MEMORY-IMPORT';
const SHARED_IMPORT = '(import "env" "memory" (memory 1 65536 shared)) ;; MEMORY-IMPORT';

function base64Lines(bytes) {
  const lines = Buffer.from(bytes)
    .toString('base64')
    .match(/.{1,100}/g)
    .map((l) => `  '${l}' +`);
  lines[lines.length - 1] = lines[lines.length - 1].replace(/ \+$/, ';');
  return lines;
}

/** The text of kernels-wasm.ts for the current filter-grad.wat. */
export async function kernelsWasmSource() {
  const wabt = await createRequire(import.meta.url)('wabt')();
  const text = readFileSync(wat, 'utf8');
  if (!text.includes(IMPORT)) throw new Error(`filter-grad.wat: no line ${IMPORT}`);
  const features = { simd: true, threads: true, bulk_memory: true };
  const assemble = (source) => {
    const module = wabt.parseWat('filter-grad.wat', source, features);
    try {
      module.validate(features);
      return module.toBinary({}).buffer;
    } finally {
      module.destroy();
    }
  };
  return [
    '// Generated from filter-grad.wat by build-kernels.mjs (wabt 1.0.39 wat2wasm). Do not edit.',
    '/** The Conv2D filter-gradient module importing a non-shared memory, base64. */',
    'export const FILTER_GRAD_WASM_BASE64 =',
    ...base64Lines(assemble(text)),
    '/** The same module importing a shared memory (1 to 65536 pages), base64. */',
    'export const FILTER_GRAD_SHARED_WASM_BASE64 =',
    ...base64Lines(assemble(text.replace(IMPORT, SHARED_IMPORT))),
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const source = await kernelsWasmSource();
  writeFileSync(out, source);
  console.log(`kernels-wasm.ts: ${source.length} characters`);
}
