import { describe, expect, it } from 'vitest';
import { cutoutPixels, maskPixels, renderOverlay } from '../overlay.js';
import { fitView, pinchView, toImage, zoomAt } from '../view.js';

describe('overlay and exports', () => {
  const seg = { width: 3, height: 1, labels: Uint8Array.from([0, 1, 1]), used: [0, 1] };

  it('exports object 255 / background 0, and an index map with more labels', () => {
    expect(Array.from(maskPixels(seg).filter((_, i) => i % 4 === 0))).toEqual([0, 255, 255]);
    const multi = { ...seg, labels: Uint8Array.from([0, 1, 2]), used: [0, 1, 4] };
    expect(Array.from(maskPixels(multi).filter((_, i) => i % 4 === 0))).toEqual([0, 1, 4]);
  });

  it('cuts out the non-background pixels with their colour, the rest transparent', () => {
    const photo = Uint8ClampedArray.from([1, 2, 3, 255, 4, 5, 6, 255, 7, 8, 9, 255]);
    expect(Array.from(cutoutPixels(seg, photo))).toEqual([0, 0, 0, 0, 4, 5, 6, 255, 7, 8, 9, 255]);
  });

  it('draws the outline only, the mask opaque, nothing when off', () => {
    const alpha = (px: Uint8ClampedArray) => Array.from(px.filter((_, i) => i % 4 === 3));
    expect(alpha(renderOverlay(seg, 'outline', 0.5))).toEqual([0, 255, 0]);
    expect(alpha(renderOverlay(seg, 'mask', 0.1))).toEqual([255, 255, 255]);
    expect(alpha(renderOverlay(seg, 'off', 1))).toEqual([0, 0, 0]);
    expect(alpha(renderOverlay(seg, 'fill', 0))[0]).toBe(0);
  });
});

describe('view', () => {
  it('fits, zooms about a point and maps back to the image', () => {
    const v = fitView(200, 100, 400, 400);
    expect(v).toEqual({ scale: 2, tx: 0, ty: 100 });
    const z = zoomAt(v, 2, 100, 150);
    expect(toImage(z, 100, 150)).toEqual(toImage(v, 100, 150));
    const p = pinchView(v, { x: 0, y: 100, d: 10 }, { x: 50, y: 100, d: 20 });
    expect(p.scale).toBe(4);
    expect(toImage(p, 50, 100)).toEqual([0, 0]);
  });
});
