/**
 * Plain float64 reference implementations, written from the definitions of
 * methods.md (no shared code with the package), for value and
 * finite-difference checks.
 */

export interface Dims {
  n: number;
  h: number;
  w: number;
  k: number;
}

function logSoftmaxAt(z: ArrayLike<number>, o: number, k: number): Float64Array {
  let mx = -Infinity;
  for (let c = 0; c < k; c++) mx = Math.max(mx, z[o + c]!);
  let s = 0;
  for (let c = 0; c < k; c++) s += Math.exp(z[o + c]! - mx);
  const lse = mx + Math.log(s);
  const out = new Float64Array(k);
  for (let c = 0; c < k; c++) out[c] = z[o + c]! - lse;
  return out;
}

/** Per example `Σ_p m_p·(−log S_p[y_p]) / Σ_p m_p` over `y_p ≥ 0`; 0 if no weight. */
export function refWeightedCE(
  z: ArrayLike<number>,
  labels: ArrayLike<number>,
  mask: ArrayLike<number> | null,
  { n, h, w, k }: Dims,
): number[] {
  const out: number[] = [];
  for (let b = 0; b < n; b++) {
    let num = 0;
    let den = 0;
    for (let i = 0; i < h * w; i++) {
      const p = b * h * w + i;
      const y = labels[p]!;
      if (y < 0) continue;
      const m = mask ? mask[p]! : 1;
      num += -m * logSoftmaxAt(z, p * k, k)[y]!;
      den += m;
    }
    out.push(den > 0 ? num / den : 0);
  }
  return out;
}

/** Per example `Σ_p m_p KL(T_p ‖ softmax z_p) / Σ_p m_p`. */
export function refKl(
  z: ArrayLike<number>,
  t: ArrayLike<number>,
  mask: ArrayLike<number> | null,
  { n, h, w, k }: Dims,
): number[] {
  const out: number[] = [];
  for (let b = 0; b < n; b++) {
    let num = 0;
    let den = 0;
    for (let i = 0; i < h * w; i++) {
      const p = b * h * w + i;
      const m = mask ? mask[p]! : 1;
      const ls = logSoftmaxAt(z, p * k, k);
      let kl = 0;
      for (let c = 0; c < k; c++) {
        const v = t[p * k + c]!;
        if (v > 0) kl += v * (Math.log(v) - ls[c]!);
      }
      num += m * kl;
      den += m;
    }
    out.push(den > 0 ? num / den : 0);
  }
  return out;
}

/** Neighbour pairs of an h×w grid: [p, q, dist]. */
export function refPairs(h: number, w: number, conn: 4 | 8): [number, number, number][] {
  const pairs: [number, number, number][] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let y2 = 0; y2 < h; y2++) {
        for (let x2 = 0; x2 < w; x2++) {
          const dx = x2 - x;
          const dy = y2 - y;
          const p = y * w + x;
          const q = y2 * w + x2;
          if (q <= p) continue; // each unordered pair once
          const ok =
            conn === 4
              ? Math.abs(dx) + Math.abs(dy) === 1
              : Math.max(Math.abs(dx), Math.abs(dy)) === 1;
          if (ok) pairs.push([p, q, Math.sqrt(dx * dx + dy * dy)]);
        }
      }
    }
  }
  return pairs;
}

/** Contrast weights for the pairs of one image (at `img[off]`). */
export function refPairWeights(
  img: ArrayLike<number>,
  off: number,
  h: number,
  w: number,
  conn: 4 | 8,
  sigma?: number,
): { pairs: [number, number, number][]; weights: number[]; sigma2: number } {
  const pairs = refPairs(h, w, conn);
  const d2 = pairs.map(([p, q]) => {
    let s = 0;
    for (let c = 0; c < 3; c++) s += (img[off + p * 3 + c]! - img[off + q * 3 + c]!) ** 2;
    return s;
  });
  const mean = d2.length ? d2.reduce((a, b) => a + b, 0) / d2.length : 0;
  const sigma2 = sigma !== undefined ? sigma * sigma : Math.max(mean, 1e-9);
  const weights = pairs.map(([, , dist], i) => Math.exp(-d2[i]! / (2 * sigma2)) / dist);
  return { pairs, weights, sigma2 };
}

