import type { RgbImage } from '@seg/tensor';
import { type BackendInfo, backendStatus } from './backend-status.js';
import { LossChart } from './chart.js';
import type { Method, MethodParams } from './engine.js';
import { DEFAULT_ITERATIONS_TEXT, DEFAULT_LAMBDA_TEXT } from './method-defaults.js';
import {
  cutoutPixels,
  LABEL_NAMES,
  maskPixels,
  type OverlayMode,
  PALETTE,
  renderOverlay,
  renderSeeds,
  type Segmentation,
} from './overlay.js';
import type { SegmentRequest, WorkerMessage } from './protocol.js';
import {
  compactLabels,
  ERASE,
  MAX_LABELS,
  type Mark,
  MarkHistory,
  paintSegment,
  rasterizeStrokes,
  type Stroke,
  seedsFromCodes,
  unionBox,
} from './scribbles.js';
import { fitView, pinchView, toImage, type View, zoomAt } from './view.js';

const SAMPLES = ['teddy', 'banana1', 'llama'] as const;
/** Larger images are refused (the decoded RGBA alone would be 400 MB). */
const MAX_PIXELS = 100_000_000;
const METHOD_NAME: Record<Method, string> = {
  adm: 'ADM',
  'gd-grid': 'Gradient descent (grid CRF)',
  'gd-dense': 'Gradient descent (dense CRF)',
  pce: 'Partial CE',
  graphcut: 'Graph cut',
};

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const viewport = $('viewport');
const layers = $('layers');
const photoCanvas = $<HTMLCanvasElement>('photo');
const overlayCanvas = $<HTMLCanvasElement>('overlay');
const strokesCanvas = $<HTMLCanvasElement>('strokes');
const photoCtx = photoCanvas.getContext('2d', { willReadFrequently: true })!;
const overlayCtx = overlayCanvas.getContext('2d')!;
const strokesCtx = strokesCanvas.getContext('2d')!;
const sampleSelect = $<HTMLSelectElement>('sample');
const methodSelect = $<HTMLSelectElement>('method');
const lambdaInput = $<HTMLInputElement>('lambda');
const iterationsInput = $<HTMLInputElement>('iterations');
const stepsInput = $<HTMLInputElement>('steps');
const autoRefine = $<HTMLInputElement>('auto-refine');
const brush = $<HTMLInputElement>('brush');
const eraserButton = $<HTMLButtonElement>('eraser');
const runButton = $<HTMLButtonElement>('run');
const refineButton = $<HTMLButtonElement>('refine');
const cancelButton = $<HTMLButtonElement>('cancel');
const undoButton = $<HTMLButtonElement>('undo');
const redoButton = $<HTMLButtonElement>('redo');
const overlayMode = $<HTMLSelectElement>('overlay-mode');
const opacity = $<HTMLInputElement>('opacity');
const showStrokes = $<HTMLInputElement>('show-strokes');
const bar = $<HTMLProgressElement>('bar');
const backendLine = $('backend');
const progressLine = $('progress');
const resultLine = $('result');
const chart = new LossChart($('chart'));

// ---- state ----------------------------------------------------------------

interface Picture {
  key: string;
  name: string;
  image: RgbImage;
  /** The photo's RGBA, for the cut-out. */
  rgba: Uint8ClampedArray;
  /** Ground truth (0 / 128 / 255) of a sample. */
  mask?: { width: number; height: number; data: Uint8Array };
  sample?: string;
}

let picture: Picture | null = null;
let pictureCount = 0;
const history = new MarkHistory();
/** The seeds of the marks in force plus the stroke being drawn, −1 unlabelled. */
let seedMap: Int32Array = new Int32Array(0);
let seedPixels = new ImageData(1, 1);
let label = 1;
let erasing = false;
let segmentation: Segmentation | null = null;
let view: View = { scale: 1, tx: 0, ty: 0 };

interface Run {
  id: number;
  refine: boolean;
  method: Method;
  imageKey: string;
  used: number[];
  /** The marks the run was given: strokes added since are queued for a refinement. */
  marks: readonly Mark[];
  t0: number;
  firstMs: number | null;
  chartOffset: number;
  cancelling: boolean;
}
let run: Run | null = null;
let runCounter = 0;
/** The last finished run with a network (refinements continue it). */
let trained: { imageKey: string; method: Method; marks: readonly Mark[] } | null = null;
let refineQueued = false;
let refineTimer = 0;
let backendReady = false;

