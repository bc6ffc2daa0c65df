import { assertInt, SegRangeError, SegValueError } from '@seg/tensor';
import {
  type Conv2dLayer,
  LAYER_KINDS,
  type Layer,
  type NetSpec,
  type Padding,
  type Pair,
  type PoolLayer,
  type PoolOp,
} from './types.js';

/** A size given as one number (both axes) or `[height, width]`. */
export type PairLike = number | Pair;

/** Padding as in {@link Padding}, or one number for the same pad on all four sides. */
export type PaddingLike = Padding | number;

interface InputBase {
  /** @default `<kind><index>`, e.g. `conv2d0` */
  name?: string;
  /** The layer this one reads. @default the previous layer (`'input'` for the first) */
  input?: string;
}

/** A {@link Conv2dLayer} as written by hand: sizes may be single numbers, defaults filled in by {@link defineNet}. */
export interface Conv2dInput extends InputBase {
  kind: 'conv2d';
  outChannels: number;
  filterSize: PairLike;
  /** Checked against the channels that reach the layer; inferred if left out. */
  inChannels?: number;
  /** @default 1 */
  stride?: PairLike;
  /** @default 1 */
  dilation?: PairLike;
  /** @default 'valid' */
  padding?: PaddingLike;
  /** @default true */
  bias?: boolean;
  patchStride?: PairLike;
}

/** A {@link PoolLayer} as written by hand. */
export interface PoolInput extends InputBase {
  kind: 'pool';
  op: PoolOp;
  size: PairLike;
  /** @default size */
  stride?: PairLike;
  /** @default 1 */
  dilation?: PairLike;
  /** @default 'valid' */
  padding?: PaddingLike;
  patchStride?: PairLike;
}

/** A ReLU as written by hand. */
export interface ReluInput extends InputBase {
  kind: 'relu';
}

/** A {@link LinearLayer} as written by hand. */
export interface LinearInput extends InputBase {
  kind: 'linear';
  outChannels: number;
  inChannels?: number;
  /** @default true */
  bias?: boolean;
}

/**
 * @deprecated The old spelling of {@link LinearInput} (made by the deprecated
 * `dense()`): read as a linear layer whose default name is `dense<i>`, so
 * existing parameter names are kept. Goes in the next minor release.
 */
export interface DenseInput extends Omit<LinearInput, 'kind'> {
  kind: 'dense';
}

/** A concatenation as written by hand: `inputs` names two or more layers. */
export interface ConcatInput {
  kind: 'concat';
  name?: string;
  inputs: string[];
}

/** Any layer as written by hand (a canonical {@link Layer} is accepted too). */
export type LayerInput =
  | Conv2dInput
  | PoolInput
  | ReluInput
  | LinearInput
  | DenseInput
  | ConcatInput
  | Layer;

/** What {@link defineNet} takes. */
export interface NetInput {
  inChannels: number;
  layers: LayerInput[];
  /** @default the last layer */
  output?: string;
  /** @default 'patch' */
  form?: 'patch' | 'dense';
}

const FN = 'defineNet';

/**
 * Checks a network description and returns its canonical {@link NetSpec}:
 * names, inputs, channel counts and defaults filled in, sizes as pairs.
 * Throws `SegValueError` / `SegRangeError` naming the layer at fault.
 *
 * @example
 * const spec = defineNet({
 *   inChannels: 3,
 *   layers: [
 *     conv2d({ name: 'conv1', outChannels: 16, filterSize: 3 }),
 *     relu(),
 *     maxPool({ size: 2 }),                 // stride defaults to the size
 *     conv2d({ name: 'conv2', outChannels: 2, filterSize: 4 }),
 *   ],
 * });
 */
export function defineNet(net: NetInput): NetSpec {
  if (net === null || typeof net !== 'object' || !Array.isArray(net.layers)) {
    throw new SegValueError(
      `${FN}: net is ${describe(net)}, expected { inChannels, layers: [...] }`,
    );
  }
  assertInt(FN, 'inChannels', net.inChannels, 1);
  if (net.layers.length === 0)
    throw new SegValueError(`${FN}: layers is empty, expected at least one layer`);
  const form = net.form ?? 'patch';
  if (form !== 'patch' && form !== 'dense') {
    throw new SegValueError(`${FN}: form is ${describe(form)}, expected 'patch' or 'dense'`);
  }
  const channels = new Map<string, number>([['input', net.inChannels]]);
  const layers: Layer[] = [];
  let previous = 'input';
  net.layers.forEach((raw, index) => {
    const layer = normaliseLayer(raw, index, previous, channels);
    if (channels.has(layer.name)) {
      throw new SegValueError(
        `${FN}: layer ${index} is named '${layer.name}', a name already in use`,
      );
    }
    channels.set(layer.name, outChannelsOf(layer, channels));
    layers.push(layer);
    previous = layer.name;
  });
  const output = net.output ?? previous;
  const outChannels = channels.get(output);
  if (output === 'input' || outChannels === undefined) {
    throw new SegValueError(`${FN}: output is '${output}', expected the name of a layer`);
  }
  return { form, inChannels: net.inChannels, layers, output, outChannels };
}

