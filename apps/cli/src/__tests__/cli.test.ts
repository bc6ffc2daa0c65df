// The built `seg` command, run as a user runs it (plain node, no vitest transform).
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng, readGray } from '@seg/tensor/node';
import { beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../../../../', import.meta.url).pathname;
const seg = join(root, 'apps/cli/dist/seg.js');
const sample = (dir: string, name: string) => join(root, 'samples/grabcut', dir, `${name}.png`);

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI without blocking, so independent probes overlap. */
function run(args: string[], timeout = 60_000): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [seg, ...args],
      { encoding: 'utf8', timeout },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
        done({ status: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

describe.skipIf(!existsSync(seg))('seg (built CLI)', () => {
  it('reports the backend', () => {
    const out = execFileSync(process.execPath, [seg, 'info'], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ backend: 'wasm', simd: true, threads: 1 });
  });

  it('segments a bundled sample by graph cut, writes the mask and prints the IoU', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'seg-cli-')), 'teddy.png');
    const stdout = execFileSync(
      process.execPath,
      [
        seg,
        'segment',
        sample('images', 'teddy'),
        '--scribbles',
        sample('scribbles-1', 'teddy'),
        '--mask',
        sample('masks', 'teddy'),
        '--method',
        'graphcut',
        '--out',
        out,
      ],
      { encoding: 'utf8' },
    );
    const iou = Number(/object IoU against .*: (\d\.\d+)/.exec(stdout)?.[1]);
    expect(iou).toBeGreaterThan(0.9);
    const mask = readGray(out);
    expect(new Set(mask.data)).toEqual(new Set([0, 255]));
  });

  it('says what is wrong with bad arguments', () => {
    const r = spawnSync(process.execPath, [seg, 'segment', sample('images', 'teddy')], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('seg segment: --scribbles is missing');
    const m = spawnSync(
      process.execPath,
      [seg, 'segment', sample('images', 'teddy'), '--scribbles', sample('scribbles-1', 'llama')],
      { encoding: 'utf8' },
    );
    expect(m.status).toBe(2);
    expect(m.stderr).toContain('seg segment: the scribbles are 513×371, expected the image');
    const u = spawnSync(process.execPath, [seg, 'frobnicate'], { encoding: 'utf8' });
    expect(u.stderr).toContain('seg: unknown command "frobnicate"');
  });
});

/**
 * Issue 17's probes, on a tiny synthetic image (32×24, low contrast, so that
 * at large λ every cut is expensive): each was silent garbage, a hang or
 * lost data, and is now a clear error or a correct result.
 */
