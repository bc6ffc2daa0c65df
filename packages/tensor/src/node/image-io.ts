import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { type RgbImage, rgbImage } from '../containers/containers.js';
import {
  assertInt,
  assertObject,
  optionsObject,
  SegRangeError,
  SegShapeError,
  SegValueError,
} from '../errors.js';

/**
 * The default pixel budget of the image readers: 25 megapixels (a 5000×5000
 * image; about 100 MB of decoded RGBA). Images whose header declares more
 * are refused before any pixel is decoded; pass `maxPixels` to change it.
 */
export const DEFAULT_MAX_PIXELS = 25_000_000;

/** Options of the image readers ({@link decodeImage}, {@link readImage}, ...). */
export interface ReadImageOptions {
  /**
   * Largest width·height accepted, checked against the size the PNG / JPEG
   * header declares before decoding. @default DEFAULT_MAX_PIXELS (25 MP)
   */
  maxPixels?: number;
}

/**
 * An image is larger than the pixel budget (`maxPixels`): thrown from the
 * header's declared size, before decoding allocates anything. A
 * {@link SegRangeError}.
 */
export class ImageTooLargeError extends SegRangeError {
  override name = 'ImageTooLargeError';
}

/** Reading or writing an image file failed (missing, unreadable, not writable, disk full...). */
export class ImageFileError extends Error {
  override name = 'ImageFileError';
}

function budgetOf(fn: string, options: ReadImageOptions | undefined): number {
  const o = optionsObject(fn, options);
  const maxPixels = o.maxPixels ?? DEFAULT_MAX_PIXELS;
  assertInt(fn, 'options.maxPixels', maxPixels, 1, Number.MAX_SAFE_INTEGER);
  return maxPixels;
}

/** Node's file-system messages start with the code: `ENOENT: no such file or directory, stat 'x'`. */
function ioReason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function megapixels(n: number): string {
  return `${Number((n / 1e6).toPrecision(3))} MP`;
}

function checkBudget(fn: string, format: string, w: number, h: number, maxPixels: number): void {
  if (w < 1 || h < 1 || w > 2 ** 31 - 1 || h > 2 ** 31 - 1) {
    // a zero side passes any budget but makes pngjs loop over millions of empty rows
    throw new SegValueError(
      `${fn}: the ${format} declares ${w}×${h}, expected a width and a height in [1, 2³¹ − 1]`,
    );
  }
  if (w * h > maxPixels) {
    throw new ImageTooLargeError(
      `${fn}: the ${format} declares ${w}×${h} = ${megapixels(w * h)}, over the pixel budget of ${megapixels(maxPixels)} (options.maxPixels = ${maxPixels})`,
    );
  }
}

/** Width and height from a PNG's IHDR chunk (bytes 16–23), or null when it has none. */
function pngSize(b: Uint8Array): [number, number] | null {
  if (b.length < 24) return null;
  if (b[12] !== 0x49 || b[13] !== 0x48 || b[14] !== 0x44 || b[15] !== 0x52) return null; // IHDR
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return [v.getUint32(16), v.getUint32(20)];
}

/** Width and height from a JPEG's first SOFn frame header, or null when none comes before the scan. */
function jpegSize(b: Uint8Array): [number, number] | null {
  let i = 2;
  while (i + 3 < b.length) {
    if (b[i] !== 0xff) return null;
    const m = b[i + 1]!;
    if (m === 0xff) {
      i++; // fill byte
      continue;
    }
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      i += 2; // markers without a length
      continue;
    }
    if (m === 0xd9 || m === 0xda) return null; // end of image / start of scan
    const len = (b[i + 2]! << 8) | b[i + 3]!;
    const sof = m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
    if (sof) {
      if (i + 8 >= b.length) return null;
      return [(b[i + 7]! << 8) | b[i + 8]!, (b[i + 5]! << 8) | b[i + 6]!];
    }
    if (len < 2) return null;
    i += 2 + len;
  }
  return null;
}

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

