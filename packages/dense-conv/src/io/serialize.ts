import {
  assertInt,
  assertObject,
  optionsObject,
  SegRangeError,
  SegShapeError,
  SegValueError,
} from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { createModel, type Model } from '../model/model.js';
import { paramShapes } from '../spec/analyse.js';
import { defineNet, describe } from '../spec/define.js';
import type { NetSpec } from '../spec/types.js';

/** The format tag of {@link ModelJson}. */
export const MODEL_FORMAT = 'seg-dense-conv/1';

/** One parameter in a {@link ModelJson}: its place in the float32 weight buffer. */
export interface WeightEntry {
  name: string;
  shape: number[];
  /** Index of its first float in the buffer. */
  offset: number;
}

/** The JSON half of a saved model: description plus weight manifest. */
export interface ModelJson {
  format: typeof MODEL_FORMAT;
  spec: NetSpec;
  weights: WeightEntry[];
}

/**
 * A model as `{ json, weights }`: the description with a manifest, and every
 * parameter's values back to back (row-major, float32, manifest order).
 * Browser-safe; `@seg/dense-conv/node`'s `saveModel` writes them to files.
 *
 * @example
 * const { json, weights } = await serializeModel(model);
 * const copy = deserializeModel(JSON.parse(JSON.stringify(json)), weights);
 */
export async function serializeModel(
  model: Model,
): Promise<{ json: ModelJson; weights: Float32Array }> {
  const shapes = paramShapes(model.spec);
  const entries: WeightEntry[] = [];
  let total = 0;
  for (const [name, shape] of Object.entries(shapes)) {
    entries.push({ name, shape, offset: total });
    total += shape.reduce((a, b) => a * b, 1);
  }
  const weights = new Float32Array(total);
  for (const e of entries) weights.set(await model.params[e.name]!.data<'float32'>(), e.offset);
  return {
    json: { format: MODEL_FORMAT, spec: structuredClone(model.spec), weights: entries },
    weights,
  };
}

/**
 * Limits a model description must stay within before anything is allocated
 * for it ({@link deserializeModel}, `loadModel`). A hostile or broken
 * `model.json` of a few hundred bytes can otherwise declare gigabytes of
 * parameters or padding. Raise them for larger networks.
 */
export interface ModelBudget {
  /** Most parameters (float32 values) in all. @default 2^26 = 67,108,864 (256 MB) */
  maxParameters?: number;
  /**
   * Largest window extent `(k − 1)·dilation + 1` and largest explicit pad of
   * any convolution or pooling layer, in pixels, per axis. @default 1024
   */
  maxWindow?: number;
  /** Most channels of any layer's output. @default 16384 */
  maxChannels?: number;
  /** Largest `model.json`, in bytes (`loadModel` only). @default 2^24 = 16 MiB */
  maxJsonBytes?: number;
}

/** The default {@link ModelBudget}. */
export const DEFAULT_MODEL_BUDGET: Readonly<Required<ModelBudget>> = Object.freeze({
  maxParameters: 2 ** 26,
  maxWindow: 1024,
  maxChannels: 16384,
  maxJsonBytes: 2 ** 24,
});

/** Options of {@link deserializeModel} and `loadModel`. */
export interface DeserializeOptions {
  /** Overrides of {@link DEFAULT_MODEL_BUDGET}. */
  budget?: ModelBudget;
}

/** @internal A manifest checked against its spec: where each parameter lies in the buffer. */
export interface ModelPlan {
  spec: NetSpec;
  /** Parameters in spec order, with their place in the buffer. */
  entries: { name: string; shape: number[]; offset: number; size: number }[];
  /** Floats the buffer must hold. */
  total: number;
}

/** @internal The budget with defaults filled in and checked (`fn` names the caller). */
export function modelBudget(
  fn: string,
  options: DeserializeOptions | undefined,
): Required<ModelBudget> {
  const opts = optionsObject(fn, options);
  const given = opts.budget ?? {};
  assertObject(fn, 'options.budget', given);
  const out = { ...DEFAULT_MODEL_BUDGET };
  for (const key of Object.keys(DEFAULT_MODEL_BUDGET) as (keyof ModelBudget)[]) {
    const v = given[key];
    if (v === undefined) continue;
    assertInt(fn, `options.budget.${key}`, v, 1);
    out[key] = v;
  }
  return out;
}

/**
 * @internal Checks a parsed model description (format, spec, budget,
 * manifest) before any weight is read. `field(path)` renders a field for
 * the messages: `json.weights[2].offset`, or `<file>: weights[2].offset`.
 */