/** The relaxed grid-CRF loss per example (bilinear S_p(1−S_q) with p before q in raster order). */
export function refGridLoss(
  s: ArrayLike<number>,
  img: ArrayLike<number>,
  { n, h, w, k }: Dims,
  conn: 4 | 8,
  relax: 'bilinear' | 'tv' | 'quadratic',
  sigma?: number,
): number[] {
  const out: number[] = [];
  for (let b = 0; b < n; b++) {
    const { pairs, weights } = refPairWeights(img, b * h * w * 3, h, w, conn, sigma);
    let e = 0;
    pairs.forEach(([p0, q0], i) => {
      const p = b * h * w + p0;
      const q = b * h * w + q0;
      // the package orients down-left edges from the upper pixel: also p < q in raster order
      let cost = 0;
      for (let c = 0; c < k; c++) {
        const a = s[p * k + c]!;
        const bb = s[q * k + c]!;
        if (relax === 'bilinear') cost += a * (1 - bb);
        else if (relax === 'tv') cost += 0.5 * Math.abs(a - bb);
        else cost += 0.5 * (a - bb) ** 2;
      }
      e += weights[i]! * cost;
    });
    out.push(e);
  }
  return out;
}

/** Bilinear half-pixel resampling of an H×W×c array to h×w×c, from the definition. */
export function refResample(
  src: ArrayLike<number>,
  off: number,
  H: number,
  W: number,
  h: number,
  w: number,
  c: number,
): Float64Array {
  const out = new Float64Array(h * w * c);
  const coord = (i: number, from: number, to: number) =>
    Math.min(Math.max((i + 0.5) * (from / to) - 0.5, 0), from - 1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sy = coord(y, H, h);
      const sx = coord(x, W, w);
      for (let ch = 0; ch < c; ch++) {
        let v = 0;
        for (let yy = 0; yy < H; yy++) {
          for (let xx = 0; xx < W; xx++) {
            const wy = Math.max(0, 1 - Math.abs(sy - yy));
            const wx = Math.max(0, 1 - Math.abs(sx - xx));
            v += wy * wx * src[off + (yy * W + xx) * c + ch]!;
          }
        }
        out[(y * w + x) * c + ch] = v;
      }
    }
  }
  return out;
}

/** Dense Gaussian kernel matrix (including the diagonal) of one h×w image. */
export function refKernel(
  img: ArrayLike<number>,
  h: number,
  w: number,
  sigmaXy: number,
  sigmaRgb: number,
): Float64Array {
  const m = h * w;
  const K = new Float64Array(m * m);
  for (let p = 0; p < m; p++) {
    for (let q = 0; q < m; q++) {
      const dx = (p % w) - (q % w);
      const dy = Math.floor(p / w) - Math.floor(q / w);
      let dc = 0;
      for (let c = 0; c < 3; c++) dc += (img[p * 3 + c]! - img[q * 3 + c]!) ** 2;
      K[p * m + q] = Math.exp(
        -(dx * dx + dy * dy) / (2 * sigmaXy * sigmaXy) - dc / (2 * sigmaRgb * sigmaRgb),
      );
    }
  }
  return K;
}

export interface RefDenseOptions {
  sigmaRgb: number;
  sigmaXy: number;
  scale: number;
  hs: number;
  ws: number;
}

/** Dense-CRF (`kind: 'crf'`) or normalized-cut (`'ncut'`) loss per example. */
export function refDense(
  kind: 'crf' | 'ncut',
  s: ArrayLike<number>,
  img: ArrayLike<number>,
  { n, h, w, k }: Dims,
  o: RefDenseOptions,
): number[] {
  const out: number[] = [];
  for (let b = 0; b < n; b++) {
    const sb = refResample(s, b * h * w * k, h, w, o.hs, o.ws, k);
    const ib = refResample(img, b * h * w * 3, h, w, o.hs, o.ws, 3);
    const m = o.hs * o.ws;
    const W = refKernel(ib, o.hs, o.ws, o.sigmaXy * o.scale, o.sigmaRgb);
    let total = 0;
    for (let c = 0; c < k; c++) {
      let cut = 0;
      let assoc = 0;
      for (let p = 0; p < m; p++) {
        for (let q = 0; q < m; q++) {
          const wpq = W[p * m + q]!;
          cut += sb[p * k + c]! * wpq * (1 - sb[q * k + c]!);
          assoc += sb[p * k + c]! * wpq;
        }
      }
      total += kind === 'crf' ? cut : cut / assoc;
    }
    out.push(total);
  }
  return out;
}
