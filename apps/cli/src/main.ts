import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { objectIoU, type SegmentMethod, segmentImage } from '@seg/optim-adm';
import { initBackend, labelMapFromCodes } from '@seg/tensor';
import { readGray, readImage, writeImage } from '@seg/tensor/node';
import { numberOption, type ParsedArgs, parseArgs, stringOption } from './args.js';
import { progressLine } from './progress.js';

const USAGE = `seg — segmentation from scribbles (@seg)

usage:
  seg segment IMAGE --scribbles SCRIBBLES.png [--mask MASK.png] [--out MASK_OUT.png]
              [--method adm|graphcut|gd-grid|gd-dense|pce] [--lambda L] [--seed S] [--backend wasm|cpu]
  seg info

Scribble maps are 8-bit gray PNGs: 0 unlabelled, 1 object, 2 background (the
GrabCut scribble sets). A mask (0 background, 255 object, 128 unknown band,
left out of the score) prints the object IoU.`;

const METHODS: readonly SegmentMethod[] = ['adm', 'graphcut', 'gd-grid', 'gd-dense', 'pce'];

function need(path: string | undefined, what: string): string {
  if (!path) throw new Error(`seg segment: ${what} is missing\n\n${USAGE}`);
  if (!existsSync(path))
    throw new Error(`seg segment: ${what} ${JSON.stringify(path)} does not exist`);
  return path;
}

async function segment(args: ParsedArgs): Promise<void> {
  const imagePath = need(args.positionals[1], 'the image');
  const scribblesPath = need(stringOption(args, 'scribbles'), '--scribbles');
  const maskPath = stringOption(args, 'mask');
  const method = (stringOption(args, 'method') ?? 'adm') as SegmentMethod;
  if (!METHODS.includes(method)) {
    throw new Error(
      `seg segment: --method is ${JSON.stringify(method)}, expected one of ${METHODS.join(', ')}`,
    );
  }
  const backend = (stringOption(args, 'backend') ?? 'wasm') as 'wasm' | 'cpu';
  const out =
    stringOption(args, 'out') ?? `out/${basename(imagePath).replace(/\.[^.]+$/, '')}-mask.png`;
  const report = await initBackend({ backend });
  console.log(
    `backend: ${report.backend} (SIMD ${report.simd ? 'on' : 'off'}, ${report.threads} thread)`,
  );

  const image = readImage(imagePath);
  const seeds = labelMapFromCodes(readGray(scribblesPath), { 1: 1, 2: 0 });
  if (seeds.width !== image.width || seeds.height !== image.height) {
    throw new Error(
      `seg segment: the scribbles are ${seeds.width}×${seeds.height}, expected the image's size ${image.width}×${image.height}`,
    );
  }
  const lambda = args.options.has('lambda') ? numberOption(args, 'lambda', 0) : undefined;
  const seed = numberOption(args, 'seed', 1);
  const t0 = performance.now();
  const result = await segmentImage(image, seeds, {
    method,
    seed,
    ...(lambda !== undefined ? { lambda } : {}),
    onProgress: (p) => console.log(`  ${progressLine(p)}`),
  });
  const secs = (performance.now() - t0) / 1000;
  const mask = new Uint8Array(image.width * image.height);
  for (let i = 0; i < mask.length; i++) mask[i] = result.labels.data[i] === 1 ? 255 : 0;
  writeImage(out, { width: image.width, height: image.height, data: mask });
  console.log(
    `${method}: ${image.width}×${image.height} segmented in ${secs.toFixed(1)} s → ${out}`,
  );
  if (maskPath) {
    const iou = objectIoU(result.labels, readGray(need(maskPath, '--mask')));
    console.log(`object IoU against ${maskPath}: ${iou.toFixed(4)}`);
  }
}

async function info(): Promise<void> {
  const report = await initBackend();
  console.log(JSON.stringify(report));
}

async function main(argv: readonly string[]): Promise<void> {
  const args = parseArgs(argv, ['help']);
  const command = args.positionals[0];
  if (!command || args.options.has('help')) {
    console.log(USAGE);
    return;
  }
  if (command === 'segment') return segment(args);
  if (command === 'info') return info();
  throw new Error(`seg: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);
