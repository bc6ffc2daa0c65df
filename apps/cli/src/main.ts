import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { MAX_POTTS_WEIGHT, objectIoU, type SegmentMethod, segmentImage } from '@seg/optim-adm';
import { readMask, readScribbles } from '@seg/optim-adm/node';
import { initBackend } from '@seg/tensor';
import { DEFAULT_MAX_PIXELS, readImage } from '@seg/tensor/node';
import {
  choiceOption,
  integerOption,
  numberOption,
  type ParsedArgs,
  parseArgs,
  stringOption,
  UsageError,
} from './args.js';
import { type InputFile, prepareOutput, saveMask } from './output.js';
import { progressLine } from './progress.js';

const USAGE = `seg — segmentation from scribbles (@seg)

usage:
  seg segment IMAGE --scribbles SCRIBBLES.png [--mask MASK.png] [--out MASK_OUT.png] [--force]
              [--method adm|graphcut|gd-grid|gd-dense|pce] [--lambda L] [--seed S]
              [--backend wasm|cpu] [--max-pixels N]
  seg info

Scribble maps are 8-bit gray PNGs: 0 unlabelled, 1 object, 2 background (the
GrabCut scribble sets); other values are refused. A mask (0 background, 255
object, 128 unknown band, left out of the score; or 0 / 1) prints the object
IoU. --out (default out/IMAGE-mask.png) is .png, .jpg or .jpeg, is checked
before the run and may not be one of the inputs unless --force. λ is at most
1e30; the seed is an integer in [0, 4294967295]. Images larger than
--max-pixels (default 25000000) are refused before decoding.`;

const METHODS: readonly SegmentMethod[] = ['adm', 'graphcut', 'gd-grid', 'gd-dense', 'pce'];

function need(path: string | undefined, what: string): string {
  if (!path) throw new UsageError(`seg segment: ${what} is missing\n\n${USAGE}`);
  if (!existsSync(path))
    throw new UsageError(`seg segment: ${what} ${JSON.stringify(path)} does not exist`);
  return path;
}

async function segment(args: ParsedArgs): Promise<number> {
  if (args.positionals.length > 2) {
    throw new UsageError(
      `seg segment: expected one IMAGE, got ${args.positionals.length - 1} arguments (${args.positionals
        .slice(1)
        .map((p) => JSON.stringify(p))
        .join(', ')})`,
    );
  }
  // every argument, input and the output path are checked before any work
  const imagePath = need(args.positionals[1], 'the image');
  const scribblesPath = need(stringOption(args, 'scribbles'), '--scribbles');
  const maskOption = stringOption(args, 'mask');
  const maskPath = maskOption === undefined ? undefined : need(maskOption, '--mask');
  const method = choiceOption(args, 'method', METHODS, 'adm');
  const backend = choiceOption(args, 'backend', ['wasm', 'cpu'] as const, 'wasm');
  const lambda = args.options.has('lambda')
    ? numberOption(args, 'lambda', 0, 0, MAX_POTTS_WEIGHT)
    : undefined;
  const seed = integerOption(args, 'seed', 1, 0, 2 ** 32 - 1);
  const maxPixels = integerOption(
    args,
    'max-pixels',
    DEFAULT_MAX_PIXELS,
    1,
    Number.MAX_SAFE_INTEGER,
  );
  const out =
    stringOption(args, 'out') ?? `out/${basename(imagePath).replace(/\.[^.]+$/, '')}-mask.png`;
  const inputs: InputFile[] = [
    { what: 'the image', path: imagePath },
    { what: '--scribbles', path: scribblesPath },
    ...(maskPath ? [{ what: '--mask', path: maskPath }] : []),
  ];
  prepareOutput(out, inputs, args.options.has('force'));

  const image = readImage(imagePath, { maxPixels });
  const seeds = readScribbles(scribblesPath, { maxPixels });
  if (seeds.width !== image.width || seeds.height !== image.height) {
    throw new UsageError(
      `seg segment: the scribbles are ${seeds.width}×${seeds.height}, expected the image's size ${image.width}×${image.height}`,
    );
  }
  // read before the run: the score is against the mask as it was, whatever --out overwrites
  const mask = maskPath ? readMask(maskPath, { maxPixels }) : undefined;
  if (mask && (mask.width !== image.width || mask.height !== image.height)) {
    throw new UsageError(
      `seg segment: the mask is ${mask.width}×${mask.height}, expected the image's size ${image.width}×${image.height}`,
    );
  }

  const report = await initBackend({ backend });
  console.log(
    `backend: ${report.backend} (SIMD ${report.simd ? 'on' : 'off'}, ${report.threads} thread)`,
  );
  const t0 = performance.now();
  const result = await segmentImage(image, seeds, {
    method,
    seed,
    ...(lambda !== undefined ? { lambda } : {}),
    onProgress: (p) => console.log(`  ${progressLine(p)}`),
  });
  const secs = (performance.now() - t0) / 1000;
  const data = new Uint8Array(image.width * image.height);
  for (let i = 0; i < data.length; i++) data[i] = result.labels.data[i] === 1 ? 255 : 0;
  const saved = saveMask(out, { width: image.width, height: image.height, data });
  console.log(
    `${method}: ${image.width}×${image.height} segmented in ${secs.toFixed(1)} s → ${saved.path ?? '(not saved)'}`,
  );
  if (mask && maskPath) {
    const iou = objectIoU(result.labels, mask);
    console.log(`object IoU against ${maskPath}: ${iou.toFixed(4)}`);
  }
  if (saved.problem) {
    console.error(saved.problem);
    return 1;
  }
  return 0;
}

async function info(args: ParsedArgs): Promise<number> {
  const extra = [...args.positionals.slice(1), ...[...args.options.keys()].map((k) => `--${k}`)];
  if (extra.length > 0) {
    throw new UsageError(`seg info: takes no arguments, got ${extra.join(' ')}`);
  }
  const report = await initBackend();
  console.log(JSON.stringify(report));
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  const command = args.positionals[0];
  if (!command || args.options.has('help')) {
    console.log(USAGE);
    return 0;
  }
  if (command === 'segment') return segment(args);
  if (command === 'info') return info(args);
  throw new UsageError(`seg: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);
