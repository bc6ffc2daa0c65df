// The conventions (help, version, exit codes, stdout / stderr), folder runs,
// eval, and sharding, on the built CLI with a tiny GrabCut-like folder made here.
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng, readGray } from '@seg/tensor/node';
import { beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../../../../', import.meta.url).pathname;
const seg = join(root, 'apps/cli/dist/seg.js');
const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [seg, ...args],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
        done({ status: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

const lastLine = (s: string) => s.trim().split('\n').at(-1)!;

/** A GrabCut-like folder of `n` tiny images: a disc of another colour, scribbled on both sides. */
function makeData(dir: string, n: number): void {
  const W = 24;
  const H = 18;
  for (const sub of ['images', 'masks', 'scribbles-1'])
    mkdirSync(join(dir, sub), { recursive: true });
  for (let k = 0; k < n; k++) {
    const rgb = new Uint8Array(W * H * 3);
    const scr = new Uint8Array(W * H);
    const gt = new Uint8Array(W * H);
    const cx = 9 + k;
    let s = 11 + k;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = y * W + x;
        s = (s * 1103515245 + 12345) >>> 0;
        const noise = (s >>> 24) % 40;
        const obj = (x - cx) ** 2 + (y - 9) ** 2 < 20 + 4 * k;
        rgb.set(obj ? [170 + noise, 90, 80] : [90 + noise, 120, 130], p * 3);
        gt[p] = obj ? 255 : 0;
        if (y === 9 && Math.abs(x - cx) <= 1) scr[p] = 1;
        else if (x === 0 || y === 0) scr[p] = 2;
      }
    }
    const name = `img${k}`;
    writeFileSync(
      join(dir, 'images', `${name}.png`),
      encodePng({ width: W, height: H, data: rgb }),
    );
    writeFileSync(join(dir, 'masks', `${name}.png`), encodePng({ width: W, height: H, data: gt }));
    writeFileSync(
      join(dir, 'scribbles-1', `${name}.png`),
      encodePng({ width: W, height: H, data: scr }),
    );
  }
}

describe.skipIf(!existsSync(seg))('seg conventions (built CLI)', () => {
  it('--version, -h per command, seg help [cmd], exit status 2 on usage errors', async () => {
    const [v, h, sh, he, hm, hi, none, unknown, badHelp, hb, badBench] = await Promise.all([
      run(['--version']),
      run(['-h']),
      run(['segment', '-h']),
      run(['help', 'eval']),
      run(['merge', '--help']),
      run(['help', 'info']),
      run([]),
      run(['frobnicate']),
      run(['help', 'nope']),
      run(['bench', '-h']),
      run(['bench', 'nope', '--quick']),
    ]);
    expect([v.status, v.stdout]).toEqual([0, `seg ${version}\n`]);
    expect(h.status).toBe(0);
    expect(h.stdout).toContain('commands:');
    expect(sh.stdout).toMatch(/^usage: seg segment IMAGE/);
    expect(sh.stdout).toContain('default 25000000');
    expect(he.stdout).toMatch(/^usage: seg eval --data DIR/);
    expect(hm.stdout).toMatch(/^usage: seg merge/);
    expect(hi.stdout).toMatch(/^usage: seg info/);
    for (const r of [sh, he, hm, hi]) expect([r.status, r.stderr]).toEqual([0, '']);
    expect([none.status, unknown.status, badHelp.status]).toEqual([2, 2, 2]);
    expect(none.stderr).toContain('seg: no command given');
    expect(unknown.stderr).toContain('seg: unknown command "frobnicate", expected one of');
    expect(badHelp.stderr).toContain('seg help: "nope" is not a command');
    expect(hb.stdout).toMatch(/^usage: seg bench \[PACKAGE…\]/);
    expect(badBench.status).toBe(2);
    expect(badBench.stderr).toContain(
      'seg bench: no package "nope" with a benchmark, expected one of crf-solvers, dense-conv, losses, optim-adm, path-sgd, tensor',
    );
  });
});

describe.skipIf(!existsSync(seg))('seg eval, segment DIR, shards and merge (built CLI)', () => {
  let dir = '';
  let data = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'seg-eval-'));
    data = join(dir, 'data');
    makeData(data, 4);
  });
  const evalArgs = () => ['eval', '--data', data, '--method', 'graphcut', '--workers', '1'];
  // the unsharded run, shared by the tests below (each process loads TensorFlow.js twice: keep them few)
  let unsharded: Promise<Run> | undefined;
  const wholeRun = () => {
    unsharded ??= run([...evalArgs(), '--json']);
    return unsharded;
  };

  it('folders where files are expected (and the reverse) are clear usage errors, not EISDIR', async () => {
    const img = join(data, 'images/img0.png');
    const [a, b, c, d] = await Promise.all([
      run(['segment', img, '--scribbles', join(data, 'scribbles-1')]),
      run(['segment', join(data, 'images'), '--scribbles', join(data, 'scribbles-1/img0.png')]),
      run(['eval', '--data', img]),
      run([...evalArgs(), '--part', join(dir, 'part.txt')]),
    ]);
    expect(a.status).toBe(2);
    expect(a.stderr).toContain(
      `--scribbles "${join(data, 'scribbles-1')}" is a folder, expected an image file`,
    );
    expect(b.status).toBe(2);
    expect(b.stderr).toContain('is a file, expected a folder');
    expect(c.status).toBe(2);
    expect(c.stderr).toContain(`--data "${img}" is a file, expected a folder`);
    for (const r of [a, b, c]) expect(r.stderr).not.toContain('EISDIR');
    // --part is checked before the run
    expect([d.status, d.stdout]).toEqual([2, '']);
    expect(d.stderr).toContain(
      `seg eval: --part "${join(dir, 'part.txt')}" is not a .json file name`,
    );
  });

  it('eval: a table, --csv, --json (last line), progress on stderr, --quiet; 3 shards merge to the unsharded run', async () => {
    const parts = [0, 1, 2].map((i) => join(dir, `part-${i}.json`));
    const [csv, json, ...shards] = await Promise.all([
      run([...evalArgs(), '--csv', '--quiet']),
      wholeRun(),
      // the shard from the Indexed Job's variables for two of them, --shard for the third
      run([...evalArgs(), '--json', '--quiet', '--part', parts[0]!], {
        JOB_COMPLETION_INDEX: '0',
        JOB_COMPLETIONS: '3',
      }),
      run([...evalArgs(), '--json', '--quiet', '--part', parts[1]!], {
        JOB_COMPLETION_INDEX: '1',
        JOB_COMPLETIONS: '3',
      }),
      run([...evalArgs(), '--json', '--quiet', '--shard', '2/3', '--part', parts[2]!]),
    ]);
    for (const r of [csv, json, ...shards]) expect(r.status).toBe(0);
    const whole = JSON.parse(lastLine(json.stdout));
    expect(whole.images.map((i: { name: string }) => i.name)).toEqual([
      'img0',
      'img1',
      'img2',
      'img3',
    ]);
    const ious = whole.images.map((i: { iou: number }) => i.iou);
    expect(Math.min(...ious)).toBeGreaterThan(0.5);
    expect(whole.meanIoU).toBeCloseTo(ious.reduce((a: number, b: number) => a + b, 0) / 4, 12);
    expect(json.stdout.trim().split('\n')).toHaveLength(1); // results only on stdout
    expect(json.stderr).toContain('[4/4]'); // progress on stderr
    expect(csv.stdout.split('\n')[0]).toBe('name,iou');
    expect(lastLine(csv.stdout)).toBe(`mean,${whole.meanIoU}`);
    expect(csv.stderr).toBe(''); // --quiet
    // shard i holds images i, i + 3, …
    expect(shards.map((r) => JSON.parse(lastLine(r.stdout)).images.length)).toEqual([2, 1, 1]);
    const merged = await run(['merge', ...parts, '--json']);
    expect(merged.status).toBe(0);
    expect(JSON.parse(lastLine(merged.stdout))).toEqual(whole);
    // saved stdout works as a part too; a missing or doubled shard is refused
    const saved = join(dir, 'stdout-0.txt');
    writeFileSync(saved, shards[0]!.stdout);
    const [table, fromStdout, missing, twice] = await Promise.all([
      run(['merge', ...parts]),
      run(['merge', saved, parts[1]!, parts[2]!, '--json']),
      run(['merge', parts[0]!, parts[2]!]),
      run(['merge', parts[0]!, parts[0]!, parts[1]!, parts[2]!]),
    ]);
    expect(table.stdout).toContain(`mean IoU over 4 images: ${whole.meanIoU.toFixed(4)}`);
    expect(JSON.parse(lastLine(fromStdout.stdout))).toEqual(whole);
    expect([missing.status, twice.status]).toEqual([1, 1]);
    expect(missing.stderr).toContain('seg merge: shards 1/3 are missing, expected all 3');
    expect(twice.stderr).toContain('seg merge: shard 0/3 is given twice');
  }, 60_000);

  it('segment DIR writes a folder of masks (sharded too) with the IoU of eval', async () => {
    const out = join(dir, 'masks-out');
    const common = [
      'segment',
      join(data, 'images'),
      '--scribbles',
      join(data, 'scribbles-1'),
      '--mask',
      join(data, 'masks'),
      '--method',
      'graphcut',
      '--workers',
      '1',
      '--out',
      out,
      '--json',
    ];
    const [a, b, whole] = await Promise.all([
      run([...common, '--shard', '0/2', '--part', join(dir, 'seg-0.json')]),
      run([...common, '--shard', '1/2', '--part', join(dir, 'seg-1.json')]),
      wholeRun(),
    ]);
    expect([a.status, b.status]).toEqual([0, 0]);
    expect(readdirSync(out).sort()).toEqual(['img0.png', 'img1.png', 'img2.png', 'img3.png']);
    expect(new Set(readGray(join(out, 'img0.png')).data)).toEqual(new Set([0, 255]));
    const merged = await run(['merge', join(dir, 'seg-0.json'), join(dir, 'seg-1.json'), '--json']);
    expect(JSON.parse(lastLine(merged.stdout)).meanIoU).toBe(
      JSON.parse(lastLine(whole.stdout)).meanIoU,
    );
  }, 60_000);
});
