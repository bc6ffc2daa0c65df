import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rgbImage } from '../index.js';
import {
  decodeGray,
  decodeImage,
  encodeJpeg,
  encodePng,
  readGray,
  readImage,
  writeImage,
} from '../node/index.js';

const samples = new URL('../../../../samples/grabcut/', import.meta.url);

describe('image io (Node)', () => {
  it('reads the bundled GrabCut sample image, mask and scribbles', () => {
    const img = readImage(new URL('images/llama.png', samples).pathname);
    expect([img.width, img.height]).toEqual([513, 371]);
    expect(img.data.length).toBe(img.width * img.height * 3);
    const mask = readGray(new URL('masks/banana1.png', samples).pathname);
    expect(mask.data.length).toBe(mask.width * mask.height);
    expect(new Set(mask.data)).toEqual(new Set([0, 128, 255]));
    const scr = readGray(new URL('scribbles-1/llama.png', samples).pathname);
    expect([...new Set(scr.data)].sort()).toEqual([0, 1, 2]);
  });

  it('round-trips RGB and gray PNG exactly and JPEG closely', () => {
    const data = Uint8Array.from({ length: 5 * 4 * 3 }, (_, i) => (i * 37) % 256);
    const img = rgbImage(5, 4, data);
    expect(decodeImage(encodePng(img))).toEqual(img);
    const gray = { width: 5, height: 4, data: Uint8Array.from({ length: 20 }, (_, i) => i * 12) };
    expect(decodeGray(encodePng(gray))).toEqual(gray);
    const smooth = rgbImage(
      16,
      16,
      Uint8Array.from({ length: 16 * 16 * 3 }, (_, i) => 100 + (((i / 3) | 0) % 16)),
    );
    const back = decodeImage(encodeJpeg(smooth, 95));
    let maxDiff = 0;
    for (let i = 0; i < back.data.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(back.data[i]! - smooth.data[i]!));
    expect(maxDiff).toBeLessThan(8);
    const dir = mkdtempSync(join(tmpdir(), 'seg-io-'));
    writeImage(join(dir, 'a/b.png'), img);
    expect(readImage(join(dir, 'a/b.png'))).toEqual(img);
    writeImage(join(dir, 'c.jpg'), smooth);
    expect(readFileSync(join(dir, 'c.jpg'))[0]).toBe(0xff);
  });

  it('refuses what it cannot read or write', () => {
    expect(() => decodeImage(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]))).toThrow(
      'decodeImage: the bytes are neither PNG nor JPEG (first bytes 1,2,3,4)',
    );
    expect(() => writeImage('/tmp/x.gif', rgbImage(1, 1, new Uint8Array(3)))).toThrow(
      'writeImage: path is "/tmp/x.gif" (extension .gif), expected a .png, .jpg or .jpeg file',
    );
    expect(() => encodePng({ width: 2, height: 2, data: new Uint8Array(5) })).toThrow(
      'encodePng: image.data has length 5, expected width*height = 4 (gray) or width*height*3 = 12 (RGB)',
    );
    const png = encodePng(rgbImage(2, 2, new Uint8Array(12)));
    expect(() => decodeImage(png.subarray(0, 30))).toThrow(
      /^decodeImage: the bytes start like a PNG file but do not decode \(/,
    );
    const jpg = encodeJpeg(rgbImage(2, 2, new Uint8Array(12)));
    expect(() => decodeGray(jpg.subarray(0, 30))).toThrow(
      'decodeGray: the bytes start like a JPEG file but do not decode (unknown JPEG marker 0)',
    );
    expect(() => decodeImage('abc' as never)).toThrow('decodeImage: bytes is not a Uint8Array');
    const floats = { width: 1, height: 1, data: Float32Array.from([300, 1, 2]) };
    expect(() => encodePng(floats as never)).toThrow('encodePng: image.data is not a Uint8Array');
    expect(() => writeImage(3 as never, rgbImage(1, 1, new Uint8Array(3)))).toThrow(
      'writeImage: path is 3, expected a string',
    );
  });
});