describe.skipIf(!existsSync(seg))('seg (built CLI): issue 17 probes', () => {
  const W = 32;
  const H = 24;
  let dir = '';
  let image = '';
  let scribbles = '';
  let mask = '';
  const objectSeeds: number[] = [];
  const backgroundSeeds: number[] = [];
  const inDisc = (x: number, y: number) => (x - 16) ** 2 + (y - 12) ** 2 < 49;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'seg-probe-'));
    const rgb = new Uint8Array(W * H * 3);
    const scr = new Uint8Array(W * H);
    const gt = new Uint8Array(W * H);
    let s = 7;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = y * W + x;
        s = (s * 1103515245 + 12345) >>> 0;
        const noise = (s >>> 24) % 9;
        const obj = inDisc(x, y);
        rgb.set(obj ? [150 + noise, 110, 100] : [120 + noise, 120, 110], p * 3);
        gt[p] = obj ? 255 : 0;
        if (y === 12 && x >= 13 && x <= 19) {
          scr[p] = 1;
          objectSeeds.push(p);
        } else if (x === 1 || y === 1) {
          scr[p] = 2;
          backgroundSeeds.push(p);
        }
      }
    }
    image = join(dir, 'image.png');
    scribbles = join(dir, 'scribbles.png');
    mask = join(dir, 'mask.png');
    writeFileSync(image, encodePng({ width: W, height: H, data: rgb }));
    writeFileSync(scribbles, encodePng({ width: W, height: H, data: scr }));
    writeFileSync(mask, encodePng({ width: W, height: H, data: gt }));
  });

  const base = () => ['segment', image, '--scribbles', scribbles];
  const fast = ['--method', 'graphcut'];

  it('argument errors: unknown options, extra positionals, empty values, malformed numbers', async () => {
    const known =
      '(the options are --scribbles, --mask, --out, --force, --method, --lambda, --seed, --backend, --max-pixels, --max-memory, --workers, --shard, --part, --json, --quiet, --help)';
    const cases: [string[], string][] = [
      [['--lamda', '1000'], `seg segment: unknown option --lamda ${known}`],
      [['--frobnicate', 'x'], `seg segment: unknown option --frobnicate ${known}`],
      [['extra.png'], 'seg segment: expected one IMAGE, got 2 arguments'],
      [['--lambda='], 'seg: --lambda is empty, expected a value'],
      [['--seed', '1.5'], 'seg: --seed is "1.5", expected an integer in [0, 4294967295]'],
      [
        ['--seed', '4294967297'],
        'seg: --seed is "4294967297", expected an integer in [0, 4294967295]',
      ],
      [['--lambda', '1e31'], 'seg: --lambda is "1e31", expected a number ≥ 0 and ≤ 1e+30'],
      [['--method', 'graphcat'], 'seg: --method is "graphcat", expected one of adm, graphcut'],
      [['--out', join(dir, 'o.png'), '--out', join(dir, 'p.png')], 'seg: --out is given twice'],
    ];
    const runs = await Promise.all(cases.map(([extra]) => run([...base(), ...extra])));
    runs.forEach((r, i) => {
      expect(r.status).toBe(2); // usage
      expect(r.stderr).toContain(cases[i]![1]);
      expect(r.stdout).not.toContain('segmented');
    });
    const info = await run(['info', 'now']);
    expect(info.stderr).toContain('seg info: takes no arguments, got now');
  });

  it('output path errors come before any work: /proc (was a hang), no extension, .bmp, a parent that is a file', async () => {
    writeFileSync(join(dir, 'a-file'), 'x');
    const cases: [string, string][] = [
      [
        '/proc/nope/x.png',
        "seg segment: cannot make the folder /proc/nope (ENOENT: no such file or directory, mkdir '/proc/nope')",
      ],
      [join(dir, 'mask'), 'has no extension, expected a .png, .jpg or .jpeg file'],
      [join(dir, 'mask.bmp'), 'has the extension .bmp, expected a .png, .jpg or .jpeg file'],
      [join(dir, 'a-file/x.png'), `${join(dir, 'a-file')} is a file, not a folder`],
      [dir.concat('/'), 'has no extension'],
    ];
    const t0 = performance.now();
    const runs = await Promise.all(cases.map(([out]) => run([...base(), '--out', out], 20_000)));
    runs.forEach((r, i) => {
      expect(r.status).toBe(2); // a bad --out is a usage error
      expect(r.stderr).toContain(cases[i]![1]);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toContain('backend:'); // not even the backend line: nothing ran
    });
    expect(performance.now() - t0).toBeLessThan(20_000);
  });

  it('refuses --out equal to an input (also through a symlink); --force with --out = --mask scores the original mask', async () => {
    const link = join(dir, 'link.png');
    if (!existsSync(link)) symlinkSync(image, link);
    const cases: [string, string][] = [
      [image, `is the image (${image})`],
      [scribbles, `is --scribbles (${scribbles})`],
      [link, `is the image (${image})`],
    ];
    const runs = await Promise.all(
      cases.map(([out]) => run([...base(), ...fast, '--mask', mask, '--out', out])),
    );
    runs.forEach((r, i) => {
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(cases[i]![1]);
      expect(r.stderr).toContain('choose another --out, or pass --force');
    });
    expect(readGray(image).width).toBe(W); // untouched
    // a ground truth that disagrees with the result: scored as read, it gives IoU 0; scoring the
    // overwritten file (the result itself) would have given 1
    const copy = join(dir, 'mask-copy.png');
    const wrong = new Uint8Array(W * H);
    for (let y = 0; y < 4; y++) for (let x = 26; x < 30; x++) wrong[y * W + x] = 255;
    writeFileSync(copy, encodePng({ width: W, height: H, data: wrong }));
    const forced = await run([...base(), ...fast, '--mask', copy, '--out', copy, '--force']);
    expect(forced.status).toBe(0);
    expect(forced.stdout).toContain(`object IoU against ${copy}: 0.0000`);
    expect(readGray(copy).data[12 * W + 16]).toBe(255); // overwritten by the result, as asked
  });

  it('scribbles outside {0, 1, 2} and masks not coded 0/255 or 0/1 are refused; a 0/1 mask is scored', async () => {
    const s255 = join(dir, 's255.png');
    writeFileSync(
      s255,
      encodePng({ width: W, height: H, data: readGray(scribbles).data.map((v) => (v ? 255 : 0)) }),
    );
    const m01 = join(dir, 'm01.png');
    writeFileSync(
      m01,
      encodePng({ width: W, height: H, data: readGray(mask).data.map((v) => (v ? 1 : 0)) }),
    );
    const mBad = join(dir, 'mbad.png');
    writeFileSync(
      mBad,
      encodePng({ width: W, height: H, data: readGray(mask).data.map((v) => (v ? 200 : 7)) }),
    );
    const [a, b, c, d] = await Promise.all([
      run(['segment', image, '--scribbles', s255, '--out', join(dir, 'o1.png')]),
      run([...base(), ...fast, '--mask', mBad, '--out', join(dir, 'o2.png')]),
      run([...base(), ...fast, '--mask', m01, '--out', join(dir, 'o3.png')]),
      run([...base(), ...fast, '--mask', mask, '--out', join(dir, 'o4.png')]),
    ]);
    expect(a.stderr).toContain(
      `readScribbles: ${s255} has the values 255 (${objectSeeds.length + backgroundSeeds.length} px) outside {0, 1, 2}, expected a scribble map coded 0 unlabelled, 1 object, 2 background`,
    );
    expect(a.stdout).toBe('');
    expect(b.stderr).toContain(`readMask: ${mBad} has the values 7, 200, expected a mask coded`);
    expect(b.stdout).toBe('');
    const iou = (r: Run) => /object IoU against .*: (\d\.\d+)/.exec(r.stdout)?.[1];
    expect(iou(c)).toBe(iou(d)); // the 0/1 mask scores as its 0/255 twin
  });

  it('--max-pixels: the pixel budget, checked from the header', async () => {
    const r = await run([...base(), '--max-pixels', '700', '--out', join(dir, 'o5.png')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      'readImage: the PNG declares 32×24 = 0.000768 MP, over the pixel budget of 0.0007 MP (options.maxPixels = 700)',
    );
  });

  it('--max-memory: the memory budget, checked from the image size before the run (exit status 2)', async () => {
    const out = join(dir, 'o6.png');
    const [small, bad, enough] = await Promise.all([
      run([...base(), ...fast, '--max-memory', '100MB', '--out', out]),
      run([...base(), ...fast, '--max-memory', '12XB', '--out', out]),
      run([...base(), ...fast, '--max-memory', '2GB', '--out', join(dir, 'o7.png')]),
    ]);
    expect(small.status).toBe(2);
    expect(small.stderr).toContain(
      'seg segment: a 32×24 image (0.000768 MP) by graphcut needs about 0.25 GB (225 bytes a pixel + 0.25 GB), over the memory budget of 0.1 GB (--max-memory 100000000); raise --max-memory (e.g. --max-memory 1GB) if the machine has the memory, or segment a smaller image',
    );
    expect(small.stderr).not.toContain('backend:'); // refused before the run
    expect(existsSync(out)).toBe(false);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('seg: --max-memory is "12XB", expected a number of bytes ≥ 1');
    expect(enough.status).toBe(0);
  });

  it('hard scribbles hold at graph cut λ 1e12 and ADM λ 1e15 (were all flipped)', async () => {
    const outs = [join(dir, 'gc.png'), join(dir, 'adm.png')];
    const [gc, adm] = await Promise.all([
      run([...base(), ...fast, '--lambda', '1e12', '--out', outs[0]!]),
      run([...base(), '--lambda', '1e15', '--out', outs[1]!], 120_000),
    ]);
    expect([gc.status, adm.status]).toEqual([0, 0]);
    for (const out of outs) {
      const m = readGray(out).data;
      expect(objectSeeds.map((p) => m[p])).toEqual(objectSeeds.map(() => 255));
      expect(backgroundSeeds.map((p) => m[p])).toEqual(backgroundSeeds.map(() => 0));
    }
    // no temporary files left beside the outputs
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp') || f.endsWith('.probe'))).toEqual([]);
  }, 150_000);
});
