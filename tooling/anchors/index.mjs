// Builds the native anchor solvers of shared/bench/anchors once, into
// tooling/anchors/bin, with the flags of shared/bench/anchors/build.sh
// (max-flow and α-expansion: g++ -O2 -march=native -std=c++17, libmaxflow from
// pkg-config; the dense CRF: g++ -O3 -march=native -DNDEBUG against the
// vendored densecrf and Debian's Eigen 3). Every test and benchmark that
// compares against an anchor gets its binary here, so all of them measure the
// same build.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const binDir = process.env.SEG_ANCHORS_BIN ?? join(here, 'bin');

/**
 * The anchors: source file, the library they link (`maxflow`: Debian's
 * libmaxflow; `densecrf`: Krähenbühl & Koltun's densecrf vendored in
 * shared/bench/anchors/vendor, with Eigen 3) and, for `maxflow_bk17`, the flow
 * printed with 17 significant digits (the shipped one prints 9).
 */
const ANCHORS = {
  maxflow_bk: { source: 'maxflow_bk.cpp', lib: 'maxflow', edit: null },
  maxflow_bk17: {
    source: 'maxflow_bk.cpp',
    lib: 'maxflow',
    edit: ['\\"flow\\":%.9g', '\\"flow\\":%.17g'],
  },
  alpha_expansion_bk: { source: 'alpha_expansion_bk.cpp', lib: 'maxflow', edit: null },
  dense_crf_kk: { source: 'dense_crf_kk.cpp', lib: 'densecrf', edit: null },
};

/** The densecrf sources that dense_crf_kk links (build.sh's list). */
const DENSECRF_SOURCES = [
  'densecrf',
  'labelcompatibility',
  'objective',
  'pairwise',
  'permutohedral',
  'unary',
  'util',
];

/** The g++ arguments that build `cpp` into `bin` against the anchor's library. */
function compileArgs(lib, anchors, cpp, bin) {
  if (lib === 'densecrf') {
    const d = join(anchors, 'vendor', 'densecrf');
    return [
      '-O3',
      '-march=native',
      '-DNDEBUG',
      '-std=c++17',
      '-I/usr/include/eigen3',
      `-I${join(d, 'include')}`,
      `-I${join(d, 'src')}`,
      cpp,
      ...DENSECRF_SOURCES.map((s) => join(d, 'src', `${s}.cpp`)),
      '-o',
      bin,
    ];
  }
  return [
    '-O2',
    '-march=native',
    '-std=c++17',
    ...flags('--cflags'),
    cpp,
    '-o',
    bin,
    ...flags('--libs'),
  ];
}

/** What to install when an anchor of library `lib` does not build. */
const NEEDS = {
  maxflow: 'g++ and libmaxflow-dev: apt-get install -y libmaxflow-dev',
  densecrf: 'g++ and libeigen3-dev: apt-get install -y libeigen3-dev',
};

const flags = (which) =>
  execFileSync('pkg-config', [which, 'maxflow'], { encoding: 'utf8' })
    .trim()
    .split(/\s+/)
    .filter(Boolean);

/**
 * The path of an anchor binary, built from `<shared>/bench/anchors` if it is
 * not built yet; or `{ reason }` saying why it cannot be (no shared folder,
 * no g++, no libmaxflow-dev or libeigen3-dev), for the caller to print when it
 * skips.
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
    const anchors = join(shared, 'bench', 'anchors');
    execFileSync('g++', compileArgs(spec.lib, anchors, cpp, bin), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { path: bin };
  } catch (e) {
    return {
      reason: `${name} could not be built (needs ${NEEDS[spec.lib]}): ${String(e.message).split('\n')[0]}`,
    };
  }
}

/** The names {@link anchorBinary} knows. */
export const ANCHOR_NAMES = Object.keys(ANCHORS);
