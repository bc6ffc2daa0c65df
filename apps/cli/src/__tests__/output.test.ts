import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGray } from '@seg/tensor/node';
import { expectThrow } from '@seg/tensor/testing';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../args.js';
import { prepareOutput, saveMask } from '../output.js';

const mask = { width: 3, height: 2, data: Uint8Array.from([0, 255, 0, 255, 0, 255]) };

describe('prepareOutput (before the run)', () => {
  it('accepts a new file in a folder it makes, and leaves no probe behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seg-out-'));
    expect(prepareOutput(join(dir, 'a/b/m.PNG'), [], false)).toBe(join(dir, 'a/b/m.PNG'));
    expect(readdirSync(join(dir, 'a/b'))).toEqual([]);
  });

  it('refuses a folder, and an input reached through a symlink unless force', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seg-out-'));
    mkdirSync(join(dir, 'd.png'));
    expectThrow(
      () => prepareOutput(join(dir, 'd.png'), [], false),
      UsageError,
      `seg segment: --out ${JSON.stringify(join(dir, 'd.png'))} is a folder, expected a file name`,
    );
    const input = join(dir, 'in.png');
    writeFileSync(input, 'x');
    symlinkSync(input, join(dir, 'alias.png'));
    expectThrow(
      () => prepareOutput(join(dir, 'alias.png'), [{ what: '--mask', path: input }], false),
      UsageError,
      `seg segment: --out ${JSON.stringify(join(dir, 'alias.png'))} is --mask (${input}), which the mask would overwrite; choose another --out, or pass --force`,
    );
    expect(prepareOutput(join(dir, 'alias.png'), [{ what: '--mask', path: input }], true)).toBe(
      join(dir, 'alias.png'),
    );
  });
});

describe('saveMask (after the run): the result is never lost', () => {
  it('writes to --out when it can', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seg-save-'));
    expect(saveMask(join(dir, 'm.png'), mask)).toEqual({ path: join(dir, 'm.png') });
    expect(readGray(join(dir, 'm.png'))).toEqual(mask);
  });

  it('when --out became unwritable during the run, saves to the fallback folder and says where', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seg-save-'));
    writeFileSync(join(dir, 'gone'), 'a file where the output folder was');
    const fallbackDir = mkdtempSync(join(tmpdir(), 'seg-fallback-'));
    const r = saveMask(join(dir, 'gone/m.png'), mask, fallbackDir);
    expect(r.path).toMatch(new RegExp(`^${fallbackDir}/seg-m-\\d+-\\d+\\.png$`));
    expect(readGray(r.path!)).toEqual(mask);
    expect(r.problem).toBe(
      `seg segment: could not write the mask to ${join(dir, 'gone/m.png')} (writeImage: cannot make the folder ${join(dir, 'gone')}: ${join(dir, 'gone')} is a file, not a folder); it was saved to ${r.path} instead`,
    );
    const lost = saveMask(join(dir, 'gone/m.png'), mask, join(dir, 'gone'));
    expect(lost.path).toBeNull();
    expect(lost.problem).toMatch(/; the mask is lost$/);
  });
});
