// @seg/dense-conv/node: saving and loading models as files (Node only).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deserializeModel, type ModelJson, serializeModel } from '../io/serialize.js';
import type { Model } from '../model/model.js';

/** File names inside a model folder. */
export const MODEL_FILES = { json: 'model.json', weights: 'weights.bin' } as const;

/**
 * Writes `model.json` (description + weight manifest) and `weights.bin`
 * (float32, little-endian) into `dir`, creating it if needed.
 *
 * @example
 * await saveModel(model, 'out/backbone');
 * const again = await loadModel('out/backbone');
 */
export async function saveModel(model: Model, dir: string): Promise<void> {
  const { json, weights } = await serializeModel(model);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, MODEL_FILES.json), `${JSON.stringify(json, null, 1)}\n`);
  await writeFile(
    join(dir, MODEL_FILES.weights),
    new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength),
  );
}

/** Reads a model written by {@link saveModel} into new variables. */
export async function loadModel(dir: string): Promise<Model> {
  const json = JSON.parse(await readFile(join(dir, MODEL_FILES.json), 'utf8')) as ModelJson;
  const bytes = await readFile(join(dir, MODEL_FILES.weights));
  const weights = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(weights.buffer).set(bytes.subarray(0, weights.byteLength));
  if (bytes.byteLength % 4 !== 0) {
    const { SegShapeError } = await import('@seg/tensor');
    throw new SegShapeError(
      `loadModel: ${MODEL_FILES.weights} has ${bytes.byteLength} bytes, expected a multiple of 4`,
    );
  }
  return deserializeModel(json, weights);
}
