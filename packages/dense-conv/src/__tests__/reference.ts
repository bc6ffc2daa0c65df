// A float64 brute-force evaluation of a NetSpec, independent of tfjs: the
// reference for forward values and (through finite differences) gradients.

import type { NetSpec } from '../index.js';
import { explicitPads } from '../index.js';

/** A batch-1 HWC float64 image. */
export interface RefTensor {
  h: number;
  w: number;
  c: number;
  data: Float64Array;
}

/** Runs `spec` on `x` with float64 parameters, by the definitions of each layer. */
export function refApply(
  spec: NetSpec,
  params: Record<string, Float64Array>,
  x: RefTensor,
): RefTensor {
  const values = new Map<string, RefTensor>([['input', x]]);
  for (const layer of spec.layers) {
    const a = values.get(layer.inputs[0]!)!;
    let y: RefTensor;
    if (layer.kind === 'conv2d' || layer.kind === 'pool') {
      const k = layer.kind === 'conv2d' ? layer.filterSize : layer.size;
      const pads = explicitPads(layer.padding, [a.h, a.w], k, layer.stride, layer.dilation);
      const oh =
        Math.floor(
          (a.h + pads[0][0] + pads[0][1] - (k[0] - 1) * layer.dilation[0] - 1) / layer.stride[0],
        ) + 1;
      const ow =
        Math.floor(
          (a.w + pads[1][0] + pads[1][1] - (k[1] - 1) * layer.dilation[1] - 1) / layer.stride[1],
        ) + 1;
      const oc = layer.kind === 'conv2d' ? layer.outChannels : a.c;
      y = { h: oh, w: ow, c: oc, data: new Float64Array(oh * ow * oc) };
      const f = layer.kind === 'conv2d' ? params[`${layer.name}/filter`]! : null;
      const b = layer.kind === 'conv2d' && layer.bias ? params[`${layer.name}/bias`]! : null;
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          for (let o = 0; o < oc; o++) {
            let acc = layer.kind === 'pool' && layer.op === 'max' ? Number.NEGATIVE_INFINITY : 0;
            let count = 0;
            for (let u = 0; u < k[0]; u++) {
              const r = i * layer.stride[0] + u * layer.dilation[0] - pads[0][0];
              if (r < 0 || r >= a.h) continue;
              for (let v = 0; v < k[1]; v++) {
                const s = j * layer.stride[1] + v * layer.dilation[1] - pads[1][0];
                if (s < 0 || s >= a.w) continue;
                if (f !== null) {
                  for (let c = 0; c < a.c; c++)
                    acc +=
                      a.data[(r * a.w + s) * a.c + c]! * f[((u * k[1] + v) * a.c + c) * oc + o]!;
                } else {
                  const val = a.data[(r * a.w + s) * a.c + o]!;
                  acc =
                    layer.kind === 'pool' && layer.op === 'max' ? Math.max(acc, val) : acc + val;
                  count++;
                }
              }
            }
            if (layer.kind === 'pool' && layer.op === 'avg') acc /= count;
            if (b !== null) acc += b[o]!;
            y.data[(i * ow + j) * oc + o] = acc;
          }
        }
      }
    } else if (layer.kind === 'relu') {
      y = { ...a, data: a.data.map((v) => Math.max(v, 0)) };
    } else if (layer.kind === 'linear') {
      const wgt = params[`${layer.name}/weight`]!;
      const b = layer.bias ? params[`${layer.name}/bias`]! : null;
      const oc = layer.outChannels;
      y = { h: a.h, w: a.w, c: oc, data: new Float64Array(a.h * a.w * oc) };
      for (let p = 0; p < a.h * a.w; p++) {
        for (let o = 0; o < oc; o++) {
          let acc = b === null ? 0 : b[o]!;
          for (let c = 0; c < a.c; c++) acc += a.data[p * a.c + c]! * wgt[c * oc + o]!;
          y.data[p * oc + o] = acc;
        }
      }
    } else {
      const parts = layer.inputs.map((n) => values.get(n)!);
      const c = parts.reduce((s, t) => s + t.c, 0);
      y = { h: a.h, w: a.w, c, data: new Float64Array(a.h * a.w * c) };
      for (let p = 0; p < a.h * a.w; p++) {
        let off = 0;
        for (const t of parts) {
          for (let q = 0; q < t.c; q++) y.data[p * c + off + q] = t.data[p * t.c + q]!;
          off += t.c;
        }
      }
    }
    values.set(layer.name, y);
  }
  return values.get(spec.output)!;
}