function decode(fn: string, bytes: Uint8Array, maxPixels: number): Decoded {
  if (!(bytes instanceof Uint8Array)) throw new SegShapeError(`${fn}: bytes is not a Uint8Array`);
  // The decoders' own errors ("unknown JPEG marker 0", pngjs's stream messages) say
  // nothing of the call: they are wrapped with the function and the format.
  const corrupt = (format: string, e: unknown): SegValueError =>
    new SegValueError(
      `${fn}: the bytes start like a ${format} file but do not decode (${(e as Error)?.message ?? String(e)})`,
      { cause: e },
    );
  if (isPng(bytes)) {
    const size = pngSize(bytes);
    if (!size) throw corrupt('PNG', new Error('no IHDR chunk first'));
    checkBudget(fn, 'PNG', size[0], size[1], maxPixels);
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
    const size = jpegSize(bytes);
    if (size) checkBudget(fn, 'JPEG', size[0], size[1], maxPixels);
    let j: { width: number; height: number; data: Uint8Array };
    try {
      // jpeg-js's own limits as a second guard (a frame we did not find, e.g. after a DNL)
      j = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: maxPixels / 1e6,
        maxMemoryUsageInMB: Math.max(512, Math.ceil((maxPixels * 12) / 2 ** 20)),
      });
    } catch (e) {
      throw corrupt('JPEG', e);
    }
    if (j.width * j.height > maxPixels) checkBudget(fn, 'JPEG', j.width, j.height, maxPixels);
    return { width: j.width, height: j.height, rgba: j.data, gray: false };
  }
  throw new SegValueError(
    `${fn}: the bytes are neither PNG nor JPEG (first bytes ${Array.from(bytes.subarray(0, 4)).join(',')})`,
  );
}

/**
 * Decodes PNG or JPEG bytes to an {@link RgbImage} (alpha dropped, gray
 * replicated). Throws {@link ImageTooLargeError} when the header declares
 * more than `options.maxPixels` (default 25 MP), before decoding, and a
 * SegValueError for bytes that do not decode.
 */
export function decodeImage(bytes: Uint8Array, options?: ReadImageOptions): RgbImage {
  return toRgb(decode('decodeImage', bytes, budgetOf('decodeImage', options)));
}

function toRgb(d: Decoded): RgbImage {
  const n = d.width * d.height;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    out[p * 3] = d.rgba[p * 4]!;
    out[p * 3 + 1] = d.rgba[p * 4 + 1]!;
    out[p * 3 + 2] = d.rgba[p * 4 + 2]!;
  }
  return rgbImage(d.width, d.height, out);
}

/**
 * Decodes PNG or JPEG bytes to a {@link GrayImage}: the first channel of a
 * gray file, else the luma (BT.601). Budget and errors as {@link decodeImage}.
 */
export function decodeGray(bytes: Uint8Array, options?: ReadImageOptions): GrayImage {
  return toGray(decode('decodeGray', bytes, budgetOf('decodeGray', options)));
}

function toGray(d: Decoded): GrayImage {
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

/**
 * The bytes of an image file, refused (ImageTooLargeError) when the file is
 * larger than a compressed image within the budget can be (8 bytes a pixel
 * of `maxPixels` plus 16 MiB of metadata), before it is read.
 */
function readBytes(fn: string, path: string, maxPixels: number): Uint8Array {
  if (typeof path !== 'string') {
    throw new SegValueError(`${fn}: path is ${String(path)}, expected a string`);
  }
  const fail = (e: unknown): ImageFileError => {
    return new ImageFileError(`${fn}: cannot read ${JSON.stringify(path)} (${ioReason(e)})`, {
      cause: e,
    });
  };
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) {
      throw new ImageFileError(`${fn}: ${JSON.stringify(path)} is not a file`);
    }
    size = st.size;
  } catch (e) {
    if (e instanceof ImageFileError) throw e;
    throw fail(e);
  }
  const maxBytes = maxPixels * 8 + 2 ** 24;
  if (size > maxBytes) {
    throw new ImageTooLargeError(
      `${fn}: ${JSON.stringify(path)} is ${size} bytes, over the ${maxBytes} bytes an image within the pixel budget of ${megapixels(maxPixels)} can take (options.maxPixels = ${maxPixels})`,
    );
  }
  try {
    return readFileSync(path);
  } catch (e) {
    throw fail(e);
  }
}

