/**
 * Bilinear resampling of HWC float arrays (half-pixel centres, as PyTorch's
 * `interpolate(..., mode='bilinear', align_corners=False)` and tfjs's
 * `resizeBilinear(..., halfPixelCenters=true)`), with its exact adjoint for
 * back-propagation.
 */

interface Axis {
  i0: Int32Array;
  i1: Int32Array;
  t: Float32Array;
}

function axis(from: number, to: number): Axis {
  const i0 = new Int32Array(to);
  const i1 = new Int32Array(to);
  const t = new Float32Array(to);
  const ratio = from / to;
  for (let i = 0; i < to; i++) {
    const src = Math.min(Math.max((i + 0.5) * ratio - 0.5, 0), from - 1);
    const a = Math.floor(src);
    i0[i] = a;
    i1[i] = Math.min(a + 1, from - 1);
    t[i] = src - a;
  }
  return { i0, i1, t };
}

/** A linear map from H×W×c arrays to h×w×c arrays, and its transpose. */
export interface Resampler {
  readonly h: number;
  readonly w: number;
  /** `dst = A·src`, for `c` channels. */
  forward(src: ArrayLike<number>, srcOffset: number, c: number): Float32Array;
  /** `dst = Aᵀ·src` (`src` is h×w×c), added into `dst` at `dstOffset`. */
  adjointInto(src: ArrayLike<number>, c: number, dst: Float32Array, dstOffset: number): void;
}

/** The size after scaling by `scale`: `max(1, floor(size·scale))`, as PyTorch's `interpolate`. */
export function scaledSize(size: number, scale: number): number {
  return Math.max(1, Math.floor(size * scale + 1e-9));
}

/** A bilinear resampler from `H×W` to `h×w`. */
export function resampler(H: number, W: number, h: number, w: number): Resampler {
  const ay = axis(H, h);
  const ax = axis(W, w);
  return {
    h,
    w,
    forward(src, off, c) {
      const out = new Float32Array(h * w * c);
      for (let y = 0; y < h; y++) {
        const ty = ay.t[y]!;
        const r0 = ay.i0[y]! * W;
        const r1 = ay.i1[y]! * W;
        for (let x = 0; x < w; x++) {
          const tx = ax.t[x]!;
          const w00 = (1 - ty) * (1 - tx);
          const w01 = (1 - ty) * tx;
          const w10 = ty * (1 - tx);
          const w11 = ty * tx;
          const p00 = off + (r0 + ax.i0[x]!) * c;
          const p01 = off + (r0 + ax.i1[x]!) * c;
          const p10 = off + (r1 + ax.i0[x]!) * c;
          const p11 = off + (r1 + ax.i1[x]!) * c;
          const o = (y * w + x) * c;
          for (let k = 0; k < c; k++) {
            out[o + k] =
              w00 * src[p00 + k]! + w01 * src[p01 + k]! + w10 * src[p10 + k]! + w11 * src[p11 + k]!;
          }
        }
      }
      return out;
    },
    adjointInto(src, c, dst, off) {
      for (let y = 0; y < h; y++) {
        const ty = ay.t[y]!;
        const r0 = ay.i0[y]! * W;
        const r1 = ay.i1[y]! * W;
        for (let x = 0; x < w; x++) {
          const tx = ax.t[x]!;
          const w00 = (1 - ty) * (1 - tx);
          const w01 = (1 - ty) * tx;
          const w10 = ty * (1 - tx);
          const w11 = ty * tx;
          const p00 = off + (r0 + ax.i0[x]!) * c;
          const p01 = off + (r0 + ax.i1[x]!) * c;
          const p10 = off + (r1 + ax.i0[x]!) * c;
          const p11 = off + (r1 + ax.i1[x]!) * c;
          const o = (y * w + x) * c;
          for (let k = 0; k < c; k++) {
            const g = src[o + k]!;
            dst[p00 + k]! += w00 * g;
            dst[p01 + k]! += w01 * g;
            dst[p10 + k]! += w10 * g;
            dst[p11 + k]! += w11 * g;
          }
        }
      }
    },
  };
}