// ---- the worker -----------------------------------------------------------

let backendInfo: BackendInfo | null = null;
function showBackend(info: BackendInfo): void {
  backendInfo = info;
  backendLine.textContent = backendStatus(info);
  backendLine.dataset.threads = String(info.threads);
  backendLine.dataset.kernelHelpers = String(info.kernelHelpers);
}

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const threadParam = Number(new URLSearchParams(location.search).get('threads') ?? '0');
worker.postMessage({ type: 'init', threads: Number.isInteger(threadParam) ? threadParam : 0 });

worker.addEventListener('message', (e: MessageEvent<WorkerMessage>) => {
  const m = e.data;
  if (m.type === 'ready') {
    backendReady = true;
    const { type: _, ...info } = m;
    showBackend(info);
    updateButtons();
    return;
  }
  // the kernel helpers stop for good if one stops answering (the line says so)
  if (m.type === 'done' && backendInfo && m.kernelHelpers !== backendInfo.kernelHelpers)
    showBackend({ ...backendInfo, kernelHelpers: m.kernelHelpers });
  // a run the page has moved on from (another image, a new run): dropped
  if (m.type === 'error' && m.runId === null) {
    resultLine.textContent = `error: ${m.message}`;
    return;
  }
  if (!run || m.runId !== run.id) return;
  const r = run;
  if (m.type === 'progress') {
    if (r.firstMs === null) r.firstMs = performance.now() - r.t0;
    showSegmentation({
      width: picture!.image.width,
      height: picture!.image.height,
      labels: m.labels,
      used: r.used,
    });
    bar.max = m.iterations;
    bar.value = m.iteration + 1;
    const name = METHOD_NAME[r.method];
    progressLine.textContent = `${r.refine ? 'Refining: ' : ''}${name} iteration ${m.iteration + 1}/${m.iterations}${r.cancelling ? ' (stopping…)' : ''}`;
    chart.push(r.chartOffset + m.iteration + 1, m.terms);
  } else if (m.type === 'done') {
    run = null;
    const totalMs = performance.now() - r.t0;
    showSegmentation({
      width: picture!.image.width,
      height: picture!.image.height,
      labels: m.labels,
      used: r.used,
    });
    if (r.method !== 'graphcut')
      trained = { imageKey: r.imageKey, method: r.method, marks: r.marks };
    const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const what = m.refined
      ? 'refined'
      : r.refine
        ? 'labels changed: fresh run'
        : METHOD_NAME[r.method];
    const first = r.firstMs !== null ? `first mask ${secs(r.firstMs)}, ` : '';
    const iou = m.iou === null ? '' : ` · object IoU ${m.iou.toFixed(3)}`;
    resultLine.textContent = `${what}: ${m.completed ? '' : 'stopped, '}${first}final ${secs(totalMs)}${iou}`;
    Object.assign(resultLine.dataset, {
      state: m.completed ? 'done' : 'cancelled',
      refined: String(m.refined),
      firstMs: String(r.firstMs ?? totalMs),
      totalMs: String(totalMs),
      iou: m.iou === null ? '' : String(m.iou),
      runs: String(Number(resultLine.dataset.runs ?? '0') + 1),
    });
    progressLine.textContent = m.completed ? '' : 'cancelled';
    if (m.completed) bar.value = bar.max;
    const newStrokes = history.marks !== r.marks;
    if (m.completed && (refineQueued || (newStrokes && autoRefine.checked))) startRun(true);
    refineQueued = false;
  } else if (m.type === 'cancelled') {
    run = null;
    progressLine.textContent = 'cancelled';
    resultLine.dataset.state = 'cancelled';
  } else {
    run = null;
    resultLine.textContent = `error: ${m.message}`;
    resultLine.dataset.state = 'error';
  }
  updateButtons();
});

// ---- images ---------------------------------------------------------------

async function bitmapOf(blob: Blob): Promise<ImageBitmap> {
  return createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
}

function rgbaOf(bitmap: ImageBitmap): ImageData {
  const c = new OffscreenCanvas(bitmap.width, bitmap.height);
  const g = c.getContext('2d', { willReadFrequently: true })!;
  g.drawImage(bitmap, 0, 0);
  return g.getImageData(0, 0, bitmap.width, bitmap.height);
}

async function fetchBitmap(url: string): Promise<ImageBitmap> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return bitmapOf(await res.blob());
}

