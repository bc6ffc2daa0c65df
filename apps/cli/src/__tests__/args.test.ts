import { describe, expect, it } from 'vitest';
import { numberOption, parseArgs } from '../args.js';

describe('parseArgs', () => {
  it('splits positionals, options and flags', () => {
    const a = parseArgs(
      ['segment', 'img.png', '--scribbles', 's.png', '--lambda=20', '--help'],
      ['help'],
    );
    expect(a.positionals).toEqual(['segment', 'img.png']);
    expect(a.options.get('scribbles')).toBe('s.png');
    expect(numberOption(a, 'lambda', 50)).toBe(20);
    expect(numberOption(a, 'seed', 1)).toBe(1);
    expect(a.options.get('help')).toBe(true);
  });

  it('says what is wrong', () => {
    expect(() => parseArgs(['--out'])).toThrow('seg: option --out needs a value');
    expect(() => numberOption(parseArgs(['--lambda', 'ten']), 'lambda', 1)).toThrow(
      'seg: --lambda is "ten", expected a number',
    );
  });
});