/** Reads a PNG or JPEG file as RGB, within the pixel budget (see {@link decodeImage}). */
export function readImage(path: string, options?: ReadImageOptions): RgbImage {
  const fn = 'readImage';
  const maxPixels = budgetOf(fn, options);
  return toRgb(decode(fn, readBytes(fn, path, maxPixels), maxPixels));
}

/** Reads a PNG or JPEG file as 8-bit gray (masks, scribble maps), within the pixel budget (see {@link decodeGray}). */
export function readGray(path: string, options?: ReadImageOptions): GrayImage {
  const fn = 'readGray';
  const maxPixels = budgetOf(fn, options);
  return toGray(decode(fn, readBytes(fn, path, maxPixels), maxPixels));
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

/** The image formats a path's extension selects: .png, or .jpg / .jpeg (any case). */
export type ImageFormat = 'png' | 'jpeg';

/**
 * The format {@link writeImage} writes to `path`, from its extension; a
 * SegValueError naming the extension for anything else (no extension, .bmp...).
 */
export function imageFormatOf(path: string, fn = 'imageFormatOf'): ImageFormat {
  if (typeof path !== 'string') {
    throw new SegValueError(`${fn}: path is ${String(path)}, expected a string`);
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.png') return 'png';
  if (ext === '.jpg' || ext === '.jpeg') return 'jpeg';
  throw new SegValueError(
    `${fn}: path is ${JSON.stringify(path)}${ext ? ` (extension ${ext})` : ' (no extension)'}, expected a .png, .jpg or .jpeg file`,
  );
}

/**
 * Makes the folder `dir` and its missing parents, one level at a time (Node's
 * `mkdirSync(dir, { recursive: true })` loops forever on some paths, e.g.
 * under /proc). Throws an {@link ImageFileError} naming the level that fails
 * or an existing parent that is not a folder.
 */
export function makeFolder(dir: string, fn = 'makeFolder'): void {
  const missing: string[] = [];
  let d = resolve(dir);
  while (!existsSync(d)) {
    missing.push(d);
    const parent = dirname(d);
    if (parent === d) break;
    d = parent;
  }
  if (existsSync(d) && !statSync(d).isDirectory()) {
    throw new ImageFileError(`${fn}: cannot make the folder ${dir}: ${d} is a file, not a folder`);
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err?.code === 'EEXIST' && statSync(m).isDirectory()) continue;
      throw new ImageFileError(`${fn}: cannot make the folder ${m} (${ioReason(e)})`, { cause: e });
    }
  }
}

/**
 * Writes bytes to `path` atomically: to a temporary file in the same folder
 * (made if missing, see {@link makeFolder}), flushed, then renamed over
 * `path`, so `path` is never left half written. The temporary file is removed
 * when anything fails, and an {@link ImageFileError} says what.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array, fn = 'writeFileAtomic'): void {
  const dir = dirname(resolve(path));
  makeFolder(dir, fn);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {}
    }
    try {
      unlinkSync(tmp);
    } catch {}
    throw new ImageFileError(`${fn}: cannot write ${JSON.stringify(path)} (${ioReason(e)})`, {
      cause: e,
    });
  }
}

/**
 * Writes an image as PNG or JPEG, chosen by the extension (.png, .jpg,
 * .jpeg; see {@link imageFormatOf}); makes the folder; atomic (see
 * {@link writeFileAtomic}): on failure `path` is unchanged and an
 * {@link ImageFileError} says why.
 */
export function writeImage(path: string, img: RgbImage | GrayImage, quality = 90): void {
  const format = imageFormatOf(path, 'writeImage');
  const bytes = format === 'png' ? encodePng(img) : encodeJpeg(img, quality);
  writeFileAtomic(path, bytes, 'writeImage');
}
