import type { LabelMap, RgbImage } from '@seg/tensor';
import type { SegmentRequest, WorkerMessage } from './protocol.js';
import { countSeeds, rasterizeStrokes, type Stroke, seedsFromCodes } from './scribbles.js';

const SAMPLES = ['teddy', 'banana1', 'llama'] as const;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('canvas');
const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
const sampleSelect = $<HTMLSelectElement>('sample');
const methodSelect = $<HTMLSelectElement>('method');
const brush = $<HTMLInputElement>('brush');
const runButton = $<HTMLButtonElement>('run');
const backendLine = $('backend');
const progressLine = $('progress');
const resultLine = $('result');

let image: RgbImage | null = null;
let photo: ImageBitmap | null = null;
let mask: SegmentRequest['mask'];
let strokes: Stroke[] = [];
let presetSeeds: LabelMap | null = null;
let segmentation: Int32Array | null = null;
let busy = false;

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
worker.addEventListener('message', (e: MessageEvent<WorkerMessage>) => {
  const m = e.data;
  if (m.type === 'ready') {
    backendLine.textContent = `TensorFlow.js ${m.backend} backend, SIMD ${m.simd ? 'on' : 'off'}, ${m.threads} thread(s)`;
    runButton.disabled = false;
  } else if (m.type === 'progress') {
    progressLine.textContent = m.message;
    if (m.labels) {
      segmentation = m.labels;
      draw();
    }
  } else if (m.type === 'done') {
    segmentation = m.labels;
    busy = false;
    runButton.disabled = false;
    const iou = m.iou === null ? '' : `, object IoU ${m.iou.toFixed(3)} against the ground truth`;
    resultLine.textContent = `done in ${m.seconds.toFixed(1)} s${iou}`;
    draw();
  } else {
    busy = false;
    runButton.disabled = false;
    resultLine.textContent = `error: ${m.message}`;
  }
});

async function loadBitmap(url: string): Promise<ImageBitmap> {
  const blob = await (await fetch(url)).blob();
  return createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
}

function pixels(bitmap: ImageBitmap): ImageData {
  const c = new OffscreenCanvas(bitmap.width, bitmap.height);
  const g = c.getContext('2d', { willReadFrequently: true })!;
  g.drawImage(bitmap, 0, 0);
  return g.getImageData(0, 0, bitmap.width, bitmap.height);
}

function grayOf(data: ImageData): Uint8Array {
  const out = new Uint8Array(data.width * data.height);
  for (let i = 0; i < out.length; i++) out[i] = data.data[i * 4]!;
  return out;
}

async function loadSample(name: string): Promise<void> {
  photo = await loadBitmap(`grabcut/images/${name}.png`);
  const px = pixels(photo);
  const rgb = new Uint8Array(px.width * px.height * 3);
  for (let i = 0; i < px.width * px.height; i++) {
    rgb[i * 3] = px.data[i * 4]!;
    rgb[i * 3 + 1] = px.data[i * 4 + 1]!;
    rgb[i * 3 + 2] = px.data[i * 4 + 2]!;
  }
  image = { width: px.width, height: px.height, data: rgb };
  const m = pixels(await loadBitmap(`grabcut/masks/${name}.png`));
  mask = { width: m.width, height: m.height, data: grayOf(m) };
  canvas.width = image.width;
  canvas.height = image.height;
  strokes = [];
  presetSeeds = null;
  segmentation = null;
  resultLine.textContent = '';
  progressLine.textContent = '';
  draw();
}

async function loadDatasetScribbles(): Promise<void> {
  if (!image) return;
  const s = pixels(await loadBitmap(`grabcut/scribbles-1/${sampleSelect.value}.png`));
  presetSeeds = seedsFromCodes(s.width, s.height, grayOf(s));
  strokes = [];
  draw();
}

function currentSeeds(): LabelMap | null {
  if (!image) return null;
  const drawn = rasterizeStrokes(image.width, image.height, strokes);
  if (presetSeeds) {
    for (let i = 0; i < drawn.data.length; i++)
      if (drawn.data[i] === -1) drawn.data[i] = presetSeeds.data[i]!;
  }
  return drawn;
}

function draw(): void {
  if (!image || !photo) return;
  ctx.drawImage(photo, 0, 0);
  const { width, height } = image;
  const frame = ctx.getImageData(0, 0, width, height);
  const px = frame.data;
  if (segmentation) {
    for (let i = 0; i < width * height; i++) {
      if (segmentation[i] !== 1) {
        px[i * 4] = px[i * 4]! * 0.35;
        px[i * 4 + 1] = px[i * 4 + 1]! * 0.35;
        px[i * 4 + 2] = px[i * 4 + 2]! * 0.35 + 40;
      }
    }
  }
  const seeds = currentSeeds();
  if (seeds) {
    for (let i = 0; i < width * height; i++) {
      const v = seeds.data[i];
      if (v === 1) px.set([230, 30, 40], i * 4);
      else if (v === 0) px.set([20, 100, 240], i * 4);
    }
  }
  ctx.putImageData(frame, 0, 0);
}

// Drawing strokes: left button object, right button (or Shift) background.
let active: Stroke | null = null;
function toImage(e: PointerEvent): [number, number] {
  const r = canvas.getBoundingClientRect();
  return [
    ((e.clientX - r.left) * canvas.width) / r.width,
    ((e.clientY - r.top) * canvas.height) / r.height,
  ];
}
canvas.addEventListener('contextmenu', (e) => e.preventDefault());
canvas.addEventListener('pointerdown', (e) => {
  if (!image || busy) return;
  canvas.setPointerCapture(e.pointerId);
  active = {
    label: e.button === 2 || e.shiftKey ? 0 : 1,
    radius: Number(brush.value),
    points: [toImage(e)],
  };
  strokes.push(active);
  draw();
});
canvas.addEventListener('pointermove', (e) => {
  if (!active) return;
  active.points.push(toImage(e));
  draw();
});
canvas.addEventListener('pointerup', () => {
  active = null;
});

$('clear').addEventListener('click', () => {
  strokes = [];
  presetSeeds = null;
  segmentation = null;
  draw();
});
$('load-scribbles').addEventListener('click', () => void loadDatasetScribbles());
sampleSelect.addEventListener('change', () => void loadSample(sampleSelect.value));
runButton.addEventListener('click', () => {
  const seeds = currentSeeds();
  if (!image || !seeds || busy) return;
  const n = countSeeds(seeds);
  if (n.object === 0 || n.background === 0) {
    resultLine.textContent = 'draw at least one object stroke and one background stroke first';
    return;
  }
  busy = true;
  runButton.disabled = true;
  resultLine.textContent = '';
  const req: SegmentRequest = {
    type: 'segment',
    image,
    seeds,
    method: methodSelect.value as SegmentRequest['method'],
    ...(mask ? { mask } : {}),
  };
  worker.postMessage(req);
});

for (const s of SAMPLES) sampleSelect.add(new Option(s, s));
runButton.disabled = true;
void loadSample(SAMPLES[0]);
