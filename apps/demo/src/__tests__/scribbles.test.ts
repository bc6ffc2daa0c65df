import { describe, expect, it } from 'vitest';
import { countSeeds, rasterizeStrokes, seedsFromCodes } from '../scribbles.js';

describe('rasterizeStrokes', () => {
  it('labels the pixels within the brush radius of the polyline, later strokes winning', () => {
    const seeds = rasterizeStrokes(9, 5, [
      {
        label: 1,
        radius: 1,
        points: [
          [1, 2],
          [7, 2],
        ],
      },
      {
        label: 0,
        radius: 0.5,
        points: [
          [4, 0],
          [4, 4],
        ],
      },
    ]);
    const rows = Array.from({ length: 5 }, (_, y) =>
      Array.from(seeds.data.slice(y * 9, y * 9 + 9), (v) => (v === -1 ? '.' : String(v))).join(''),
    );
    expect(rows).toEqual(['....0....', '.1110111.', '111101111', '.1110111.', '....0....']);
    expect(countSeeds(seeds)).toEqual({ object: 20, background: 5 });
  });

  it('handles a single click and clips at the border', () => {
    const seeds = rasterizeStrokes(3, 3, [{ label: 1, radius: 1, points: [[0, 0]] }]);
    expect(Array.from(seeds.data)).toEqual([1, 1, -1, 1, -1, -1, -1, -1, -1]);
  });
});

describe('seedsFromCodes', () => {
  it('maps the GrabCut scribble codes', () => {
    expect(Array.from(seedsFromCodes(4, 1, Uint8Array.from([0, 1, 2, 3])).data)).toEqual([
      -1, 1, 0, -1,
    ]);
  });
});