export function planModel(
  fn: string,
  field: (path: string) => string,
  json: unknown,
  budget: Required<ModelBudget>,
): ModelPlan {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new SegValueError(`${fn}: ${field('')} is ${describe(json)}, expected an object`);
  }
  const j = json as Partial<Record<keyof ModelJson, unknown>>;
  if (j.format !== MODEL_FORMAT) {
    throw new SegValueError(
      `${fn}: ${field('format')} is ${JSON.stringify(j.format)}, expected '${MODEL_FORMAT}'`,
    );
  }
  let spec: NetSpec;
  try {
    spec = defineNet(j.spec as NetSpec);
  } catch (e) {
    if (e instanceof SegValueError || e instanceof SegRangeError || e instanceof SegShapeError) {
      const Cls = e.constructor as new (m: string) => Error;
      throw new Cls(`${fn}: ${field('spec')}: ${e.message}`);
    }
    throw e;
  }
  checkBudget(fn, field, spec, budget);
  const shapes = paramShapes(spec);
  const manifest = j.weights;
  if (!Array.isArray(manifest)) {
    throw new SegValueError(
      `${fn}: ${field('weights')} is ${describe(manifest)}, expected an array of { name, shape, offset }`,
    );
  }
  const byName = new Map<
    string,
    { shape: number[]; offset: number; size: number; index: number }
  >();
  manifest.forEach((raw: unknown, i) => {
    const at = `weights[${i}]`;
    if (raw === null || typeof raw !== 'object') {
      throw new SegValueError(
        `${fn}: ${field(at)} is ${describe(raw)}, expected { name, shape, offset }`,
      );
    }
    const { name, shape, offset } = raw as Record<string, unknown>;
    if (typeof name !== 'string' || !Object.hasOwn(shapes, name)) {
      throw new SegValueError(
        `${fn}: ${field(`${at}.name`)} is ${describe(name)}, expected the name of a parameter of the spec (${Object.keys(shapes).join(', ')})`,
      );
    }
    if (byName.has(name)) {
      throw new SegValueError(
        `${fn}: ${field(`${at}.name`)} is '${name}', listed already as weights[${byName.get(name)!.index}]`,
      );
    }
    const want = shapes[name]!;
    const sameShape =
      Array.isArray(shape) && shape.length === want.length && shape.every((v, k) => v === want[k]);
    if (!sameShape) {
      throw new SegShapeError(
        `${fn}: ${field(`${at}.shape`)} is ${describe(shape)}, expected [${want}] (from the spec)`,
      );
    }
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
      throw new SegValueError(
        `${fn}: ${field(`${at}.offset`)} is ${describe(offset)}, expected an integer ≥ 0`,
      );
    }
    byName.set(name, { shape: want, offset, size: want.reduce((a, b) => a * b, 1), index: i });
  });
  const entries: ModelPlan['entries'] = [];
  for (const name of Object.keys(shapes)) {
    const e = byName.get(name);
    if (e === undefined)
      throw new SegValueError(`${fn}: ${field('weights')} has no entry for '${name}'`);
    entries.push({ name, shape: e.shape, offset: e.offset, size: e.size });
  }
  // The parameters must lie back to back: no overlap (two parameters sharing
  // floats) and no gap (floats that belong to nothing).
  const sorted = [...byName.entries()].sort((x, y) => x[1].offset - y[1].offset);
  let end = 0;
  let prevName = '';
  for (const [name, e] of sorted) {
    if (e.offset !== end) {
      const why =
        e.offset < end
          ? `it overlaps '${prevName}', which ends at float ${end}`
          : `floats ${end}…${e.offset - 1} would belong to no parameter`;
      throw new SegValueError(
        `${fn}: ${field(`weights[${e.index}].offset`)} is ${e.offset}, expected ${end} ('${name}' must follow the previous parameter: ${why})`,
      );
    }
    end += e.size;
    prevName = name;
  }
  return { spec, entries, total: end };
}

