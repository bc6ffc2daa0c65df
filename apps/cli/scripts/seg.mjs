// `npx -y pnpm@10.34.8 seg <args>` from the repository root (the root package.json's
// `seg` script): brings the built CLI up to date (turbo, cached: about a second
// when nothing changed; its output is shown only if the build fails), then runs
// it with the arguments, passing its exit status on.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const local = join(
  root,
  'node_modules',
  '.bin',
  process.platform === 'win32' ? 'turbo.cmd' : 'turbo',
);
const build = spawnSync(
  existsSync(local) ? local : 'turbo',
  ['run', 'build', '--filter=@seg/cli...', '--output-logs=errors-only', '--log-prefix=none'],
  { cwd: root, encoding: 'utf8', shell: process.platform === 'win32' },
);
if (build.error || build.status !== 0) {
  process.stderr.write(build.stdout ?? '');
  process.stderr.write(build.stderr ?? '');
  process.stderr.write(
    `seg: building the CLI failed (${build.error?.message ?? `turbo exit status ${build.status}`}); see above\n`,
  );
  process.exit(1);
}
const seg = fileURLToPath(new URL('../dist/seg.js', import.meta.url));
const run = spawnSync(process.execPath, [seg, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(run.status ?? 1);
