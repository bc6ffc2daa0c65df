// @seg/dense-conv/node: saving and loading models as files (Node only).
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import {
  buildModel,
  type DeserializeOptions,
  modelBudget,
  planModel,
  serializeModel,
} from '../io/serialize.js';
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

/**
 * Reads a model written by {@link saveModel} into new variables. Everything
 * is checked before it is allocated (see `deserializeModel`): the size of
 * `model.json` and the model it declares against `options.budget`
 * (`DEFAULT_MODEL_BUDGET`), its manifest, then the size of `weights.bin`
 * (before reading it) and its values (finite). Errors name the file and the
 * field at fault, e.g. `loadModel: out/model.json: weights[1].offset is -4,
 * expected an integer ≥ 0`.
 *
 * @param dir the folder holding `model.json` and `weights.bin`.
 */
export async function loadModel(dir: string, options?: DeserializeOptions): Promise<Model> {
  const fn = 'loadModel';
  const budget = modelBudget(fn, options);
  const jsonPath = join(dir, MODEL_FILES.json);
  const weightsPath = join(dir, MODEL_FILES.weights);
  const jsonBytes = (await stat(jsonPath)).size;
  if (jsonBytes > budget.maxJsonBytes) {
    throw new SegRangeError(
      `${fn}: ${jsonPath} has ${jsonBytes} bytes, more than the budget's maxJsonBytes = ${budget.maxJsonBytes} (raise options.budget.maxJsonBytes to load it)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(jsonPath, 'utf8'));
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    throw new SegValueError(`${fn}: ${jsonPath} is not valid JSON (${e.message})`);
  }
  const plan = planModel(fn, (path) => (path ? `${jsonPath}: ${path}` : jsonPath), json, budget);
  const bytes = (await stat(weightsPath)).size;
  if (bytes !== plan.total * 4) {
    throw new SegShapeError(
      `${fn}: ${weightsPath} has ${bytes} bytes, expected ${plan.total * 4} (${plan.total} float32 values, from the manifest)`,
    );
  }
  const buf = await readFile(weightsPath);
  const weights = new Float32Array(plan.total);
  new Uint8Array(weights.buffer).set(buf.subarray(0, weights.byteLength));
  return buildModel(fn, weightsPath, plan, weights);
}
