import { SegShapeError, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { createModel, type Model } from '../model/model.js';
import { paramShapes } from '../spec/analyse.js';
import { defineNet } from '../spec/define.js';
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
 * A new model (new variables) from {@link serializeModel}'s output. Checks
 * the description, the manifest against it, and the buffer's length.
 */
export function deserializeModel(json: ModelJson, weights: Float32Array | ArrayBuffer): Model {
  const fn = 'deserializeModel';
  if (json === null || typeof json !== 'object' || json.format !== MODEL_FORMAT) {
    throw new SegValueError(
      `${fn}: json.format is ${JSON.stringify(json?.format)}, expected '${MODEL_FORMAT}'`,
    );
  }
  const spec = defineNet(json.spec);
  const data = weights instanceof Float32Array ? weights : new Float32Array(weights);
  const shapes = paramShapes(spec);
  const byName = new Map((json.weights ?? []).map((e) => [e.name, e]));
  let total = 0;
  for (const [name, shape] of Object.entries(shapes)) {
    const e = byName.get(name);
    if (e === undefined) throw new SegValueError(`${fn}: the weight manifest has no '${name}'`);
    if (e.shape.length !== shape.length || e.shape.some((v, i) => v !== shape[i])) {
      throw new SegShapeError(
        `${fn}: weight '${name}' has shape [${e.shape}], expected [${shape}]`,
      );
    }
    total += shape.reduce((a, b) => a * b, 1);
  }
  const end = Math.max(
    0,
    ...[...byName.values()].map((e) => e.offset + e.shape.reduce((a, b) => a * b, 1)),
  );
  if (data.length !== end || end < total) {
    throw new SegShapeError(
      `${fn}: weights has length ${data.length}, expected ${end} (from the manifest)`,
    );
  }
  const params = tf.tidy(() =>
    Object.fromEntries(
      Object.entries(shapes).map(([name, shape]) => {
        const e = byName.get(name)!;
        const size = shape.reduce((a, b) => a * b, 1);
        return [name, tf.tensor(data.subarray(e.offset, e.offset + size), shape, 'float32')];
      }),
    ),
  );
  const model = createModel(spec, params);
  tf.dispose(Object.values(params));
  return model;
}
