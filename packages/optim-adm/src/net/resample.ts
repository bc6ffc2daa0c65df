/**
 * Resolution changes of the per-image setting: the network trains on a
 * reduced copy of the image (area average), seeds are carried down without
 * losing thin strokes, and probabilities come back up bilinearly.
 */
import {
  assertInt,
  assertNumber,
  type LabelMap,
  labelMap,
  type ProbMap,
  type RgbImage,
  rgbImage,
  SegShapeError,
} from '@seg/tensor';
import { checkImage, checkProbs, checkSeeds } from '../validate.js';

/** Throws unless `w`×`h` is a positive integer size no larger than `W`×`H`. */
function checkTarget(fn: string, w: number, h: number, W: number, H: number): void {
  assertInt(fn, 'w', w, 1);
  assertInt(fn, 'h', h, 1);
  if (w > W || h > H) {
    throw new SegShapeError(
      `${fn}: target size is ${w}×${h}, expected at most the input's ${W}×${H} (it only reduces)`,
    );
  }
}

/** The size of an image whose longer side is at most `maxSide` (never enlarged). */
export function reducedSize(width: number, height: number, maxSide: number): [number, number] {
  const fn = 'reducedSize';
  assertInt(fn, 'width', width, 1);
  assertInt(fn, 'height', height, 1);
  assertNumber(fn, 'maxSide', maxSide, 1);
  const s = Math.min(1, maxSide / Math.max(width, height));
  return [Math.max(1, Math.round(width * s)), Math.max(1, Math.round(height * s))];
}

function spans(n: number, m: number): Int32Array {
  // output cell i covers input [b[i], b[i+1])
  const b = new Int32Array(m + 1);
  for (let i = 0; i <= m; i++) b[i] = Math.round((i * n) / m);
  for (let i = 0; i < m; i++) if (b[i + 1]! <= b[i]!) b[i + 1] = Math.min(n, b[i]! + 1);
  return b;
}

/** Area-average downscale of an RGB image to `w×h` (w ≤ width, h ≤ height). */
export function downscaleImage(image: RgbImage, w: number, h: number): RgbImage {
  checkImage('downscaleImage', image);
  checkTarget('downscaleImage', w, h, image.width, image.height);
  if (w === image.width && h === image.height) return image;
  const bx = spans(image.width, w);
  const by = spans(image.height, h);
  const out = new Uint8Array(w * h * 3);
  const src = image.data;
  const W = image.width;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let n = 0;
      for (let v = by[y]!; v < by[y + 1]!; v++) {
        for (let u = bx[x]!; u < bx[x + 1]!; u++) {
          const i = (v * W + u) * 3;
          r += src[i]!;
          g += src[i + 1]!;
          b += src[i + 2]!;
          n++;
        }
      }
      const o = (y * w + x) * 3;
      out[o] = Math.round(r / n);
      out[o + 1] = Math.round(g / n);
      out[o + 2] = Math.round(b / n);
    }
  }
  return rgbImage(w, h, out);
}

/**
 * Downscales seeds to `w×h`: a cell takes the label most of its seeded
 * pixels have (ties: the smaller label), -1 when it holds no seed, so thin
 * scribbles survive.
 */
export function downscaleSeeds(seeds: LabelMap, w: number, h: number, numLabels: number): LabelMap {
  const fn = 'downscaleSeeds';
  assertInt(fn, 'numLabels', numLabels, 1);
  if (!seeds || !(Number.isInteger(seeds.width) && Number.isInteger(seeds.height))) {
    throw new SegShapeError(`${fn}: seeds is not a LabelMap with integer sizes`);
  }
  checkSeeds(fn, seeds, seeds.width, seeds.height, numLabels, false);
  checkTarget(fn, w, h, seeds.width, seeds.height);
  if (w === seeds.width && h === seeds.height) return seeds;
  const bx = spans(seeds.width, w);
  const by = spans(seeds.height, h);
  const out = new Int32Array(w * h).fill(-1);
  const counts = new Int32Array(numLabels);
  const W = seeds.width;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      counts.fill(0);
      let any = false;
      for (let v = by[y]!; v < by[y + 1]!; v++) {
        for (let u = bx[x]!; u < bx[x + 1]!; u++) {
          const s = seeds.data[v * W + u]!;
          if (s >= 0) {
            counts[s]!++;
            any = true;
          }
        }
      }
      if (!any) continue;
      let best = 0;
      for (let k = 1; k < numLabels; k++) if (counts[k]! > counts[best]!) best = k;
      out[y * w + x] = best;
    }
  }
  return labelMap(w, h, out);
}

/** Bilinear upsampling (half-pixel centres) of probabilities to `W×H`; each pixel stays on the simplex. */
export function upscaleProbs(probs: ProbMap, W: number, H: number): ProbMap {
  const fn = 'upscaleProbs';
  checkProbs(fn, 'probs', probs);
  assertInt(fn, 'W', W, 1);
  assertInt(fn, 'H', H, 1);
  const { width: w, height: h, numLabels: K, data } = probs;
  if (w === W && h === H) return probs;
  const out = new Float32Array(W * H * K);
  const sx = w / W;
  const sy = h / H;
  for (let y = 0; y < H; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const ty = fy - y0;
    for (let x = 0; x < W; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const tx = fx - x0;
      const a = (y0 * w + x0) * K;
      const b = (y0 * w + x1) * K;
      const c = (y1 * w + x0) * K;
      const d = (y1 * w + x1) * K;
      const o = (y * W + x) * K;
      for (let k = 0; k < K; k++) {
        out[o + k] =
          (1 - ty) * ((1 - tx) * data[a + k]! + tx * data[b + k]!) +
          ty * ((1 - tx) * data[c + k]! + tx * data[d + k]!);
      }
    }
  }
  return { width: W, height: H, numLabels: K, data: out };
}
