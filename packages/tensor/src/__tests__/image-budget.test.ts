// Issue 17: bounded resources for untrusted image files. Declared sizes are checked against a
// pixel budget before decoding; file-system failures are named; writes are atomic; and a
// bounded fuzz target drives PNG / JPEG decoding through our wrappers.
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rgbImage, SegRangeError, SegValueError } from '../index.js';
import {
  DEFAULT_MAX_PIXELS,
  decodeGray,
  decodeImage,
  encodeJpeg,
  encodePng,
  ImageFileError,
  ImageTooLargeError,
  imageFormatOf,
  readGray,
  readImage,
  writeImage,
} from '../node/index.js';
import { expectThrow } from '../testing/index.js';

/** A PNG of the given size whose IHDR declares `w`×`h` (CRC fixed) and whose data is tiny. */
function pngDeclaring(w: number, h: number): Uint8Array {
  const b = encodePng(rgbImage(2, 2, new Uint8Array(12)));
  return setPngSize(b, w, h);
}

function setPngSize(png: Uint8Array, w: number, h: number): Uint8Array {
  const b = Uint8Array.from(png);
  const v = new DataView(b.buffer);
  v.setUint32(16, w >>> 0);
  v.setUint32(20, h >>> 0);
  v.setUint32(29, crc32(b.subarray(12, 29)) >>> 0); // IHDR's CRC over type + data
  return b;
}

/** Offset of the first SOFn marker's height field in a JPEG (jpeg-js writes SOF0). */
function sofOffset(j: Uint8Array): number {
  for (let i = 2; i + 1 < j.length; i++) if (j[i] === 0xff && j[i + 1] === 0xc0) return i + 5;
  throw new Error('no SOF0');
}

function setJpegSize(jpg: Uint8Array, w: number, h: number): Uint8Array {
  const b = Uint8Array.from(jpg);
  const o = sofOffset(b);
  b[o] = (h >> 8) & 255;
  b[o + 1] = h & 255;
  b[o + 2] = (w >> 8) & 255;
  b[o + 3] = w & 255;
  return b;
}

const img8 = rgbImage(
  8,
  6,
  Uint8Array.from({ length: 8 * 6 * 3 }, (_, i) => (i * 53) % 256),
);

