// Assembles each module of MODULES (filter-grad.wat, conv.wat, matmul.wat) into
// kernels-wasm.ts (base64), twice: as written
// (importing a non-shared memory) and with its memory import made shared
// (tfjs-backend-wasm's multi-threaded build runs on a shared memory, and an
// import must match it), with wabt 1.0.39's wat2wasm (the `wabt`
// devDependency, its JavaScript build): from the package,
//   npx -y pnpm@10.34.8 build:wasm
// src/__tests__/filter-grad-wasm.test.ts checks that the committed file is
// what this gives, so an edit of a .wat without a rebuild fails the tests.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The modules: source file, constant name prefix, what the module is (doc comment). */
const MODULES = [
  { file: 'filter-grad.wat', name: 'FILTER_GRAD', what: 'The Conv2D filter-gradient module' },
  { file: 'conv.wat', name: 'CONV', what: 'The direct Conv2D (bias, ReLU) module' },
  { file: 'matmul.wat', name: 'MATMUL', what: 'The matrix-product and column-sum module' },
];
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

/** The text of kernels-wasm.ts for the current .wat files. */
export async function kernelsWasmSource() {
  const wabt = await createRequire(import.meta.url)('wabt')();
  const features = { simd: true, threads: true, bulk_memory: true };
  const assemble = (file, source) => {
    const module = wabt.parseWat(file, source, features);
    try {
      module.validate(features);
      return module.toBinary({}).buffer;
    } finally {
      module.destroy();
    }
  };
  const lines = [
    `// Generated from ${MODULES.map((m) => m.file).join(', ')} by build-kernels.mjs (wabt 1.0.39 wat2wasm). Do not edit.`,
  ];
  for (const { file, name, what } of MODULES) {
    const text = readFileSync(fileURLToPath(new URL(`./${file}`, import.meta.url)), 'utf8');
    if (!text.includes(IMPORT)) throw new Error(`${file}: no line ${IMPORT}`);
    lines.push(
      `/** ${what} importing a non-shared memory, base64. */`,
      `export const ${name}_WASM_BASE64 =`,
      ...base64Lines(assemble(file, text)),
      '/** The same module importing a shared memory (1 to 65536 pages), base64. */',
      `export const ${name}_SHARED_WASM_BASE64 =`,
      ...base64Lines(assemble(file, text.replace(IMPORT, SHARED_IMPORT))),
    );
  }
  lines.push('');
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const source = await kernelsWasmSource();
  writeFileSync(out, source);
  console.log(`kernels-wasm.ts: ${source.length} characters`);
}
