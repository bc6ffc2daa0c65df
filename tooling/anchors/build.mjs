#!/usr/bin/env node
// Builds every anchor, or the ones named (installing Debian's libmaxflow-dev
// and libeigen3-dev first when they are missing and this is root with
// apt-get): `node tooling/anchors/build.mjs [maxflow_bk17 alpha_expansion_bk ...]`.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ANCHOR_NAMES, anchorBinary } from './index.mjs';

const shared =
  process.env.SEG_SHARED ?? resolve(fileURLToPath(new URL('../../../shared', import.meta.url)));
const hasLib = () => {
  try {
    execSync('pkg-config --exists maxflow');
    return true;
  } catch {
    return false;
  }
};
const missing = [
  ...(hasLib() ? [] : ['libmaxflow-dev']),
  ...(existsSync('/usr/include/eigen3') ? [] : ['libeigen3-dev']),
];
if (missing.length > 0 && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
  execSync(`apt-get update -qq && apt-get install -y -qq ${missing.join(' ')}`, {
    stdio: 'ignore',
  });
}
// `node tooling/anchors/build.mjs [NAME ...]`: only those (default: every anchor)
const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ANCHOR_NAMES;
let failed = 0;
for (const name of names) {
  const r = anchorBinary(existsSync(shared) ? shared : null, name);
  console.log(r.path ? `built ${r.path}` : `not built: ${r.reason}`);
  if (!r.path) failed++;
}
process.exit(failed ? 1 : 0);
