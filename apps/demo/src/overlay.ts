// Pixels of the layers drawn over the photo, and of the exported PNGs.
import { ERASE, MAX_LABELS } from './scribbles.js';

/** Colour of each palette label: 0 background, 1 object, 2 … 7 further labels. */
export const PALETTE: ReadonlyArray<readonly [number, number, number]> = [
  [30, 110, 240],
  [230, 40, 50],
  [40, 180, 80],
  [245, 150, 20],
  [150, 70, 220],
  [20, 190, 200],
  [240, 215, 30],
  [235, 90, 190],
];

/** Names of the palette labels, in label order. */
export const LABEL_NAMES = [
  'Background',
  'Object',
  ...Array.from({ length: MAX_LABELS - 2 }, (_, i) => `Label ${i + 3}`),
];

/** How the result is shown: tinted over the photo, its outline, the mask alone, or not at all. */
export type OverlayMode = 'fill' | 'outline' | 'mask' | 'off';

/** A segmentation as the page keeps it: per-pixel run labels and the palette label of each. */
export interface Segmentation {
  width: number;
  height: number;
  /** 0 … used.length−1 per pixel. */
  labels: Uint8Array;
  /** Palette label of each run label. */
  used: readonly number[];
}

/** The palette label of every pixel. */
export function paletteLabels(s: Segmentation): Uint8Array {
  const map = Uint8Array.from(s.used);
  const out = new Uint8Array(s.labels.length);
  for (let i = 0; i < out.length; i++) out[i] = map[s.labels[i]!] ?? 0;
  return out;
}

/** Whether pixel i has a 4-neighbour of another label. */
function onBoundary(L: Uint8Array, w: number, h: number, i: number): boolean {
  const x = i % w;
  const v = L[i];
  return (
    (x > 0 && L[i - 1] !== v) ||
    (x < w - 1 && L[i + 1] !== v) ||
    (i >= w && L[i - w] !== v) ||
    (i < (h - 1) * w && L[i + w] !== v)
  );
}

/**
 * RGBA pixels of the result layer. 'fill': the background darkened and the
 * other labels tinted (alpha scaled by `opacity` in [0, 1]), with their
 * outline; 'outline': the outline of the non-background labels only;
 * 'mask': the labels opaque (object white on black when only those two);
 * 'off': transparent.
 */
export function renderOverlay(
  s: Segmentation,
  mode: OverlayMode,
  opacity: number,
  out: Uint8ClampedArray<ArrayBuffer> = new Uint8ClampedArray(s.width * s.height * 4),
): Uint8ClampedArray<ArrayBuffer> {
  out.fill(0);
  if (mode === 'off') return out;
  const { width: w, height: h } = s;
  const L = paletteLabels(s);
  const binary = s.used.every((k) => k === 0 || k === 1);
  const a = Math.max(0, Math.min(1, opacity));
  for (let i = 0; i < L.length; i++) {
    const k = L[i]!;
    const o = 4 * i;
    if (mode === 'mask') {
      const c = binary ? (k === 1 ? [255, 255, 255] : [0, 0, 0]) : PALETTE[k]!;
      out[o] = c[0]!;
      out[o + 1] = c[1]!;
      out[o + 2] = c[2]!;
      out[o + 3] = 255;
      continue;
    }
    const edge = onBoundary(L, w, h, i);
    if (edge && k !== 0) {
      const c = binary ? [255, 230, 0] : PALETTE[k]!;
      out[o] = c[0]!;
      out[o + 1] = c[1]!;
      out[o + 2] = c[2]!;
      out[o + 3] = Math.round(255 * Math.max(a, mode === 'outline' ? 1 : 0.5));
      continue;
    }
    if (mode === 'outline') continue;
    if (k === 0) {
      out[o + 2] = 30;
      out[o + 3] = Math.round(200 * a);
    } else if (!binary) {
      const c = PALETTE[k]!;
      out[o] = c[0];
      out[o + 1] = c[1];
      out[o + 2] = c[2];
      out[o + 3] = Math.round(150 * a);
    }
  }
  return out;
}

/** Paints the seeds of box [x0, y0, x1, y1] (inclusive) into an RGBA layer: palette colours, unlabelled transparent. */
export function renderSeeds(
  seeds: Int32Array,
  width: number,
  out: Uint8ClampedArray,
  box: readonly [number, number, number, number],
): void {
  const [x0, y0, x1, y1] = box;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const i = y * width + x;
      const k = seeds[i]!;
      const o = 4 * i;
      if (k === ERASE || k < 0) {
        out[o + 3] = 0;
        continue;
      }
      const c = PALETTE[k]!;
      out[o] = c[0];
      out[o + 1] = c[1];
      out[o + 2] = c[2];
      out[o + 3] = 255;
    }
  }
}

/**
 * The exported mask, RGBA: 255 where the object is and 0 elsewhere when
 * the run had only object and background; else each pixel's palette label
 * (0 … 7) as its gray value, an index map.
 */
export function maskPixels(s: Segmentation): Uint8ClampedArray<ArrayBuffer> {
  const L = paletteLabels(s);
  const binary = s.used.every((k) => k === 0 || k === 1);
  const out = new Uint8ClampedArray(L.length * 4);
  for (let i = 0; i < L.length; i++) {
    const v = binary ? (L[i] === 1 ? 255 : 0) : L[i]!;
    out[4 * i] = v;
    out[4 * i + 1] = v;
    out[4 * i + 2] = v;
    out[4 * i + 3] = 255;
  }
  return out;
}

/** The cut-out, RGBA: the photo where the label is not background, transparent elsewhere. */
export function cutoutPixels(
  s: Segmentation,
  photo: Uint8ClampedArray,
): Uint8ClampedArray<ArrayBuffer> {
  const L = paletteLabels(s);
  const out = new Uint8ClampedArray(photo.length);
  for (let i = 0; i < L.length; i++) {
    if (L[i] === 0) continue;
    out[4 * i] = photo[4 * i]!;
    out[4 * i + 1] = photo[4 * i + 1]!;
    out[4 * i + 2] = photo[4 * i + 2]!;
    out[4 * i + 3] = 255;
  }
  return out;
}
