// Brute-force path enumeration for tiny networks: builds the unit-level
// graph of a NetSpec (one unit per pixel and channel of every layer),
// lists every path from an input unit or a bias's constant-1 unit to an
// output unit, and sums products of squared edge weights. Independent of
// tfjs's ops and of the squared-parameter pass it checks.
import { explicitPads, type NetSpec, type Pair } from '@seg/dense-conv';

interface Edge {
  from: number; // unit id, or -1 for the constant-1 unit of a bias
  param: string | null; // parameter name, or null for a fixed weight
  index: number; // flat index into the parameter
  fixed: number; // the weight when param is null
}

export interface BruteForce {
  /** γ of every parameter, flat, by name. */
  gamma: Record<string, Float64Array>;
  /** Σ over all paths of Π w². */
  total: number;
  paths: number;
}

export function bruteForcePaths(
  spec: NetSpec,
  params: Record<string, Float64Array | Float32Array>,
  inputSize: Pair,
): BruteForce {
  const incoming: Edge[][] = [];
  const newUnit = (): number => {
    incoming.push([]);
    return incoming.length - 1;
  };
  type Grid = { h: number; w: number; c: number; ids: number[] };
  const at = (g: Grid, i: number, j: number, c: number): number => g.ids[(i * g.w + j) * g.c + c]!;
  const grids = new Map<string, Grid>();
  const input: Grid = { h: inputSize[0], w: inputSize[1], c: spec.inChannels, ids: [] };
  for (let k = 0; k < input.h * input.w * input.c; k++) input.ids.push(newUnit());
  grids.set('input', input);
  const numInputs = input.ids.length;
  const gamma: Record<string, Float64Array> = {};
  for (const [name, v] of Object.entries(params)) gamma[name] = new Float64Array(v.length);

  for (const layer of spec.layers) {
    const x = grids.get(layer.inputs[0]!)!;
    let y: Grid;
    if (layer.kind === 'conv2d' || layer.kind === 'pool') {
      const k = layer.kind === 'conv2d' ? layer.filterSize : layer.size;
      const pads = explicitPads(layer.padding, [x.h, x.w], k, layer.stride, layer.dilation);
      const [s, d] = [layer.stride, layer.dilation];
      const oh = Math.floor((x.h + pads[0][0] + pads[0][1] - d[0] * (k[0] - 1) - 1) / s[0]) + 1;
      const ow = Math.floor((x.w + pads[1][0] + pads[1][1] - d[1] * (k[1] - 1) - 1) / s[1]) + 1;
      const oc = layer.kind === 'conv2d' ? layer.outChannels : x.c;
      y = { h: oh, w: ow, c: oc, ids: [] };
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          // cells of the window inside the input
          const cells: [number, number, number, number][] = [];
          for (let a = 0; a < k[0]; a++) {
            for (let b = 0; b < k[1]; b++) {
              const ii = i * s[0] + a * d[0] - pads[0][0];
              const jj = j * s[1] + b * d[1] - pads[1][0];
              if (ii >= 0 && ii < x.h && jj >= 0 && jj < x.w) cells.push([a, b, ii, jj]);
            }
          }
          for (let o = 0; o < oc; o++) {
            const u = newUnit();
            y.ids.push(u);
            if (layer.kind === 'conv2d') {
              for (const [a, b, ii, jj] of cells) {
                for (let c = 0; c < x.c; c++) {
                  const index = ((a * k[1] + b) * x.c + c) * oc + o;
                  incoming[u]!.push({
                    from: at(x, ii, jj, c),
                    param: `${layer.name}/filter`,
                    index,
                    fixed: 0,
                  });
                }
              }
              if (layer.bias)
                incoming[u]!.push({ from: -1, param: `${layer.name}/bias`, index: o, fixed: 0 });
            } else {
              const weight = layer.op === 'avg' ? 1 / cells.length : 1;
              for (const [, , ii, jj] of cells) {
                incoming[u]!.push({ from: at(x, ii, jj, o), param: null, index: 0, fixed: weight });
              }
            }
          }
        }
      }
    } else if (layer.kind === 'linear') {
      y = { h: x.h, w: x.w, c: layer.outChannels, ids: [] };
      for (let i = 0; i < x.h; i++) {
        for (let j = 0; j < x.w; j++) {
          for (let o = 0; o < layer.outChannels; o++) {
            const u = newUnit();
            y.ids.push(u);
            for (let c = 0; c < x.c; c++) {
              incoming[u]!.push({
                from: at(x, i, j, c),
                param: `${layer.name}/weight`,
                index: c * layer.outChannels + o,
                fixed: 0,
              });
            }
            if (layer.bias)
              incoming[u]!.push({ from: -1, param: `${layer.name}/bias`, index: o, fixed: 0 });
          }
        }
      }
    } else if (layer.kind === 'relu') {
      y = x; // the pass is over non-negative values: a ReLU is the identity
    } else {
      const parts = layer.inputs.map((n) => grids.get(n)!);
      const c = parts.reduce((acc, p) => acc + p.c, 0);
      y = { h: x.h, w: x.w, c, ids: [] };
      for (let i = 0; i < x.h; i++) {
        for (let j = 0; j < x.w; j++) {
          for (const p of parts) for (let q = 0; q < p.c; q++) y.ids.push(at(p, i, j, q));
        }
      }
    }
    grids.set(layer.name, y);
  }

  let total = 0;
  let paths = 0;
  const stack: Edge[] = [];
  const weight2 = (e: Edge): number => {
    const w = e.param === null ? e.fixed : params[e.param]![e.index]!;
    return w * w;
  };
  const finish = (): void => {
    paths++;
    let prod = 1;
    for (const e of stack) prod *= weight2(e);
    total += prod;
    for (let k = 0; k < stack.length; k++) {
      const e = stack[k]!;
      if (e.param === null) continue;
      let others = 1;
      for (let m = 0; m < stack.length; m++) if (m !== k) others *= weight2(stack[m]!);
      gamma[e.param]![e.index]! += others;
    }
  };
  const walk = (u: number): void => {
    if (u < numInputs) {
      finish(); // an input unit: a path starts here
      return;
    }
    const ins = incoming[u]!;
    for (const e of ins) {
      stack.push(e);
      if (e.from === -1) finish();
      else walk(e.from);
      stack.pop();
    }
  };
  for (const u of grids.get(spec.output)!.ids) walk(u);
  return { gamma, total, paths };
}
