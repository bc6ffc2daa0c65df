// Builds the native anchor solvers of shared/bench/anchors once, into
// tooling/anchors/bin, with the flags of shared/bench/anchors/build.sh
// (g++ -O2 -march=native -std=c++17, libmaxflow from pkg-config). Every test
// and benchmark that compares against an anchor gets its binary here, so all
// of them measure the same build.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const binDir = process.env.SEG_ANCHORS_BIN ?? join(here, 'bin');

/** The anchors: source file and, for `maxflow_bk17`, the flow printed with 17 significant digits (the shipped one prints 9). */
const ANCHORS = {
  maxflow_bk: { source: 'maxflow_bk.cpp', edit: null },
  maxflow_bk17: { source: 'maxflow_bk.cpp', edit: ['\\"flow\\":%.9g', '\\"flow\\":%.17g'] },
  alpha_expansion_bk: { source: 'alpha_expansion_bk.cpp', edit: null },
};

const flags = (which) =>
  execFileSync('pkg-config', [which, 'maxflow'], { encoding: 'utf8' })
    .trim()
    .split(/\s+/)
    .filter(Boolean);

/**
 * The path of an anchor binary, built from `<shared>/bench/anchors` if it is
 * not built yet; or `{ reason }` saying why it cannot be (no shared folder,
 * no g++, no libmaxflow-dev), for the caller to print when it skips.
 */
export function anchorBinary(shared, name) {
  const spec = ANCHORS[name];
  if (!spec)
    throw new Error(
      `anchorBinary: name is ${JSON.stringify(name)}, expected one of ${Object.keys(ANCHORS).join(', ')}`,
    );
  const bin = join(binDir, name);
  if (existsSync(bin)) return { path: bin };
  if (!shared) return { reason: 'no shared/ folder on this machine' };
  try {
    let src = readFileSync(join(shared, 'bench', 'anchors', spec.source), 'utf8');
    if (spec.edit) {
      if (!src.includes(spec.edit[0]))
        throw new Error(`${spec.source} no longer prints ${spec.edit[0]}`);
      src = src.replace(spec.edit[0], spec.edit[1]);
    }
    mkdirSync(binDir, { recursive: true });
    const cpp = join(binDir, `${name}.cpp`);
    writeFileSync(cpp, src);
    execFileSync(
      'g++',
      [
        '-O2',
        '-march=native',
        '-std=c++17',
        ...flags('--cflags'),
        cpp,
        '-o',
        bin,
        ...flags('--libs'),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    return { path: bin };
  } catch (e) {
    return {
      reason: `${name} could not be built (needs g++ and libmaxflow-dev: apt-get install -y libmaxflow-dev): ${String(e.message).split('\n')[0]}`,
    };
  }
}

/** The names {@link anchorBinary} knows. */
export const ANCHOR_NAMES = Object.keys(ANCHORS);
