/**
 * Argument parsing for `seg`: node:util's parseArgs in strict mode (unknown
 * options, missing values and repeated options are errors), plus strict
 * number parsing (an empty value, `1.5` for an integer, or a seed past
 * 2³² − 1 is an error, never a silent default or truncation).
 */
import { parseArgs as nodeParseArgs } from 'node:util';

/** The options `seg` knows, by name: a value, or a flag. */
export const OPTIONS = {
  scribbles: { type: 'string' },
  mask: { type: 'string' },
  out: { type: 'string' },
  method: { type: 'string' },
  lambda: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  'max-pixels': { type: 'string' },
  'max-memory': { type: 'string' },
  force: { type: 'boolean' },
  data: { type: 'string' },
  workers: { type: 'string' },
  shard: { type: 'string' },
  part: { type: 'string' },
  json: { type: 'boolean' },
  csv: { type: 'boolean' },
  quick: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

export type OptionName = keyof typeof OPTIONS;

/** What the command line says: positionals and the options given (each at most once). */
export interface ParsedArgs {
  positionals: string[];
  options: Map<OptionName, string | true>;
}

/** An error in the command line; `seg` prints its message and exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const names = Object.keys(OPTIONS) as OptionName[];

/**
 * The command of a command line (its first positional), found by a lenient
 * pass, so that the strict parse can know that command's options.
 */
export function commandOf(argv: readonly string[]): string | undefined {
  try {
    return nodeParseArgs({
      args: [...argv],
      options: OPTIONS,
      strict: false,
      allowPositionals: true,
    }).positionals[0];
  } catch {
    return undefined;
  }
}

/**
 * Parses argv strictly: `--name value`, `--name=value`, `--flag`, positionals.
 * Only the options in `known` are accepted (default: all); `command` names
 * the command in messages.
 */
export function parseArgs(
  argv: readonly string[],
  known: readonly OptionName[] = names,
  command?: string,
): ParsedArgs {
  let tokens: ReturnType<typeof nodeParseArgs>['tokens'];
  const options = Object.fromEntries(known.map((n) => [n, OPTIONS[n]]));
  try {
    ({ tokens } = nodeParseArgs({
      args: [...argv],
      options,
      strict: true,
      allowPositionals: true,
      tokens: true,
    }));
  } catch (e) {
    throw translate(e, known, command ? `seg ${command}` : 'seg');
  }
  const positionals: string[] = [];
  const given = new Map<OptionName, string | true>();
  for (const t of tokens ?? []) {
    if (t.kind === 'positional') positionals.push(t.value);
    else if (t.kind === 'option') {
      const name = t.name as OptionName;
      if (given.has(name)) throw new UsageError(`seg: --${name} is given twice`);
      given.set(name, t.value ?? true);
    }
  }
  return { positionals, options: given };
}

/** node:util's messages, in seg's words. */
function translate(e: unknown, known: readonly OptionName[], who: string): Error {
  const err = e as { code?: string; message?: string };
  const m = err?.message ?? String(e);
  if (err?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const opt = /'([^']+)'/.exec(m)?.[1] ?? '?';
    return new UsageError(
      `${who}: unknown option ${opt} (the options are ${known.map((n) => `--${n}`).join(', ')})`,
    );
  }
  if (err?.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const opt = /--?([\w-]+)/.exec(m)?.[1];
    if (opt && opt in OPTIONS && OPTIONS[opt as OptionName].type === 'boolean')
      return new UsageError(`seg: --${opt} takes no value`);
    return new UsageError(`seg: option ${opt ? `--${opt}` : ''} needs a value`.replace('  ', ' '));
  }
  return new UsageError(`seg: ${m}`);
}

/** The value of a string option; an empty value is an error. */
export function stringOption(args: ParsedArgs, name: OptionName): string | undefined {
  const v = args.options.get(name);
  if (v === undefined) return undefined;
  if (v === true) throw new UsageError(`seg: option --${name} needs a value`);
  if (v === '') throw new UsageError(`seg: --${name} is empty, expected a value`);
  return v;
}

/** A plain decimal number: digits, an optional fraction and exponent (no hex, no spaces, no "Infinity"). */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * The value of a numeric option (a finite decimal number in [lo, hi]), or
 * `fallback` when absent; a clear error otherwise, never a silent default.
 */
export function numberOption(
  args: ParsedArgs,
  name: OptionName,
  fallback: number,
  lo = -Infinity,
  hi = Infinity,
): number {
  const v = stringOption(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!DECIMAL.test(v) || !Number.isFinite(n) || n < lo || n > hi) {
    const range = [lo > -Infinity ? `≥ ${lo}` : '', hi < Infinity ? `≤ ${hi}` : '']
      .filter(Boolean)
      .join(' and ');
    throw new UsageError(
      `seg: --${name} is ${JSON.stringify(v)}, expected a number${range ? ` ${range}` : ''}`,
    );
  }
  return n;
}

/** The value of an integer option in [lo, hi] (written in decimal, e.g. 25000000 or 25e6), or `fallback`. */
export function integerOption(
  args: ParsedArgs,
  name: OptionName,
  fallback: number,
  lo: number,
  hi: number,
): number {
  const v = stringOption(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!DECIMAL.test(v) || !Number.isInteger(n) || n < lo || n > hi) {
    throw new UsageError(
      `seg: --${name} is ${JSON.stringify(v)}, expected an integer in [${lo}, ${hi}]`,
    );
  }
  return n;
}

/** The value of an option that takes one of `choices`, or `fallback`. */
export function choiceOption<T extends string>(
  args: ParsedArgs,
  name: OptionName,
  choices: readonly T[],
  fallback: T,
): T {
  const v = stringOption(args, name);
  if (v === undefined) return fallback;
  if (!(choices as readonly string[]).includes(v)) {
    throw new UsageError(
      `seg: --${name} is ${JSON.stringify(v)}, expected one of ${choices.join(', ')}`,
    );
  }
  return v as T;
}

/** Units of a byte count: decimal (kB, MB, GB, TB) and binary (KiB, MiB, GiB, TiB); case-insensitive. */
const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * The value of a byte-count option: a decimal number of bytes, optionally
 * followed by a unit (`4294967296`, `4e9`, `6GB`, `512MiB`, `1.5gb`), a
 * whole number of bytes ≥ 1 once scaled; `fallback` when absent.
 */
export function bytesOption(args: ParsedArgs, name: OptionName, fallback: number): number {
  const v = stringOption(args, name);
  if (v === undefined) return fallback;
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-zA-Z]*)$/.exec(v);
  const key = (m?.[2] ?? '').toLowerCase();
  const unit = m && Object.hasOwn(BYTE_UNITS, key) ? BYTE_UNITS[key] : undefined;
  const n = m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : Number.NaN;
  if (!(Number.isSafeInteger(n) && n >= 1)) {
    throw new UsageError(
      `seg: --${name} is ${JSON.stringify(v)}, expected a number of bytes ≥ 1, optionally with a unit (e.g. 4e9, 6GB, 512MiB)`,
    );
  }
  return n;
}