function normaliseLayer(
  raw: LayerInput,
  index: number,
  previous: string,
  channels: Map<string, number>,
): Layer {
  if (raw === null || typeof raw !== 'object') {
    throw new SegValueError(
      `${FN}: layer ${index} is ${describe(raw)}, expected an object with a kind`,
    );
  }
  const kind = (raw as { kind?: unknown }).kind;
  if (!(LAYER_KINDS as readonly unknown[]).includes(kind) && kind !== 'dense') {
    throw new SegValueError(
      `${FN}: layer ${index} has kind ${describe(kind)}, expected one of ${LAYER_KINDS.join(', ')}`,
    );
  }
  const name = raw.name ?? `${kind as string}${index}`;
  if (typeof name !== 'string' || name.length === 0 || name === 'input' || name.includes('/')) {
    throw new SegValueError(
      `${FN}: layer ${index} is named ${describe(name)}, expected a non-empty string without '/' other than 'input'`,
    );
  }
  const where = `layer '${name}'`;
  const inputs = inputsOf(raw, previous);
  for (const input of inputs) {
    if (!channels.has(input)) {
      throw new SegValueError(
        `${FN}: ${where} reads '${input}', which is not an earlier layer or 'input'`,
      );
    }
  }
  const inC = channels.get(inputs[0]!)!;
  switch (raw.kind) {
    case 'conv2d': {
      const r = raw as Conv2dInput;
      assertInt(FN, `${where} outChannels`, r.outChannels, 1);
      if (r.inChannels !== undefined && r.inChannels !== inC) {
        throw new SegValueError(
          `${FN}: ${where} has inChannels ${r.inChannels}, but its input '${inputs[0]}' has ${inC} channels`,
        );
      }
      const layer: Conv2dLayer = {
        kind: 'conv2d',
        name,
        inputs,
        inChannels: inC,
        outChannels: r.outChannels,
        filterSize: pair(r.filterSize, `${where} filterSize`),
        stride: pair(r.stride ?? 1, `${where} stride`),
        dilation: pair(r.dilation ?? 1, `${where} dilation`),
        padding: padding(r.padding ?? 'valid', `${where} padding`),
        bias: r.bias ?? true,
      };
      if (typeof layer.bias !== 'boolean')
        throw new SegValueError(
          `${FN}: ${where} bias is ${describe(r.bias)}, expected true or false`,
        );
      checkStrideDilation(layer, where);
      if (r.patchStride !== undefined)
        layer.patchStride = pair(r.patchStride, `${where} patchStride`);
      return layer;
    }
    case 'pool': {
      const r = raw as PoolInput;
      if (r.op !== 'max' && r.op !== 'avg' && r.op !== 'sum') {
        throw new SegValueError(
          `${FN}: ${where} has op ${describe(r.op)}, expected 'max', 'avg' or 'sum'`,
        );
      }
      const size = pair(r.size, `${where} size`);
      const layer: PoolLayer = {
        kind: 'pool',
        name,
        inputs,
        op: r.op,
        size,
        stride: pair(r.stride ?? size, `${where} stride`),
        dilation: pair(r.dilation ?? 1, `${where} dilation`),
        padding: padding(r.padding ?? 'valid', `${where} padding`),
      };
      checkStrideDilation(layer, where);
      if (Array.isArray(layer.padding)) {
        const extent = [
          (size[0] - 1) * layer.dilation[0] + 1,
          (size[1] - 1) * layer.dilation[1] + 1,
        ];
        const p = layer.padding;
        if (Math.max(...p[0]) >= extent[0]! || Math.max(...p[1]) >= extent[1]!) {
          throw new SegRangeError(
            `${FN}: ${where} has padding ${JSON.stringify(p)}, expected pads smaller than its ${extent[0]}×${extent[1]} window (a window of padding only has no value)`,
          );
        }
      }
      if (r.patchStride !== undefined)
        layer.patchStride = pair(r.patchStride, `${where} patchStride`);
      return layer;
    }
    case 'relu':
      return { kind: 'relu', name, inputs };
    case 'linear':
    case 'dense': {
      const r = raw as LinearInput | DenseInput;
      assertInt(FN, `${where} outChannels`, r.outChannels, 1);
      if (r.inChannels !== undefined && r.inChannels !== inC) {
        throw new SegValueError(
          `${FN}: ${where} has inChannels ${r.inChannels}, but its input '${inputs[0]}' has ${inC} channels`,
        );
      }
      const bias = r.bias ?? true;
      if (typeof bias !== 'boolean')
        throw new SegValueError(
          `${FN}: ${where} bias is ${describe(bias)}, expected true or false`,
        );
      return { kind: 'linear', name, inputs, inChannels: inC, outChannels: r.outChannels, bias };
    }
    default: {
      if (inputs.length < 2) {
        throw new SegValueError(
          `${FN}: ${where} concatenates ${inputs.length} input, expected at least 2`,
        );
      }
      return { kind: 'concat', name, inputs };
    }
  }
}