/** Drops whatever was going on and shows a new picture. */
function setPicture(p: Picture, bitmap: ImageBitmap): void {
  if (run) {
    worker.postMessage({ type: 'cancel', runId: run.id });
    run = null;
  }
  clearTimeout(refineTimer);
  refineQueued = false;
  trained = null;
  picture = p;
  const { width, height } = p.image;
  for (const c of [photoCanvas, overlayCanvas, strokesCanvas]) {
    c.width = width;
    c.height = height;
  }
  layers.style.width = `${width}px`;
  layers.style.height = `${height}px`;
  photoCtx.drawImage(bitmap, 0, 0);
  history.reset();
  seedMap = new Int32Array(width * height).fill(-1);
  seedPixels = new ImageData(width, height);
  strokesCtx.clearRect(0, 0, width, height);
  segmentation = null;
  overlayCtx.clearRect(0, 0, width, height);
  chart.reset();
  bar.value = 0;
  progressLine.textContent = '';
  resultLine.textContent = '';
  for (const k of Object.keys(resultLine.dataset)) delete resultLine.dataset[k];
  document.body.dataset.image = p.name;
  fitToView();
  updateButtons();
}

async function loadSample(name: string): Promise<void> {
  const bitmap = await fetchBitmap(`grabcut/images/${name}.png`);
  const px = rgbaOf(bitmap);
  const m = rgbaOf(await fetchBitmap(`grabcut/masks/${name}.png`));
  const gray = new Uint8Array(m.width * m.height);
  for (let i = 0; i < gray.length; i++) gray[i] = m.data[i * 4]!;
  setPicture(
    {
      key: `sample:${name}:${++pictureCount}`,
      name,
      sample: name,
      image: rgbOf(px),
      rgba: px.data,
      mask: { width: m.width, height: m.height, data: gray },
    },
    bitmap,
  );
}

function rgbOf(px: ImageData): RgbImage {
  const rgb = new Uint8Array(px.width * px.height * 3);
  for (let i = 0; i < px.width * px.height; i++) {
    rgb[i * 3] = px.data[i * 4]!;
    rgb[i * 3 + 1] = px.data[i * 4 + 1]!;
    rgb[i * 3 + 2] = px.data[i * 4 + 2]!;
  }
  return { width: px.width, height: px.height, data: rgb };
}

async function openFile(file: Blob & { name?: string }): Promise<void> {
  if (!file.type.startsWith('image/')) {
    resultLine.textContent = `${file.name ?? 'that'} is not an image (${file.type || 'unknown type'})`;
    return;
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await bitmapOf(file);
  } catch {
    resultLine.textContent = `could not decode ${file.name ?? 'the image'}`;
    return;
  }
  if (bitmap.width * bitmap.height > MAX_PIXELS) {
    resultLine.textContent = `${file.name ?? 'the image'} is ${bitmap.width}×${bitmap.height}, more than ${MAX_PIXELS / 1e6} megapixels`;
    return;
  }
  const px = rgbaOf(bitmap);
  const name = (file.name ?? 'pasted').replace(/\.[^.]*$/, '') || 'image';
  setPicture(
    { key: `file:${name}:${++pictureCount}`, name, image: rgbOf(px), rgba: px.data },
    bitmap,
  );
  sampleSelect.value = '';
}

async function loadDatasetScribbles(): Promise<void> {
  if (!picture?.sample) return;
  const s = rgbaOf(await fetchBitmap(`grabcut/scribbles-1/${picture.sample}.png`));
  const gray = new Uint8Array(s.width * s.height);
  for (let i = 0; i < gray.length; i++) gray[i] = s.data[i * 4]!;
  history.push({ kind: 'seeds', data: seedsFromCodes(s.width, s.height, gray).data });
  marksChanged();
}

// ---- drawing ----------------------------------------------------------------

/** Repaints the strokes layer from the marks in force. */
function redrawSeeds(): void {
  if (!picture) return;
  const { width, height } = picture.image;
  seedMap = rasterizeStrokes(width, height, history.marks).data;
  renderSeeds(seedMap, width, seedPixels.data, [0, 0, width - 1, height - 1]);
  strokesCtx.putImageData(seedPixels, 0, 0);
}

