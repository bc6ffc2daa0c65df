// The built `seg` command, run as a user runs it (plain node, no vitest transform).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGray } from '@seg/tensor/node';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../../', import.meta.url).pathname;
const seg = join(root, 'apps/cli/dist/seg.js');
const sample = (dir: string, name: string) => join(root, 'samples/grabcut', dir, `${name}.png`);

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
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('seg segment: --scribbles is missing');
    const m = spawnSync(
      process.execPath,
      [seg, 'segment', sample('images', 'teddy'), '--scribbles', sample('scribbles-1', 'llama')],
      { encoding: 'utf8' },
    );
    expect(m.status).toBe(1);
    expect(m.stderr).toContain('seg segment: the scribbles are 513×371, expected the image');
    const u = spawnSync(process.execPath, [seg, 'frobnicate'], { encoding: 'utf8' });
    expect(u.stderr).toContain('seg: unknown command "frobnicate"');
  });
});