describe('pixel budget (declared sizes checked before decoding)', () => {
  it('refuses a 20000×20000 PNG bomb from its header, at once, with the size and the budget', () => {
    const bomb = pngDeclaring(20000, 20000);
    const t0 = performance.now();
    expectThrow(
      () => decodeImage(bomb),
      ImageTooLargeError,
      'decodeImage: the PNG declares 20000×20000 = 400 MP, over the pixel budget of 25 MP (options.maxPixels = 25000000)',
    );
    expect(performance.now() - t0).toBeLessThan(200);
    expect(new ImageTooLargeError('x')).toBeInstanceOf(SegRangeError);
    expect(DEFAULT_MAX_PIXELS).toBe(25_000_000);
  });

  it('refuses a JPEG whose frame header declares 20000×20000', () => {
    const j = setJpegSize(encodeJpeg(img8), 20000, 20000);
    expectThrow(
      () => decodeGray(j),
      ImageTooLargeError,
      'decodeGray: the JPEG declares 20000×20000 = 400 MP, over the pixel budget of 25 MP (options.maxPixels = 25000000)',
    );
  });

  it('refuses a zero side (a 0×17260474 PNG took pngjs 3 minutes, found by the fuzz target)', () => {
    expectThrow(
      () => decodeImage(pngDeclaring(0, 17260474)),
      SegValueError,
      'decodeImage: the PNG declares 0×17260474, expected a width and a height in [1, 2³¹ − 1]',
    );
    expectThrow(
      () => decodeGray(setJpegSize(encodeJpeg(img8), 8, 0)),
      SegValueError,
      'decodeGray: the JPEG declares 8×0, expected a width and a height in [1, 2³¹ − 1]',
    );
  });

  it('takes the budget from options.maxPixels, exact at the limit', () => {
    const png = encodePng(img8);
    expect(decodeImage(png, { maxPixels: 48 }).width).toBe(8);
    expectThrow(
      () => decodeImage(png, { maxPixels: 47 }),
      ImageTooLargeError,
      'decodeImage: the PNG declares 8×6 = 0.000048 MP, over the pixel budget of 0.000047 MP (options.maxPixels = 47)',
    );
    expect(decodeGray(encodeJpeg(img8), { maxPixels: 48 }).height).toBe(6);
    expectThrow(
      () => decodeImage(png, { maxPixels: 0 }),
      SegRangeError,
      'decodeImage: options.maxPixels is 0, expected an integer in [1, 9007199254740991]',
    );
  });

  it('readImage / readGray: the budget, a file too large to hold an image within it, missing files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seg-budget-'));
    const p = join(dir, 'bomb.png');
    writeFileSync(p, pngDeclaring(20000, 20000));
    expectThrow(
      () => readImage(p),
      ImageTooLargeError,
      'readImage: the PNG declares 20000×20000 = 400 MP, over the pixel budget of 25 MP (options.maxPixels = 25000000)',
    );
    const q = join(dir, 'small.png');
    writeFileSync(q, encodePng(img8));
    expect(readGray(q, { maxPixels: 48 }).width).toBe(8);
    expectThrow(
      () => readGray(q, { maxPixels: 47 }),
      ImageTooLargeError,
      'readGray: the PNG declares 8×6 = 0.000048 MP, over the pixel budget of 0.000047 MP (options.maxPixels = 47)',
    );
  });
});

describe('file errors are named', () => {
  it('readImage of a missing file, a folder, and a file larger than the byte bound', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seg-read-'));
    expectThrow(
      () => readImage(join(dir, 'nope.png')),
      ImageFileError,
      `readImage: cannot read ${JSON.stringify(join(dir, 'nope.png'))} (ENOENT: no such file or directory, stat '${join(dir, 'nope.png')}')`,
    );
    expectThrow(
      () => readGray(dir),
      ImageFileError,
      `readGray: ${JSON.stringify(dir)} is not a file`,
    );
    const big = join(dir, 'big.png');
    writeFileSync(big, '');
    truncateSync(big, 2 ** 24 + 100); // sparse: nothing is written
    expectThrow(
      () => readImage(big, { maxPixels: 10 }),
      ImageTooLargeError,
      `readImage: ${JSON.stringify(big)} is 16777316 bytes, over the 16777296 bytes an image within the pixel budget of 0.00001 MP can take (options.maxPixels = 10)`,
    );
  });

  it('writeImage under /proc fails at once instead of spinning in mkdir (was a hang)', () => {
    const t0 = performance.now();
    expectThrow(
      () => writeImage('/proc/nope/x.png', img8),
      ImageFileError,
      "writeImage: cannot make the folder /proc/nope (ENOENT: no such file or directory, mkdir '/proc/nope')",
    );
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('writeImage: a parent that is a file, an unknown extension, and no temporary file left', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seg-write-'));
    writeFileSync(join(dir, 'file'), 'x');
    expectThrow(
      () => writeImage(join(dir, 'file/sub/x.png'), img8),
      ImageFileError,
      `writeImage: cannot make the folder ${join(dir, 'file/sub')}: ${join(dir, 'file')} is a file, not a folder`,
    );
    expectThrow(
      () => writeImage(join(dir, 'x.bmp'), img8),
      SegValueError,
      `writeImage: path is ${JSON.stringify(join(dir, 'x.bmp'))} (extension .bmp), expected a .png, .jpg or .jpeg file`,
    );
    expectThrow(
      () => imageFormatOf('out/mask'),
      SegValueError,
      'imageFormatOf: path is "out/mask" (no extension), expected a .png, .jpg or .jpeg file',
    );
    expect(imageFormatOf('a/B.JPEG')).toBe('jpeg');
    // the target is a folder: the rename fails, the folder stays, no temporary file is left
    const target = join(dir, 'taken.png');
    writeImage(join(target, 'inner.png'), img8);
    expect(() => writeImage(target, img8)).toThrow(ImageFileError);
    expect(readdirSync(dir).sort()).toEqual(['file', 'taken.png']);
    // a successful write replaces the old file whole
    const out = join(dir, 'ok.png');
    writeFileSync(out, 'old');
    writeImage(out, img8);
    expect(decodeImage(readFileSync(out))).toEqual(img8);
    expect(existsSync(out)).toBe(true);
  });
});

