import { describe, expect, it } from 'vitest';
import {
  compactLabels,
  countSeeds,
  ERASE,
  MarkHistory,
  rasterizeStrokes,
  seedsFromCodes,
} from '../scribbles.js';

const rows = (data: Int32Array, w: number) =>
  Array.from({ length: data.length / w }, (_, y) =>
    Array.from(data.slice(y * w, y * w + w), (v) => (v === -1 ? '.' : String(v))).join(''),
  );

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
    expect(rows(seeds.data, 9)).toEqual([
      '....0....',
      '.1110111.',
      '111101111',
      '.1110111.',
      '....0....',
    ]);
    expect(countSeeds(seeds).slice(0, 2)).toEqual([5, 20]);
  });

  it('handles a single click and clips at the border', () => {
    const seeds = rasterizeStrokes(3, 3, [{ label: 1, radius: 1, points: [[0, 0]] }]);
    expect(Array.from(seeds.data)).toEqual([1, 1, -1, 1, -1, -1, -1, -1, -1]);
  });

  it('erases, and lays seed layers over the strokes', () => {
    const layer = Int32Array.from([-1, -1, 2, -1, -1, -1, -1, -1, -1]);
    const seeds = rasterizeStrokes(3, 3, [
      { label: 1, radius: 2, points: [[1, 1]] },
      { label: ERASE, radius: 0.5, points: [[1, 1]] },
      { kind: 'seeds', data: layer },
    ]);
    expect(rows(seeds.data, 3)).toEqual(['112', '1.1', '111']);
  });
});

describe('compactLabels', () => {
  it('numbers the labels in use from 0, in palette order', () => {
    const { used, seeds } = compactLabels({
      width: 5,
      height: 1,
      data: Int32Array.from([-1, 5, 0, 5, 3]),
    });
    expect(used).toEqual([0, 3, 5]);
    expect(Array.from(seeds.data)).toEqual([-1, 2, 0, 2, 1]);
  });
});

describe('MarkHistory', () => {
  it('undoes and redoes strokes and a clear', () => {
    const h = new MarkHistory();
    const a = { label: 1, radius: 1, points: [[0, 0]] as Array<[number, number]> };
    const b = { label: 0, radius: 1, points: [[1, 1]] as Array<[number, number]> };
    h.push(a);
    h.push(b);
    h.clear();
    expect(h.marks).toEqual([]);
    expect(h.undo()).toBe(true);
    expect(h.marks).toEqual([a, b]);
    expect(h.undo()).toBe(true);
    expect(h.marks).toEqual([a]);
    expect(h.redo()).toBe(true);
    expect(h.marks).toEqual([a, b]);
    h.undo();
    h.push(a);
    expect(h.canRedo).toBe(false);
    expect(h.marks).toEqual([a, a]);
  });
});

describe('seedsFromCodes', () => {
  it('maps the GrabCut scribble codes', () => {
    expect(Array.from(seedsFromCodes(4, 1, Uint8Array.from([0, 1, 2, 3])).data)).toEqual([
      -1, 1, 0, -1,
    ]);
  });
});
