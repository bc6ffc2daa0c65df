/** The help texts of `seg`: the general one, and one per command with its options and defaults; the options of each command. */
import type { OptionName } from './args.js';

export const COMMANDS = ['segment', 'eval', 'merge', 'bench', 'info', 'help'] as const;
export type Command = (typeof COMMANDS)[number];

export const GENERAL = `seg — segmentation from scribbles (@seg)

usage: seg COMMAND [options]

commands:
  segment IMAGE|DIR   segment an image (or every image of a folder) from its scribbles
  eval --data DIR     per-image IoU and the mean on a GrabCut-like folder
  merge PARTS…        combine the JSON parts written by sharded runs
  bench [PACKAGE…]    the packages' benchmarks, one table (inside the repository)
  info                the backend report (JSON)
  help [COMMAND]      this text, or a command's options

options of every command: -h, --help (the command's help), -q, --quiet (no progress on stderr)
seg --version prints the version.

Results go to stdout, progress and errors to stderr. Exit status: 0 done,
1 failed (bad input file, failed run), 2 usage (unknown option, bad value).`;

const SEGMENT = `usage: seg segment IMAGE --scribbles SCRIBBLES.png [options]
       seg segment DIR   --scribbles SCRIBBLES_DIR [options]

Trains a small network on the image from its scribbles (or runs the classic
graph cut) and writes the mask (255 object, 0 background). Given a ground
truth it prints the object IoU.

Scribble maps are 8-bit gray PNGs: 0 unlabelled, 1 object, 2 background (the
GrabCut scribble sets); other values are refused. A mask is coded 0
background, 255 object, 128 unknown band (left out of the score), or 0 / 1.

With a folder: every .png/.jpg/.jpeg of DIR is segmented with the scribble
map of the same name (NAME.png) in SCRIBBLES_DIR, scored against MASK_DIR/NAME.png
when --mask is given, on worker threads; the masks go to the folder --out as
NAME.png; a JSON summary is printed (and written to --part when given).

options:
  --scribbles PATH     scribble map (a folder, for a folder of images)   required
  --mask PATH          ground-truth mask (a folder, for a folder)        none
  --out PATH           the mask: .png, .jpg or .jpeg (the format follows the extension),
                       checked before the run; for a folder, the output folder
                       default out/IMAGE-mask.png, or out/DIR-masks/
  --force              let --out overwrite one of the inputs
  --method M           adm | graphcut | gd-grid | gd-dense | pce           default adm
  --lambda L           regularization weight, a decimal in [0, 1e30]      default per method
  --seed S             integer in [0, 4294967295]                         default 1
  --backend B          wasm | cpu                                          default wasm
  --max-pixels N       refuse larger images before decoding               default 25000000
  --max-memory BYTES   refuse images whose estimated peak memory is larger,
                       before the run (e.g. 8GB, 6e9, 512MiB; a folder's workers
                       share it)                          default min(4 GiB, 75 % of the memory)
  --workers N          folder: worker threads                             default the cores, at most the images
  --shard I/N          folder: do only shard I of N (0-based; images I, I+N, …)
                       default from JOB_COMPLETION_INDEX / JOB_COMPLETIONS, else 0/1
  --part FILE.json     folder: write this run's JSON part there (for seg merge)
  --json               folder: print only the JSON summary
  -q, --quiet          no progress on stderr
  -h, --help           this text`;