function paintBox(box: [number, number, number, number] | null): void {
  if (!box || !picture) return;
  renderSeeds(seedMap, picture.image.width, seedPixels.data, box);
  strokesCtx.putImageData(
    seedPixels,
    0,
    0,
    box[0],
    box[1],
    box[2] - box[0] + 1,
    box[3] - box[1] + 1,
  );
}

/** After undo, redo, clear or a finished stroke. */
function marksChanged(): void {
  redrawSeeds();
  updateButtons();
  const p = picture;
  if (!p || !autoRefine.checked || !trained || trained.imageKey !== p.key) return;
  if (trained.method !== methodSelect.value) return;
  if (run) return; // the run's end starts the refinement
  clearTimeout(refineTimer);
  refineTimer = window.setTimeout(() => startRun(true), 150);
}

function showSegmentation(s: Segmentation | null): void {
  segmentation = s;
  drawOverlay();
  updateButtons();
}

function drawOverlay(): void {
  if (!picture) return;
  const { width, height } = picture.image;
  if (!segmentation) {
    overlayCtx.clearRect(0, 0, width, height);
    return;
  }
  const px = renderOverlay(
    segmentation,
    overlayMode.value as OverlayMode,
    Number(opacity.value) / 100,
  );
  overlayCtx.putImageData(new ImageData(px, width, height), 0, 0);
}

function setLabel(k: number): void {
  label = k;
  erasing = false;
  updatePalette();
}

function updatePalette(): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('#palette button')) {
    const on = !erasing && Number(b.dataset.label) === label;
    b.setAttribute('aria-checked', String(on));
  }
  eraserButton.setAttribute('aria-pressed', String(erasing));
}

function buildPalette(): void {
  const host = $('palette');
  // keys 1 and 2 are object and background; 3 … 8 the further labels
  const order = [1, 0, ...Array.from({ length: MAX_LABELS - 2 }, (_, i) => i + 2)];
  order.forEach((k, i) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.label = String(k);
    b.setAttribute('role', 'radio');
    b.title = `${LABEL_NAMES[k]} (${i + 1})`;
    b.innerHTML = `<span class="swatch" style="background: rgb(${PALETTE[k]!.join(',')})"></span>${i < 2 ? LABEL_NAMES[k] : i + 1}`;
    b.addEventListener('click', () => setLabel(k));
    host.append(b);
  });
  updatePalette();
}

// ---- pointer: draw, pan, pinch -----------------------------------------------

const pointers = new Map<number, { x: number; y: number }>();
let active: { stroke: Stroke; pointerId: number } | null = null;
let panning: { pointerId: number; x: number; y: number; view: View } | null = null;
let pinch: { view: View; from: { x: number; y: number; d: number } } | null = null;
let spaceDown = false;

function local(e: { clientX: number; clientY: number }): { x: number; y: number } {
  const r = viewport.getBoundingClientRect();
  return { x: e.clientX - r.left, y: e.clientY - r.top };
}

function applyView(): void {
  layers.style.transform = `translate(${view.tx}px, ${view.ty}px) scale(${view.scale})`;
  layers.classList.toggle('pixelated', view.scale >= 3);
  $('zoom-level').textContent = `${Math.round(view.scale * 100)}%`;
}

function fitToView(): void {
  if (!picture) return;
  view = fitView(
    picture.image.width,
    picture.image.height,
    viewport.clientWidth,
    viewport.clientHeight,
  );
  applyView();
}

function zoomBy(f: number, at?: { x: number; y: number }): void {
  const p = at ?? { x: viewport.clientWidth / 2, y: viewport.clientHeight / 2 };
  view = zoomAt(view, f, p.x, p.y);
  applyView();
}

function twoFingers(): { x: number; y: number; d: number } {
  const [a, b] = [...pointers.values()];
  return { x: (a!.x + b!.x) / 2, y: (a!.y + b!.y) / 2, d: Math.hypot(a!.x - b!.x, a!.y - b!.y) };
}

/** Drops the stroke being drawn (a second finger came: a pinch, not a stroke). */
function abandonStroke(): void {
  if (!active) return;
  active = null;
  redrawSeeds();
}

