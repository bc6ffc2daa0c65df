import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { type RgbImage, rgbImage } from '../containers/containers.js';
import { assertInt, assertObject, SegShapeError, SegValueError } from '../errors.js';

/** An 8-bit single-channel image (a mask or a coded scribble map). */
export interface GrayImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

interface Decoded {
  width: number;
  height: number;
  /** RGBA, 4 bytes a pixel */
  rgba: Uint8Array;
  /** the file stores one channel (gray PNG / gray JPEG) */
  gray: boolean;
}

function isPng(b: Uint8Array): boolean {
  return b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
}
function isJpeg(b: Uint8Array): boolean {
  return b.length > 3 && b[0] === 0xff && b[1] === 0xd8;
}

function decode(fn: string, bytes: Uint8Array): Decoded {
  if (!(bytes instanceof Uint8Array)) throw new SegShapeError(`${fn}: bytes is not a Uint8Array`);
  // The decoders' own errors ("unknown JPEG marker 0", pngjs's stream messages) say
  // nothing of the call: they are wrapped with the function and the format.
  const corrupt = (format: string, e: unknown): SegValueError =>
    new SegValueError(
      `${fn}: the bytes start like a ${format} file but do not decode (${(e as Error)?.message ?? String(e)})`,
      { cause: e },
    );
  if (isPng(bytes)) {
    let png: PNG;
    try {
      png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (e) {
      throw corrupt('PNG', e);
    }
    const colorType = (png as unknown as { colorType?: number }).colorType;
    return {
      width: png.width,
      height: png.height,
      rgba: new Uint8Array(png.data),
      gray: colorType === 0 || colorType === 4,
    };
  }
  if (isJpeg(bytes)) {
    let j: { width: number; height: number; data: Uint8Array };
    try {
      j = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    } catch (e) {
      throw corrupt('JPEG', e);
    }
    return { width: j.width, height: j.height, rgba: j.data, gray: false };
  }
  throw new SegValueError(
    `${fn}: the bytes are neither PNG nor JPEG (first bytes ${Array.from(bytes.subarray(0, 4)).join(',')})`,
  );
}

/** Decodes PNG or JPEG bytes to an {@link RgbImage} (alpha dropped, gray replicated). */
export function decodeImage(bytes: Uint8Array): RgbImage {
  const d = decode('decodeImage', bytes);
  const n = d.width * d.height;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    out[p * 3] = d.rgba[p * 4]!;
    out[p * 3 + 1] = d.rgba[p * 4 + 1]!;
    out[p * 3 + 2] = d.rgba[p * 4 + 2]!;
  }
  return rgbImage(d.width, d.height, out);
}

/** Decodes PNG or JPEG bytes to a {@link GrayImage}: the first channel of a gray file, else the luma (BT.601). */
export function decodeGray(bytes: Uint8Array): GrayImage {
  const d = decode('decodeGray', bytes);
  const n = d.width * d.height;
  const out = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    const r = d.rgba[p * 4]!;
    out[p] = d.gray
      ? r
      : Math.round(0.299 * r + 0.587 * d.rgba[p * 4 + 1]! + 0.114 * d.rgba[p * 4 + 2]!);
  }
  return { width: d.width, height: d.height, data: out };
}

/** Reads a PNG or JPEG file as RGB. */
export function readImage(path: string): RgbImage {
  return decodeImage(readFileSync(path));
}

/** Reads a PNG or JPEG file as 8-bit gray (masks, scribble maps). */
export function readGray(path: string): GrayImage {
  return decodeGray(readFileSync(path));
}

function isRgb(img: RgbImage | GrayImage): boolean {
  return img.data.length === img.width * img.height * 3;
}

function checkImage(fn: string, img: RgbImage | GrayImage): void {
  assertObject(fn, 'image', img);
  if (!(img.data instanceof Uint8Array || (img.data as unknown) instanceof Uint8ClampedArray)) {
    throw new SegShapeError(`${fn}: image.data is not a Uint8Array`);
  }
  assertInt(fn, 'image.width', img.width, 1);
  assertInt(fn, 'image.height', img.height, 1);
  const n = img.width * img.height;
  if (img.data.length !== n && img.data.length !== 3 * n) {
    throw new SegShapeError(
      `${fn}: image.data has length ${img.data.length}, expected width*height = ${n} (gray) or width*height*3 = ${3 * n} (RGB)`,
    );
  }
}

/** Encodes an RGB or gray image as PNG bytes (gray images stay one channel). */
export function encodePng(img: RgbImage | GrayImage): Uint8Array {
  checkImage('encodePng', img);
  const rgb = isRgb(img);
  const png = new PNG({
    width: img.width,
    height: img.height,
    colorType: rgb ? 2 : 0,
    inputColorType: rgb ? 2 : 0,
    inputHasAlpha: false,
  });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return new Uint8Array(
    PNG.sync.write(png, {
      colorType: rgb ? 2 : 0,
      inputColorType: rgb ? 2 : 0,
      inputHasAlpha: false,
    }),
  );
}

/** Encodes an RGB or gray image as JPEG bytes, `quality` 1–100. */
export function encodeJpeg(img: RgbImage | GrayImage, quality = 90): Uint8Array {
  checkImage('encodeJpeg', img);
  assertInt('encodeJpeg', 'quality', quality, 1, 100);
  const n = img.width * img.height;
  const rgba = new Uint8Array(n * 4);
  const rgb = isRgb(img);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) rgba[p * 4 + c] = rgb ? img.data[p * 3 + c]! : img.data[p]!;
    rgba[p * 4 + 3] = 255;
  }
  return new Uint8Array(
    jpeg.encode({ width: img.width, height: img.height, data: rgba }, quality).data,
  );
}

/** Writes an image as PNG or JPEG, chosen by the extension (.png, .jpg, .jpeg); makes the folder. */
export function writeImage(path: string, img: RgbImage | GrayImage, quality = 90): void {
  if (typeof path !== 'string') {
    throw new SegValueError(`writeImage: path is ${String(path)}, expected a string`);
  }
  const lower = path.toLowerCase();
  let bytes: Uint8Array;
  if (lower.endsWith('.png')) bytes = encodePng(img);
  else if (lower.endsWith('.jpg') || lower.endsWith('.jpeg')) bytes = encodeJpeg(img, quality);
  else
    throw new SegValueError(
      `writeImage: path is ${JSON.stringify(path)}, expected a .png, .jpg or .jpeg file`,
    );
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}