const EVAL = `usage: seg eval --data DIR [--scribbles 1|2] [--method M] [--json|--csv] [options]

Segments every image of a folder laid out as GrabCut-50 (images/, masks/,
scribbles-1/, optional scribbles-2/) and prints the object IoU of each image
and the mean, images in parallel on worker threads.

options:
  --data DIR           the folder                                          required
  --scribbles 1|2      which scribble set (scribbles-1/ or scribbles-2/)   default 1
  --method M           adm | graphcut | gd-grid | gd-dense | pce           default adm
  --lambda L           regularization weight, a decimal in [0, 1e30]      default per method
  --seed S             integer in [0, 4294967295]                         default 1
  --backend B          wasm | cpu                                          default wasm
  --max-pixels N       refuse larger images before decoding               default 25000000
  --max-memory BYTES   refuse images whose estimated peak memory is larger,
                       before the run (e.g. 8GB, 6e9, 512MiB; the workers share
                       it)                                default min(4 GiB, 75 % of the memory)
  --workers N          worker threads                                     default the cores, at most the images
  --shard I/N          do only shard I of N (0-based; images I, I+N, …)
                       default from JOB_COMPLETION_INDEX / JOB_COMPLETIONS, else 0/1
  --part FILE.json     write this run's JSON part there (for seg merge)
  --json               print a table-free result; the last line is
                       {"meanIoU": …, "images": [{"name", "iou"}, …]}
  --csv                print name,iou lines and a last line mean,IOU
  -q, --quiet          no progress on stderr
  -h, --help           this text`;

const MERGE = `usage: seg merge PART.json… [--json|--csv] [--out FILE.json]

Combines the JSON parts of a sharded seg eval or seg segment (one per shard,
written with --part): checks that they come from the same command, options
and shard count, that every shard is there exactly once, and prints the
result of the whole run — the same as an unsharded run prints.

options:
  --json               print the merged JSON (last line)
  --csv                print name,iou lines and a last line mean,IOU
  --out FILE.json      also write the merged JSON there
  -q, --quiet          (no effect: merge prints no progress)
  -h, --help           this text`;

const BENCH = `usage: seg bench [PACKAGE…] [--quick] [--json]

Runs the benchmarks of the @seg packages (each package's bench script, in
the repository: they are sources run by tsx, not part of the built
packages), one after the other, and prints their figures (each benchmark's
last line, BENCH {json}) as one table: package, figure, value. Their own
tables go to stderr as progress. Run it alone on the machine: the figures
are timings. A full run takes many minutes; --quick a few.

arguments:
  PACKAGE…             which packages (tensor, losses, … or @seg/tensor)   default all

options:
  --quick              each benchmark's short version (its --quick)
  --json               print {"@seg/NAME": {figures}, …} instead of the table
  -q, --quiet          no progress on stderr
  -h, --help           this text`;

const INFO = `usage: seg info

Prints the backend report as JSON, e.g. {"backend":"wasm","simd":true,"threads":1}.

options:
  -h, --help           this text`;

const HELP = `usage: seg help [COMMAND]

Prints the general help, or the options of COMMAND (${COMMANDS.join(', ')}).`;

/** The help of `command`, or the general one. */
export function helpText(command?: string): string {
  switch (command) {
    case 'segment':
      return SEGMENT;
    case 'eval':
      return EVAL;
    case 'merge':
      return MERGE;
    case 'info':
      return INFO;
    case 'bench':
      return BENCH;
    case 'help':
      return HELP;
    default:
      return GENERAL;
  }
}

export const SEGMENT_OPTIONS: OptionName[] = [
  'scribbles',
  'mask',
  'out',
  'force',
  'method',
  'lambda',
  'seed',
  'backend',
  'max-pixels',
  'max-memory',
  'workers',
  'shard',
  'part',
  'json',
  'quiet',
  'help',
];

export const EVAL_OPTIONS: OptionName[] = [
  'data',
  'scribbles',
  'method',
  'lambda',
  'seed',
  'backend',
  'max-pixels',
  'max-memory',
  'workers',
  'shard',
  'part',
  'json',
  'csv',
  'quiet',
  'help',
];

/** The options of each command (-h and -q on all). */
export const COMMAND_OPTIONS: Record<string, OptionName[]> = {
  segment: SEGMENT_OPTIONS,
  eval: EVAL_OPTIONS,
  merge: ['json', 'csv', 'quiet', 'help'],
  info: ['quiet', 'help'],
  bench: ['quick', 'json', 'quiet', 'help'],
  help: ['quiet', 'help'],
};