viewport.addEventListener('contextmenu', (e) => e.preventDefault());
viewport.addEventListener('pointerdown', (e) => {
  // the zoom buttons sit on the image: theirs are clicks, not strokes
  if (!picture || (e.target as HTMLElement).closest('.zoom')) return;
  const at = local(e);
  pointers.set(e.pointerId, at);
  viewport.setPointerCapture(e.pointerId);
  if (pointers.size === 2) {
    abandonStroke();
    panning = null;
    pinch = { view, from: twoFingers() };
    return;
  }
  if (pointers.size > 2) return;
  if (e.button === 1 || spaceDown) {
    panning = { pointerId: e.pointerId, x: at.x, y: at.y, view };
    e.preventDefault();
    return;
  }
  const pen = e.pointerType === 'pen' && (e.buttons & 32) !== 0; // the pen's eraser end
  const lab = erasing || pen ? ERASE : e.button === 2 || e.shiftKey ? 0 : label;
  // the brush size is in screen pixels: the same feel at every zoom
  const radius = Number(brush.value) / view.scale;
  const p = toImage(view, at.x, at.y);
  active = { pointerId: e.pointerId, stroke: { label: lab, radius, points: [p] } };
  paintBox(paintSegment(seedMap, picture.image.width, picture.image.height, lab, radius, p, p));
});

viewport.addEventListener('pointermove', (e) => {
  if (!pointers.has(e.pointerId)) return;
  pointers.set(e.pointerId, local(e));
  if (pinch && pointers.size === 2) {
    view = pinchView(pinch.view, pinch.from, twoFingers());
    applyView();
    return;
  }
  if (panning && panning.pointerId === e.pointerId) {
    const at = local(e);
    view = {
      ...panning.view,
      tx: panning.view.tx + at.x - panning.x,
      ty: panning.view.ty + at.y - panning.y,
    };
    applyView();
    return;
  }
  if (!active || active.pointerId !== e.pointerId || !picture) return;
  const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
  let box = null;
  const s = active.stroke;
  for (const ev of events.length > 0 ? events : [e]) {
    const at = local(ev);
    const p = toImage(view, at.x, at.y);
    const last = s.points[s.points.length - 1]!;
    if (Math.hypot(p[0] - last[0], p[1] - last[1]) < 0.5) continue;
    s.points.push(p);
    box = unionBox(
      box,
      paintSegment(seedMap, picture.image.width, picture.image.height, s.label, s.radius, last, p),
    );
  }
  paintBox(box);
});

function endPointer(e: PointerEvent): void {
  if (!pointers.delete(e.pointerId)) return;
  if (pinch && pointers.size < 2) {
    pinch = null;
    // the remaining finger neither draws nor pans until it lifts
    return;
  }
  if (panning?.pointerId === e.pointerId) panning = null;
  if (active?.pointerId === e.pointerId) {
    const s = active.stroke;
    active = null;
    if (e.type === 'pointercancel') {
      redrawSeeds();
      return;
    }
    history.push(s);
    marksChanged();
  }
}
viewport.addEventListener('pointerup', endPointer);
viewport.addEventListener('pointercancel', endPointer);

viewport.addEventListener(
  'wheel',
  (e) => {
    if (!picture) return;
    e.preventDefault();
    zoomBy(Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015)), local(e));
  },
  { passive: false },
);
new ResizeObserver(() => {
  if (picture && !pointers.size) fitToView();
}).observe(viewport);

// ---- open: picker, drop, paste ---------------------------------------------

$<HTMLInputElement>('file').addEventListener('change', (e) => {
  const f = (e.target as HTMLInputElement).files?.[0];
  if (f) void openFile(f);
  (e.target as HTMLInputElement).value = '';
  // give the keys back to the shortcuts
  (e.target as HTMLInputElement).blur();
});
viewport.addEventListener('dragover', (e) => {
  e.preventDefault();
  viewport.classList.add('dragging');
});
viewport.addEventListener('dragleave', () => viewport.classList.remove('dragging'));
viewport.addEventListener('drop', (e) => {
  e.preventDefault();
  viewport.classList.remove('dragging');
  const f = e.dataTransfer?.files[0];
  if (f) void openFile(f);
});
document.addEventListener('paste', (e) => {
  const item = [...(e.clipboardData?.items ?? [])].find((i) => i.type.startsWith('image/'));
  const f = item?.getAsFile();
  if (f) {
    e.preventDefault();
    void openFile(f);
  }
});

// ---- runs -------------------------------------------------------------------

