// Zoom and pan: an image drawn at `scale` screen pixels per image pixel,
// its top-left corner at (tx, ty) in the viewport.

/** Where the image is in the viewport. */
export interface View {
  scale: number;
  tx: number;
  ty: number;
}

/** The smallest and largest zoom, relative to the fitted view and absolute. */
export const MIN_ZOOM = 0.05;
export const MAX_ZOOM = 32;

/** The whole image, centred, as large as the viewport allows (never above 4× its size). */
export function fitView(imgW: number, imgH: number, vpW: number, vpH: number): View {
  const scale = Math.min(vpW / imgW, vpH / imgH, 4);
  return { scale, tx: (vpW - imgW * scale) / 2, ty: (vpH - imgH * scale) / 2 };
}

/** Zooms by `factor` keeping the image point under viewport point (x, y) in place. */
export function zoomAt(v: View, factor: number, x: number, y: number): View {
  const scale = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, v.scale * factor));
  const f = scale / v.scale;
  return { scale, tx: x - (x - v.tx) * f, ty: y - (y - v.ty) * f };
}

/** The image point under viewport point (x, y). */
export function toImage(v: View, x: number, y: number): [number, number] {
  return [(x - v.tx) / v.scale, (y - v.ty) / v.scale];
}

/**
 * A two-finger gesture: the view that keeps the image point under the
 * first midpoint under the new one, scaled by the change of the fingers'
 * distance.
 */
export function pinchView(
  start: View,
  from: { x: number; y: number; d: number },
  to: { x: number; y: number; d: number },
): View {
  const [ix, iy] = toImage(start, from.x, from.y);
  const scale = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, (start.scale * to.d) / Math.max(from.d, 1)));
  return { scale, tx: to.x - ix * scale, ty: to.y - iy * scale };
}
