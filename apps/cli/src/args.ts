/** A tiny argv parser: positionals plus `--name value` / `--flag` options. */
export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string | true>;
}

export function parseArgs(argv: readonly string[], flags: readonly string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) options.set(a.slice(2, eq), a.slice(eq + 1));
      else if (flags.includes(a.slice(2))) options.set(a.slice(2), true);
      else {
        const v = argv[i + 1];
        if (v === undefined || v.startsWith('--'))
          throw new Error(`seg: option ${a} needs a value`);
        options.set(a.slice(2), v);
        i++;
      }
    } else positionals.push(a);
  }
  return { positionals, options };
}

/** The value of a numeric option, or its default; a clear error if it is not a number. */
export function numberOption(args: ParsedArgs, name: string, fallback: number): number {
  const v = args.options.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v === true || !Number.isFinite(n))
    throw new Error(`seg: --${name} is ${JSON.stringify(v)}, expected a number`);
  return n;
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.options.get(name);
  if (v === true) throw new Error(`seg: option --${name} needs a value`);
  return v;
}