function params(): MethodParams {
  const num = (i: HTMLInputElement) => (i.value.trim() === '' ? undefined : Number(i.value));
  const p: MethodParams = {};
  const lambda = num(lambdaInput);
  const iterations = num(iterationsInput);
  const steps = num(stepsInput);
  if (lambda !== undefined && Number.isFinite(lambda) && lambda >= 0) p.lambda = lambda;
  if (iterations !== undefined && Number.isInteger(iterations) && iterations >= 1)
    p.iterations = iterations;
  if (steps !== undefined && Number.isInteger(steps) && steps >= 1) p.stepsPerIteration = steps;
  return p;
}

function startRun(refine: boolean): void {
  clearTimeout(refineTimer);
  const p = picture;
  if (!p || !backendReady) return;
  if (run) {
    if (refine) refineQueued = true;
    return;
  }
  const method = methodSelect.value as Method;
  const { used, seeds } = compactLabels({
    width: p.image.width,
    height: p.image.height,
    data: seedMap,
  });
  if (used.length < 2) {
    resultLine.textContent = 'draw strokes of at least two labels first (object and background)';
    return;
  }
  const id = ++runCounter;
  const isRefine =
    refine && trained !== null && trained.imageKey === p.key && trained.method === method;
  const req: SegmentRequest = {
    type: 'segment',
    runId: id,
    imageKey: p.key,
    image: p.image,
    seeds,
    numLabels: used.length,
    method,
    params: params(),
    refine: isRefine,
    ...(p.mask && used.length === 2 && used[0] === 0 && used[1] === 1 ? { mask: p.mask } : {}),
  };
  if (!isRefine) chart.reset();
  run = {
    id,
    refine: isRefine,
    method,
    imageKey: p.key,
    used,
    marks: history.marks,
    t0: performance.now(),
    firstMs: null,
    chartOffset: isRefine ? chart.length : 0,
    cancelling: false,
  };
  worker.postMessage(req);
  bar.value = 0;
  progressLine.textContent =
    method === 'graphcut'
      ? 'graph cut…'
      : `${isRefine ? 'Refining: ' : ''}${METHOD_NAME[method]}: starting…`;
  resultLine.dataset.state = 'running';
  updateButtons();
}

function cancelRun(): void {
  refineQueued = false;
  if (!run || run.cancelling) return;
  run.cancelling = true;
  worker.postMessage({ type: 'cancel', runId: run.id });
  progressLine.textContent += ' (stopping after this iteration…)';
  updateButtons();
}

function updateButtons(): void {
  const has = picture !== null;
  runButton.disabled = !has || !backendReady || run !== null;
  refineButton.disabled =
    !has || !backendReady || run !== null || trained === null || trained.imageKey !== picture?.key;
  cancelButton.disabled = run === null || run.cancelling;
  undoButton.disabled = !history.canUndo;
  redoButton.disabled = !history.canRedo;
  $<HTMLButtonElement>('load-scribbles').disabled = !picture?.sample;
  $<HTMLButtonElement>('export-mask').disabled = segmentation === null;
  $<HTMLButtonElement>('export-cutout').disabled = segmentation === null;
  document.body.classList.toggle('busy', run !== null);
}

function updateMethod(): void {
  const m = methodSelect.value as Method;
  lambdaInput.placeholder = DEFAULT_LAMBDA_TEXT[m];
  iterationsInput.placeholder = DEFAULT_ITERATIONS_TEXT[m];
  lambdaInput.disabled = m === 'pce';
  for (const el of document.querySelectorAll<HTMLElement>('.net')) el.hidden = m === 'graphcut';
}

// ---- export -------------------------------------------------------------------

