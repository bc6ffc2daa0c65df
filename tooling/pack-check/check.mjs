#!/usr/bin/env node
// Packaging check: every publishable package packs, its tarball installs into
// a fresh npm project outside the workspace, and imports in ESM and CJS with
// its types; publint and attw find nothing to fix; each tarball holds the
// root LICENSE and the package.json fields a registry page needs, and
// `npm publish --dry-run` accepts it. Run after `turbo build`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const bin = (name) => join(here, 'node_modules/.bin', name);
const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });

const packages = readdirSync(join(root, 'packages'))
  .map((d) => join(root, 'packages', d))
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  .filter(({ pkg }) => !pkg.private)
  .filter(({ pkg }) => process.argv.length <= 2 || process.argv.slice(2).includes(pkg.name))
  .sort((a, b) => Number(b.pkg.name === '@seg/tensor') - Number(a.pkg.name === '@seg/tensor'));

// Fields every published package.json sets (repository and homepage wait for
// the project's public address: the repository has no remote yet).
const REQUIRED_FIELDS = ['license', 'keywords', 'sideEffects', 'engines', 'publishConfig'];
const licence = readFileSync(join(root, 'LICENSE'), 'utf8');

const work = mkdtempSync(join(tmpdir(), 'seg-pack-'));
const failures = [];
const t0 = Date.now();
try {
  const tarballs = [];
  for (const { dir, pkg } of packages) {
    run('npx', ['-y', 'pnpm@10.34.8', 'pack', '--pack-destination', work], { cwd: dir });
    const tgz = `${pkg.name.replace('@', '').replace('/', '-')}-${pkg.version}.tgz`;
    tarballs.push(join(work, tgz));
    const missing = REQUIRED_FIELDS.filter((f) => pkg[f] === undefined);
    if (missing.length) failures.push(`${pkg.name}: package.json has no ${missing.join(', ')}`);
    const packed = run('tar', ['-xzOf', join(work, tgz), 'package/LICENSE']);
    if (packed !== licence)
      failures.push(`${pkg.name}: the tarball's LICENSE differs from the root LICENSE`);
    try {
      run('npm', ['publish', '--dry-run', '--loglevel=error', join(work, tgz)], { cwd: work });
    } catch (e) {
      failures.push(`npm publish --dry-run ${pkg.name}:\n${e.stdout}${e.stderr}`);
    }
    try {
      run(bin('publint'), ['run', join(work, tgz), '--strict'], { cwd: root });
    } catch (e) {
      failures.push(`publint ${pkg.name}:\n${e.stdout}${e.stderr}`);
    }
    try {
      // node16 resolution for ESM and CJS consumers; bundler resolution is checked by tsc below.
      run(bin('attw'), [join(work, tgz), '--profile', 'node16', '--format', 'table-flipped'], {
        cwd: root,
      });
    } catch (e) {
      failures.push(`attw ${pkg.name}:\n${e.stdout}${e.stderr}`);
    }
  }
  const app = join(work, 'app');
  run('mkdir', ['-p', app]);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'app', private: true, type: 'module' }),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], { cwd: app });
  const names = packages.map(({ pkg }) => pkg.name);
  const esm = names.map((n, i) => `import * as m${i} from '${n}';`).join('\n');
  writeFileSync(
    join(app, 'esm.mjs'),
    `${esm}\nconst mods = { ${names.map((n, i) => `'${n}': m${i}`).join(', ')} };\n` +
      `for (const [n, m] of Object.entries(mods)) if (Object.keys(m).length === 0) throw new Error(n + ' exports nothing');\n` +
      `const { initBackend } = m0; console.log(JSON.stringify(await initBackend()));\n`,
  );
  writeFileSync(
    join(app, 'cjs.cjs'),
    `${names.map((n) => `if (Object.keys(require('${n}')).length === 0) throw new Error('${n} exports nothing (CJS)');`).join('\n')}\n` +
      `require('@seg/tensor').initBackend({ backend: 'cpu' }).then((r) => console.log(JSON.stringify(r)));\n`,
  );
  writeFileSync(
    join(app, 'types.ts'),
    `${names.map((n, i) => `import * as m${i} from '${n}';`).join('\n')}\n` +
      `import type { RgbImage } from '@seg/tensor';\nconst img: RgbImage = m0.rgbImage(1, 1, new Uint8Array(3));\n` +
      `export const all = [${names.map((_, i) => `m${i}`).join(', ')}, img];\n`,
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        noEmit: true,
        skipLibCheck: false,
        lib: ['ES2022', 'DOM'],
        target: 'ES2022',
      },
      files: ['types.ts'],
    }),
  );
  if (!names[0]?.endsWith('/tensor'))
    throw new Error('pack-check: @seg/tensor must be the first package');
  console.log('ESM', run(process.execPath, ['esm.mjs'], { cwd: app }).trim());
  console.log('CJS', run(process.execPath, ['cjs.cjs'], { cwd: app }).trim());
  // The root README's "Install one package" example, run against the installed tarballs.
  writeFileSync(
    join(app, 'install-one-package.mjs'),
    readFileSync(join(root, 'examples/install-one-package.mjs'), 'utf8'),
  );
  const example = run(process.execPath, ['install-one-package.mjs'], { cwd: app });
  const expected = '1 1 1 0 0 0\n1 1 1 0 0 0\n1 1 1 0 0 0\nmin cut 15.5\n';
  if (example !== expected)
    failures.push(`examples/install-one-package.mjs printed\n${example}expected\n${expected}`);
  try {
    run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
      cwd: app,
    });
  } catch (e) {
    failures.push(`tsc (NodeNext) in a fresh project:\n${e.stdout}${e.stderr}`);
  }
} catch (e) {
  failures.push(`${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
const secs = ((Date.now() - t0) / 1000).toFixed(1);
if (failures.length) {
  console.error(`pack-check: ${failures.length} problem(s) in ${secs} s\n${failures.join('\n\n')}`);
  process.exit(1);
}
console.log(
  `pack-check: ${packages.length} packages packed, installed outside the workspace, imported in ESM and CJS with types; publint and attw clean, LICENSE and fields present, npm publish --dry-run accepted (${secs} s)`,
);
