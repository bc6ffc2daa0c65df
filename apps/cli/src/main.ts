// The `seg` command: parses the command line, prints help and version, and loads the
// command it runs on demand (so `seg --help` answers without loading TensorFlow.js).
import { readFileSync } from 'node:fs';
import { commandOf, type OptionName, parseArgs, UsageError } from './args.js';
import { COMMAND_OPTIONS, COMMANDS, helpText } from './help.js';
import { Progress } from './log.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function main(argv: readonly string[]): Promise<number> {
  const first = commandOf(argv);
  const known =
    first === undefined
      ? (['help', 'version', 'quiet'] as OptionName[])
      : Object.hasOwn(COMMAND_OPTIONS, first)
        ? COMMAND_OPTIONS[first]
        : undefined;
  const args = parseArgs(argv, known, known && first);
  const command = args.positionals[0];
  if (args.options.has('version')) {
    if (args.options.size > 1 || command)
      throw new UsageError('seg: --version takes no command nor other options');
    console.log(`seg ${version()}`);
    return 0;
  }
  if (command === 'help') {
    const topic = args.positionals[1];
    if (args.positionals.length > 2 || (topic && !(COMMANDS as readonly string[]).includes(topic)))
      throw new UsageError(
        `seg help: ${JSON.stringify(args.positionals.slice(1).join(' '))} is not a command, expected one of ${COMMANDS.join(', ')}`,
      );
    console.log(helpText(topic));
    return 0;
  }
  if (!command) {
    if (args.options.has('help')) {
      console.log(helpText());
      return 0;
    }
    throw new UsageError(`seg: no command given\n\n${helpText()}`);
  }
  if (!(COMMANDS as readonly string[]).includes(command))
    throw new UsageError(
      `seg: unknown command ${JSON.stringify(command)}, expected one of ${COMMANDS.join(', ')} (seg --help)`,
    );
  if (args.options.has('help')) {
    console.log(helpText(command));
    return 0;
  }
  const progress = new Progress(args.options.has('quiet'));
  if (command === 'bench')
    return (await import('./bench.js')).bench(
      args.positionals.slice(1),
      args.options.has('quick'),
      args.options.has('json'),
      progress,
    );
  const { evaluate, info, merge, segment } = await import('./commands.js');
  if (command === 'segment') return segment(args, progress);
  if (command === 'eval') return evaluate(args, progress);
  if (command === 'merge') return merge(args);
  return info(args);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