async function download(px: Uint8ClampedArray<ArrayBuffer>, suffix: string): Promise<void> {
  if (!picture || !segmentation) return;
  const { width, height } = picture.image;
  const c = new OffscreenCanvas(width, height);
  c.getContext('2d')!.putImageData(new ImageData(px, width, height), 0, 0);
  const blob = await c.convertToBlob({ type: 'image/png' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${picture.name}-${suffix}.png`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

const exportMask = () => segmentation && void download(maskPixels(segmentation), 'mask');
const exportCutout = () =>
  segmentation && picture && void download(cutoutPixels(segmentation, picture.rgba), 'cutout');

// ---- controls and keys -------------------------------------------------------

function undo(): void {
  if (history.undo()) marksChanged();
}
function redo(): void {
  if (history.redo()) marksChanged();
}
function clearMarks(): void {
  history.clear();
  // a cleared image has no scribbles left to refine with
  clearTimeout(refineTimer);
  redrawSeeds();
  updateButtons();
}
function cycleOverlay(): void {
  const modes = ['fill', 'outline', 'mask', 'off'];
  overlayMode.value = modes[(modes.indexOf(overlayMode.value) + 1) % modes.length]!;
  drawOverlay();
}
function setBrush(v: number): void {
  brush.value = String(Math.max(1, Math.min(40, v)));
  $('brush-size').textContent = brush.value;
}

$('clear').addEventListener('click', clearMarks);
undoButton.addEventListener('click', undo);
redoButton.addEventListener('click', redo);
eraserButton.addEventListener('click', () => {
  erasing = !erasing;
  updatePalette();
});
brush.addEventListener('input', () => setBrush(Number(brush.value)));
$('load-scribbles').addEventListener('click', () => void loadDatasetScribbles());
sampleSelect.addEventListener('change', () => {
  if (sampleSelect.value) void loadSample(sampleSelect.value);
});
methodSelect.addEventListener('change', updateMethod);
runButton.addEventListener('click', () => startRun(false));
refineButton.addEventListener('click', () => startRun(true));
cancelButton.addEventListener('click', cancelRun);
overlayMode.addEventListener('change', drawOverlay);
opacity.addEventListener('input', drawOverlay);
showStrokes.addEventListener('change', () => {
  strokesCanvas.hidden = !showStrokes.checked;
});
$('zoom-in').addEventListener('click', () => zoomBy(1.25));
$('zoom-out').addEventListener('click', () => zoomBy(0.8));
$('zoom-fit').addEventListener('click', fitToView);
$('export-mask').addEventListener('click', exportMask);
$('export-cutout').addEventListener('click', exportCutout);
const dialog = $<HTMLDialogElement>('shortcuts');
$('help').addEventListener('click', () => dialog.showModal());

document.addEventListener('keydown', (e) => {
  const t = e.target as HTMLElement;
  if (
    t.closest('input, select, textarea') &&
    !(t instanceof HTMLInputElement && t.type === 'range')
  )
    return;
  const mod = e.ctrlKey || e.metaKey;
  const k = e.key;
  if (mod && k.toLowerCase() === 'z') {
    if (e.shiftKey) redo();
    else undo();
  } else if (mod && k.toLowerCase() === 'y') redo();
  else if (mod) return;
  else if (k >= '1' && k <= '8') setLabel(k === '1' ? 1 : k === '2' ? 0 : Number(k) - 1);
  else if (k === 'e' || k === 'E') {
    erasing = !erasing;
    updatePalette();
  } else if (k === '[') setBrush(Number(brush.value) - 1);
  else if (k === ']') setBrush(Number(brush.value) + 1);
  else if (k === 'Enter') startRun(false);
  else if (k === 'r' || k === 'R') startRun(true);
  else if (k === 'Escape') cancelRun();
  else if (k === 'Delete' || k === 'Backspace') clearMarks();
  else if (k === '+' || k === '=') zoomBy(1.25);
  else if (k === '-' || k === '_') zoomBy(0.8);
  else if (k === 'f' || k === 'F' || k === '0') fitToView();
  else if (k === 'o' || k === 'O') cycleOverlay();
  else if (k === 'm' || k === 'M') exportMask();
  else if (k === 'x' || k === 'X') exportCutout();
  else if (k === '?') dialog.open ? dialog.close() : dialog.showModal();
  else if (k === ' ') {
    spaceDown = true;
    viewport.classList.add('panning');
  } else return;
  e.preventDefault();
});
document.addEventListener('keyup', (e) => {
  if (e.key === ' ') {
    spaceDown = false;
    viewport.classList.remove('panning');
  }
});

// a choice made, the keys go back to the shortcuts (a focused select would take them)
for (const sel of [sampleSelect, methodSelect, overlayMode]) {
  sel.addEventListener('change', () => sel.blur());
}

// ---- start ------------------------------------------------------------------------

for (const s of SAMPLES) sampleSelect.add(new Option(s, s));
sampleSelect.add(new Option('(your image)', ''));
buildPalette();
updateMethod();
updateButtons();
void loadSample(SAMPLES[0]);

// offline once loaded: a service worker keeps the built files (vite.config.ts writes it)
declare const __SEG_OFFLINE__: boolean;
if (__SEG_OFFLINE__ && 'serviceWorker' in navigator) {
  void navigator.serviceWorker.register(`${import.meta.env.BASE_URL}sw.js`).catch(() => {});
}