function inputsOf(raw: LayerInput, previous: string): string[] {
  const r = raw as { kind: string; input?: unknown; inputs?: unknown };
  if (r.kind === 'concat') {
    if (!Array.isArray(r.inputs) || !r.inputs.every((s) => typeof s === 'string')) {
      throw new SegValueError(
        `${FN}: concat inputs is ${describe(r.inputs)}, expected a list of layer names`,
      );
    }
    return [...(r.inputs as string[])];
  }
  if (Array.isArray(r.inputs)) {
    if (r.inputs.length !== 1 || typeof r.inputs[0] !== 'string') {
      throw new SegValueError(
        `${FN}: ${r.kind} inputs is ${describe(r.inputs)}, expected one layer name`,
      );
    }
    return [r.inputs[0]];
  }
  if (r.input === undefined) return [previous];
  if (typeof r.input !== 'string')
    throw new SegValueError(
      `${FN}: ${r.kind} input is ${describe(r.input)}, expected a layer name`,
    );
  return [r.input];
}

function outChannelsOf(layer: Layer, channels: Map<string, number>): number {
  switch (layer.kind) {
    case 'conv2d':
    case 'linear':
      return layer.outChannels;
    case 'concat':
      return layer.inputs.reduce((s, n) => s + channels.get(n)!, 0);
    default:
      return channels.get(layer.inputs[0]!)!;
  }
}

function checkStrideDilation(layer: Conv2dLayer | PoolLayer, where: string): void {
  for (const axis of [0, 1] as const) {
    if (layer.stride[axis] > 1 && layer.dilation[axis] > 1) {
      throw new SegRangeError(
        `${FN}: ${where} has stride [${layer.stride}] and dilation [${layer.dilation}], expected at most one of them > 1 on each axis`,
      );
    }
  }
}

function pair(value: PairLike | undefined, arg: string): Pair {
  if (typeof value === 'number') {
    assertInt(FN, arg, value, 1);
    return [value, value];
  }
  if (Array.isArray(value) && value.length === 2) {
    assertInt(FN, `${arg}[0]`, value[0], 1);
    assertInt(FN, `${arg}[1]`, value[1], 1);
    return [value[0], value[1]];
  }
  throw new SegValueError(
    `${FN}: ${arg} is ${describe(value)}, expected an integer ≥ 1 or [height, width]`,
  );
}

function padding(value: PaddingLike, arg: string): Padding {
  if (value === 'valid' || value === 'same') return value;
  if (typeof value === 'number') {
    assertInt(FN, arg, value, 0);
    return [
      [value, value],
      [value, value],
    ];
  }
  const ok =
    Array.isArray(value) &&
    value.length === 2 &&
    value.every(
      (p) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0),
    );
  if (!ok) {
    throw new SegValueError(
      `${FN}: ${arg} is ${describe(value)}, expected 'valid', 'same', an integer ≥ 0 or [[top, bottom], [left, right]]`,
    );
  }
  return [
    [value[0][0], value[0][1]],
    [value[1][0], value[1][1]],
  ];
}

/** A short, safe rendering of any value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === undefined) return 'undefined';
  try {
    const s = JSON.stringify(value);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(value);
  }
}

/** A convolution layer (see {@link Conv2dInput}). */
export function conv2d(options: Omit<Conv2dInput, 'kind'>): Conv2dInput {
  return { kind: 'conv2d', ...options };
}

/** A max-pooling layer; `stride` defaults to `size`. */
export function maxPool(options: Omit<PoolInput, 'kind' | 'op'>): PoolInput {
  return { kind: 'pool', op: 'max', ...options };
}

/** An average-pooling layer; `stride` defaults to `size`. */
export function avgPool(options: Omit<PoolInput, 'kind' | 'op'>): PoolInput {
  return { kind: 'pool', op: 'avg', ...options };
}

/** A sum-pooling layer (the window sum); `stride` defaults to `size`. */
export function sumPool(options: Omit<PoolInput, 'kind' | 'op'>): PoolInput {
  return { kind: 'pool', op: 'sum', ...options };
}

/** A ReLU layer. */
export function relu(options: Omit<ReluInput, 'kind'> = {}): ReluInput {
  return { kind: 'relu', ...options };
}

/**
 * A linear (fully connected) map of the channels at every pixel, as a 1×1
 * convolution: PyTorch's `nn.Linear` on the channel axis, Keras's `Dense`.
 */
export function linear(options: Omit<LinearInput, 'kind'>): LinearInput {
  return { kind: 'linear', ...options };
}

/**
 * @deprecated Renamed {@link linear}: in this package "dense" means dense
 * prediction ({@link toDense}, `denseForward`). Its layers keep the default
 * name `dense<i>`. Goes in the next minor release.
 */
export function dense(options: Omit<DenseInput, 'kind'>): DenseInput {
  return { kind: 'dense', ...options };
}

/** A channel concatenation of two or more layers. */
export function concat(inputs: string[], name?: string): ConcatInput {
  return name === undefined ? { kind: 'concat', inputs } : { kind: 'concat', inputs, name };
}