/** Checks a spec against the budget: parameters, windows, pads, channels. */
function checkBudget(
  fn: string,
  field: (path: string) => string,
  spec: NetSpec,
  budget: Required<ModelBudget>,
): void {
  const over = (what: string, value: number, key: keyof ModelBudget) =>
    new SegRangeError(
      `${fn}: ${field('spec')}: ${what} is ${value}, more than the budget's ${key} = ${budget[key]} (raise options.budget.${key} to load it)`,
    );
  let params = 0;
  for (const shape of Object.values(paramShapes(spec))) params += shape.reduce((a, b) => a * b, 1);
  if (params > budget.maxParameters)
    throw over('the number of parameters', params, 'maxParameters');
  if (spec.outChannels > budget.maxChannels)
    throw over(`the channels of '${spec.output}'`, spec.outChannels, 'maxChannels');
  const channels = new Map<string, number>([['input', spec.inChannels]]);
  if (spec.inChannels > budget.maxChannels)
    throw over('inChannels', spec.inChannels, 'maxChannels');
  for (const layer of spec.layers) {
    let c: number;
    if (layer.kind === 'conv2d' || layer.kind === 'linear') c = layer.outChannels;
    else if (layer.kind === 'concat') c = layer.inputs.reduce((s, n) => s + channels.get(n)!, 0);
    else c = channels.get(layer.inputs[0]!)!;
    channels.set(layer.name, c);
    if (c > budget.maxChannels)
      throw over(`the channels of layer '${layer.name}'`, c, 'maxChannels');
    if (layer.kind !== 'conv2d' && layer.kind !== 'pool') continue;
    const k = layer.kind === 'conv2d' ? layer.filterSize : layer.size;
    for (const a of [0, 1] as const) {
      const extent = (k[a] - 1) * layer.dilation[a] + 1;
      if (extent > budget.maxWindow)
        throw over(`the window extent of layer '${layer.name}'`, extent, 'maxWindow');
    }
    if (Array.isArray(layer.padding)) {
      const pad = Math.max(...layer.padding[0], ...layer.padding[1]);
      if (pad > budget.maxWindow)
        throw over(`the padding of layer '${layer.name}'`, pad, 'maxWindow');
    }
  }
}

/**
 * @internal Builds the model of a {@link ModelPlan} from its buffer, after
 * checking the buffer's length and that every value is finite. `where`
 * names the buffer in messages (`weights`, or the weights file).
 */
export function buildModel(fn: string, where: string, plan: ModelPlan, data: Float32Array): Model {
  if (data.length !== plan.total) {
    throw new SegShapeError(
      `${fn}: ${where} has length ${data.length}, expected ${plan.total} (from the manifest)`,
    );
  }
  // one summed pass decides (v − v is NaN for NaN and ±∞); only a bad buffer is searched
  let acc = 0;
  for (let i = 0; i < data.length; i++) acc += data[i]! - data[i]!;
  if (acc !== 0) {
    for (const e of plan.entries) {
      for (let i = 0; i < e.size; i++) {
        const v = data[e.offset + i]!;
        if (!Number.isFinite(v)) {
          throw new SegValueError(
            `${fn}: ${where}: '${e.name}'[${i}] (float ${e.offset + i}) is ${v}, expected a finite number`,
          );
        }
      }
    }
  }
  const params = tf.tidy(() =>
    Object.fromEntries(
      plan.entries.map((e) => [
        e.name,
        tf.tensor(data.subarray(e.offset, e.offset + e.size), e.shape, 'float32'),
      ]),
    ),
  );
  try {
    return createModel(plan.spec, params);
  } finally {
    tf.dispose(Object.values(params));
  }
}

/**
 * A new model (new variables) from {@link serializeModel}'s output. Checks,
 * before allocating anything, the description ({@link defineNet}), its size
 * against `options.budget` ({@link DEFAULT_MODEL_BUDGET}: parameters,
 * windows and pads, channels), the manifest (an entry per parameter, the
 * spec's shapes, integer offsets that lay the parameters back to back), then
 * the buffer's length and that every weight is finite. Errors name the field
 * at fault (`json.weights[2].offset`).
 *
 * @param weights float32 values (an ArrayBuffer is read as little-endian float32).
 * @example
 * const copy = deserializeModel(json, weights, { budget: { maxParameters: 2 ** 28 } });
 */
export function deserializeModel(
  json: ModelJson,
  weights: Float32Array | ArrayBuffer,
  options?: DeserializeOptions,
): Model {
  const fn = 'deserializeModel';
  const budget = modelBudget(fn, options);
  const plan = planModel(fn, (path) => (path ? `json.${path}` : 'json'), json, budget);
  let data: Float32Array;
  if (weights instanceof Float32Array) data = weights;
  else if (weights instanceof ArrayBuffer) {
    if (weights.byteLength % 4 !== 0) {
      throw new SegShapeError(
        `${fn}: weights has ${weights.byteLength} bytes, expected a multiple of 4 (float32)`,
      );
    }
    data = new Float32Array(weights);
  } else {
    throw new SegValueError(
      `${fn}: weights is ${describe(weights)}, expected a Float32Array or an ArrayBuffer`,
    );
  }
  return buildModel(fn, 'weights', plan, data);
}
