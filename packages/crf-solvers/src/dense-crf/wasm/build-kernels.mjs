// Assembles kernels.wat into kernels-wasm.ts (base64). Run from this folder:
//   npx -y -p wabt@1.0.39 node build-kernels.mjs
// (or with wabt@1.0.39 installed anywhere on NODE_PATH).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'kernels.wasm.tmp');
execFileSync('wat2wasm', [join(here, 'kernels.wat'), '-o', out], { stdio: 'inherit' });
const b64 = readFileSync(out).toString('base64');
const lines = b64.match(/.{1,100}/g).map((l) => `  '${l}' +`);
lines[lines.length - 1] = lines[lines.length - 1].replace(/ \+$/, ';');
writeFileSync(
  join(here, 'kernels-wasm.ts'),
  `// Generated from kernels.wat by build-kernels.mjs (wabt 1.0.39 wat2wasm). Do not edit.\n/** The permutohedral kernels module, base64. */\nexport const KERNELS_WASM_BASE64 = \n${lines.join('\n')}\n`.replace(
    '= \n',
    '=\n',
  ),
);
execFileSync('rm', [out]);
console.log(`kernels-wasm.ts: ${b64.length} base64 chars`);
