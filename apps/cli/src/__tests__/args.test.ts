import { expectThrow } from '@seg/tensor/testing';
import { describe, expect, it } from 'vitest';
import {
  bytesOption,
  choiceOption,
  integerOption,
  numberOption,
  parseArgs,
  stringOption,
  UsageError,
} from '../args.js';

describe('parseArgs (node:util, strict)', () => {
  it('splits positionals, options and flags', () => {
    const a = parseArgs(['segment', 'img.png', '--scribbles', 's.png', '--lambda=20', '--help']);
    expect(a.positionals).toEqual(['segment', 'img.png']);
    expect(stringOption(a, 'scribbles')).toBe('s.png');
    expect(numberOption(a, 'lambda', 50)).toBe(20);
    expect(integerOption(a, 'seed', 1, 0, 2 ** 32 - 1)).toBe(1);
    expect(a.options.get('help')).toBe(true);
    expect(parseArgs(['-h']).options.get('help')).toBe(true);
    expect(parseArgs(['segment', '--', '--odd.png']).positionals).toEqual(['segment', '--odd.png']);
  });

  it('refuses unknown options, missing or ambiguous values, values on flags, repeats', () => {
    const known =
      '(the options are --scribbles, --mask, --out, --method, --lambda, --seed, --backend, --max-pixels, --max-memory, --force, --data, --workers, --shard, --part, --json, --csv, --quick, --quiet, --help, --version)';
    expectThrow(
      () => parseArgs(['--lamda', '1000']),
      UsageError,
      `seg: unknown option --lamda ${known}`,
    );
    expectThrow(
      () => parseArgs(['--frobnicate', 'x']),
      UsageError,
      `seg: unknown option --frobnicate ${known}`,
    );
    expectThrow(() => parseArgs(['-x']), UsageError, `seg: unknown option -x ${known}`);
    expectThrow(() => parseArgs(['--out']), UsageError, 'seg: option --out needs a value');
    expectThrow(
      () => parseArgs(['--out', '--force']),
      UsageError,
      'seg: option --out needs a value',
    );
    expectThrow(() => parseArgs(['--force=yes']), UsageError, 'seg: --force takes no value');
    expectThrow(
      () => parseArgs(['--lambda', '1', '--lambda', '2']),
      UsageError,
      'seg: --lambda is given twice',
    );
  });

  it('refuses empty values and malformed numbers instead of a silent default or truncation', () => {
    const p = (...a: string[]) => parseArgs(a);
    expectThrow(
      () => numberOption(p('--lambda='), 'lambda', 5, 0),
      UsageError,
      'seg: --lambda is empty, expected a value',
    );
    for (const bad of ['ten', '0x10', '1e', ' 5', 'Infinity', 'NaN', '1,5', '-1']) {
      expectThrow(
        () => numberOption(p(`--lambda=${bad}`), 'lambda', 5, 0, 1e30),
        UsageError,
        `seg: --lambda is ${JSON.stringify(bad)}, expected a number ≥ 0 and ≤ 1e+30`,
      );
    }
    expect(numberOption(p('--lambda=.5e2'), 'lambda', 5, 0)).toBe(50);
    for (const bad of ['1.5', '4294967297', '-1', '1e100']) {
      expectThrow(
        () => integerOption(p(`--seed=${bad}`), 'seed', 1, 0, 2 ** 32 - 1),
        UsageError,
        `seg: --seed is ${JSON.stringify(bad)}, expected an integer in [0, 4294967295]`,
      );
    }
    expect(integerOption(p('--max-pixels', '25e6'), 'max-pixels', 1, 1, 1e15)).toBe(25_000_000);
    // byte counts: plain, exponent, decimal and binary units (any case)
    const bytes = (v: string) => bytesOption(p(`--max-memory=${v}`), 'max-memory', 7);
    expect(bytesOption(p(), 'max-memory', 7)).toBe(7);
    expect(['4294967296', '4e9', '6GB', '6 gb', '512MiB', '1.5GiB', '2kb'].map(bytes)).toEqual([
      4294967296,
      4e9,
      6e9,
      6e9,
      512 * 2 ** 20,
      1.5 * 2 ** 30,
      2000,
    ]);
    for (const bad of ['0', '-1GB', '12XB', 'GB', '1e400', '0.5', 'constructor', '4 G B']) {
      expectThrow(
        () => bytes(bad),
        UsageError,
        `seg: --max-memory is ${JSON.stringify(bad)}, expected a number of bytes ≥ 1, optionally with a unit (e.g. 4e9, 6GB, 512MiB)`,
      );
    }
    expectThrow(
      () => choiceOption(p('--method', 'adn'), 'method', ['adm', 'graphcut'], 'adm'),
      UsageError,
      'seg: --method is "adn", expected one of adm, graphcut',
    );
  });
});