describe('fuzz: PNG / JPEG decoding through decodeImage / decodeGray', () => {
  const MAX = 4096; // a small budget, so that "past the budget" is cheap to detect
  const seedsPng = [
    encodePng(img8),
    encodePng({ width: 5, height: 7, data: Uint8Array.from({ length: 35 }, (_, i) => i * 7) }),
  ];
  const seedsJpeg = [
    encodeJpeg(img8, 80),
    encodeJpeg({ width: 9, height: 4, data: new Uint8Array(36) }),
  ];

  /** Mutations of valid files: byte flips, truncation, declared sizes (PNG CRC kept valid), noise. */
  const input = fc.oneof(
    fc
      .record({
        base: fc.constantFrom(...seedsPng, ...seedsJpeg),
        flips: fc.array(fc.record({ at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }), {
          maxLength: 6,
        }),
        cut: fc.option(fc.nat(), { nil: undefined }),
      })
      .map(({ base, flips, cut }) => {
        const b = Uint8Array.from(base);
        for (const f of flips) b[f.at % b.length] = f.v;
        return cut === undefined ? b : b.subarray(0, cut % (b.length + 1));
      }),
    fc
      .record({
        base: fc.constantFrom(...seedsPng),
        w: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.nat({ max: 2 ** 31 })),
        h: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.nat({ max: 2 ** 31 })),
      })
      .map(({ base, w, h }) => setPngSize(base, w, h)),
    fc
      .record({
        base: fc.constantFrom(...seedsJpeg),
        w: fc.integer({ min: 0, max: 65535 }),
        h: fc.integer({ min: 0, max: 65535 }),
      })
      .map(({ base, w, h }) => setJpegSize(base, w, h)),
    fc
      .record({
        head: fc.constantFrom([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], [0xff, 0xd8]),
        rest: fc.uint8Array({ maxLength: 200 }),
      })
      .map(({ head, rest }) => Uint8Array.from([...head, ...rest])),
  );

  it('never crashes with anything but our named errors, and never decodes past the budget', () => {
    let decoded = 0;
    let refused = 0;
    fc.assert(
      fc.property(input, fc.boolean(), (bytes, gray) => {
        const before = process.memoryUsage().arrayBuffers;
        const t0 = performance.now();
        try {
          const img = gray
            ? decodeGray(bytes, { maxPixels: MAX })
            : decodeImage(bytes, { maxPixels: MAX });
          expect(img.width * img.height).toBeLessThanOrEqual(MAX);
          expect(img.data.length).toBe(img.width * img.height * (gray ? 1 : 3));
          decoded++;
        } catch (e) {
          if (!(e instanceof SegValueError || e instanceof SegRangeError)) throw e;
          expect((e as Error).message).toMatch(/^decode(Image|Gray): /);
          refused++;
        }
        // MAX pixels is 16 KiB of RGBA: nothing near a large allocation, nor a long loop
        expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 2 ** 20);
        expect(performance.now() - t0).toBeLessThan(2000);
      }),
      { numRuns: 1000, seed: 17 },
    );
    expect(decoded).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  }, 30_000);
});
