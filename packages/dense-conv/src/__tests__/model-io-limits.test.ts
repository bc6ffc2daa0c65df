// Hostile and broken model files (issue 17): every bad model.json / weights
// gives a named error that names the file and the field, and nothing larger
// than the budget is allocated.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import { expectThrow } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel, deserializeModel, type ModelJson, serializeModel } from '../index.js';
import { loadModel, saveModel } from '../node/index.js';

const SPEC = {
  inChannels: 1,
  layers: [
    { kind: 'conv2d' as const, name: 'c1', outChannels: 2, filterSize: 3 },
    { kind: 'relu' as const },
    { kind: 'conv2d' as const, name: 'c2', outChannels: 2, filterSize: 1 },
  ],
};

let json: ModelJson;
let weights: Float32Array;
let dir: string;

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  const model = createModel(SPEC, 3);
  ({ json, weights } = await serializeModel(model));
  model.dispose();
  dir = await mkdtemp(join(tmpdir(), 'dense-conv-limits-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A deep copy of the saved description, changed by `edit`. */
// biome-ignore lint/suspicious/noExplicitAny: a JSON tree, edited freely
function edited(edit: (j: Record<string, any>) => void): ModelJson {
  const j = JSON.parse(JSON.stringify(json));
  edit(j);
  return j;
}

/** Writes model.json (text) and weights.bin into a fresh folder. */
async function files(text: string, w: Float32Array = weights): Promise<string> {
  const d = await mkdtemp(join(dir, 'm-'));
  await writeFile(join(d, 'model.json'), text);
  await writeFile(join(d, 'weights.bin'), new Uint8Array(w.buffer, w.byteOffset, w.byteLength));
  return d;
}

async function rejects(p: Promise<unknown>, cls: new (m: string) => Error, message: string) {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expectThrow(
    () => {
      if (e) throw e;
    },
    cls,
    message,
  );
}

const FN = 'deserializeModel';

describe('deserializeModel: bad manifests and weights', () => {
  it('refuses NaN and infinite weights, naming the parameter and the float', () => {
    for (const [v, text] of [
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
      [Number.NEGATIVE_INFINITY, '-Infinity'],
    ] as const) {
      const w = weights.slice();
      w[21] = v;
      expectThrow(
        () => deserializeModel(json, w),
        SegValueError,
        `${FN}: weights: 'c2/filter'[1] (float 21) is ${text}, expected a finite number`,
      );
    }
  });

  it('refuses negative, fractional, overlapping and gapped offsets', () => {
    const bad = (offset: unknown) =>
      edited((j) => {
        j.weights[2].offset = offset;
      });
    expectThrow(
      () => deserializeModel(bad(-4), weights),
      SegValueError,
      `${FN}: json.weights[2].offset is -4, expected an integer ≥ 0`,
    );
    expectThrow(
      () => deserializeModel(bad(20.5), weights),
      SegValueError,
      `${FN}: json.weights[2].offset is 20.5, expected an integer ≥ 0`,
    );
    expectThrow(
      () => deserializeModel(bad('20'), weights),
      SegValueError,
      `${FN}: json.weights[2].offset is '20', expected an integer ≥ 0`,
    );
    expectThrow(
      () => deserializeModel(bad(18), weights),
      SegValueError,
      `${FN}: json.weights[2].offset is 18, expected 20 ('c2/filter' must follow the previous parameter: it overlaps 'c1/bias', which ends at float 20)`,
    );
    expectThrow(
      () => deserializeModel(bad(22), weights),
      SegValueError,
      `${FN}: json.weights[2].offset is 22, expected 20 ('c2/filter' must follow the previous parameter: floats 20…21 would belong to no parameter)`,
    );
  });

  it('refuses a missing shape or entry, an unknown or repeated name, weights not an array', () => {
    expectThrow(
      () =>
        deserializeModel(
          edited((j) => delete j.weights[1].shape),
          weights,
        ),
      SegShapeError,
      `${FN}: json.weights[1].shape is undefined, expected [2] (from the spec)`,
    );
    expectThrow(
      () =>
        deserializeModel(
          edited((j) => j.weights.pop()),
          weights,
        ),
      SegValueError,
      `${FN}: json.weights has no entry for 'c2/bias'`,
    );
    expectThrow(
      () =>
        deserializeModel(
          edited((j) => (j.weights[3].name = 'constructor')),
          weights,
        ),
      SegValueError,
      `${FN}: json.weights[3].name is 'constructor', expected the name of a parameter of the spec (c1/filter, c1/bias, c2/filter, c2/bias)`,
    );
    expectThrow(
      () =>
        deserializeModel(
          edited((j) => (j.weights[3].name = 'c2/filter')),
          weights,
        ),
      SegValueError,
      `${FN}: json.weights[3].name is 'c2/filter', listed already as weights[2]`,
    );
    expectThrow(
      () =>
        deserializeModel(
          edited((j) => (j.weights = { 'c1/filter': 0 })),
          weights,
        ),
      SegValueError,
      `${FN}: json.weights is {"c1/filter":0}, expected an array of { name, shape, offset }`,
    );
    expectThrow(
      () =>
        deserializeModel(
          edited((j) => (j.weights[0] = null)),
          weights,
        ),
      SegValueError,
      `${FN}: json.weights[0] is null, expected { name, shape, offset }`,
    );
    expectThrow(
      () => deserializeModel(null as never, weights),
      SegValueError,
      `${FN}: json is null, expected an object`,
    );
    expectThrow(
      () =>
        deserializeModel(
          edited((j) => delete j.spec.layers),
          weights,
        ),
      SegValueError,
      `${FN}: json.spec: defineNet: net is {"form":"patch","inChannels":1,"output":"c2","outChannels..., expected { inChannels, layers: [...] }`,
    );
  });

  it('refuses a weight buffer of the wrong kind or length', () => {
    expectThrow(
      () => deserializeModel(json, [1, 2] as never),
      SegValueError,
      `${FN}: weights is [1,2], expected a Float32Array or an ArrayBuffer`,
    );
    expectThrow(
      () => deserializeModel(json, new ArrayBuffer(7)),
      SegShapeError,
      `${FN}: weights has 7 bytes, expected a multiple of 4 (float32)`,
    );
    expectThrow(
      () => deserializeModel(json, new Float32Array(27)),
      SegShapeError,
      `${FN}: weights has length 27, expected 26 (from the manifest)`,
    );
  });

  it('checks declared sizes against the budget before allocating, and the budget can be raised', () => {
    // a few hundred bytes that ask for a 12001-pixel padded window
    const padded = edited((j) => {
      j.spec.layers[0].padding = [
        [6000, 6000],
        [6000, 6000],
      ];
    });
    expectThrow(
      () => deserializeModel(padded, weights),
      SegRangeError,
      `${FN}: json.spec: the padding of layer 'c1' is 6000, more than the budget's maxWindow = 1024 (raise options.budget.maxWindow to load it)`,
    );
    const wide = edited((j) => {
      j.spec.layers[0].filterSize = [5001, 3];
    });
    expectThrow(
      () => deserializeModel(wide, weights),
      SegRangeError,
      `${FN}: json.spec: the window extent of layer 'c1' is 5001, more than the budget's maxWindow = 1024 (raise options.budget.maxWindow to load it)`,
    );
    const big = edited((j) => {
      j.spec.layers[0].outChannels = 16000;
      j.spec.layers[2].inChannels = 16000;
      j.spec.layers[2].outChannels = 16000;
    });
    expectThrow(
      () => deserializeModel(big, weights),
      SegRangeError,
      `${FN}: json.spec: the number of parameters is 256176000, more than the budget's maxParameters = 67108864 (raise options.budget.maxParameters to load it)`,
    );
    expectThrow(
      () => deserializeModel(json, weights, { budget: { maxParameters: 25 } }),
      SegRangeError,
      `${FN}: json.spec: the number of parameters is 26, more than the budget's maxParameters = 25 (raise options.budget.maxParameters to load it)`,
    );
    expectThrow(
      () => deserializeModel(json, weights, { budget: { maxWindow: 0 } }),
      SegRangeError,
      `${FN}: options.budget.maxWindow is 0, expected an integer ≥ 1`,
    );
    const m = deserializeModel(
      edited((j) => (j.spec.layers[0].padding = 2)),
      weights,
      { budget: { maxWindow: 3 } },
    );
    expect(m.numParams()).toBe(26);
    m.dispose();
  });
});

describe('loadModel: errors name the file and the field', () => {
  it('refuses truncated JSON, a bad field and a weights file of the wrong size, before reading it', async () => {
    const text = JSON.stringify(json);
    let d = await files(text.slice(0, 100));
    await rejects(
      loadModel(d),
      SegValueError,
      `loadModel: ${join(d, 'model.json')} is not valid JSON (${jsonError(text.slice(0, 100))})`,
    );
    d = await files(JSON.stringify(edited((j) => (j.weights[1].offset = -1))));
    await rejects(
      loadModel(d),
      SegValueError,
      `loadModel: ${join(d, 'model.json')}: weights[1].offset is -1, expected an integer ≥ 0`,
    );
    d = await files(text, weights.subarray(1));
    await rejects(
      loadModel(d),
      SegShapeError,
      `loadModel: ${join(d, 'weights.bin')} has 100 bytes, expected 104 (26 float32 values, from the manifest)`,
    );
    const w = weights.slice();
    w[0] = Number.POSITIVE_INFINITY;
    d = await files(text, w);
    await rejects(
      loadModel(d),
      SegValueError,
      `loadModel: ${join(d, 'weights.bin')}: 'c1/filter'[0] (float 0) is Infinity, expected a finite number`,
    );
    d = await files(`${text}${' '.repeat(200)}`);
    await rejects(
      loadModel(d, { budget: { maxJsonBytes: 100 } }),
      SegRangeError,
      `loadModel: ${join(d, 'model.json')} has ${text.length + 200} bytes, more than the budget's maxJsonBytes = 100 (raise options.budget.maxJsonBytes to load it)`,
    );
    d = await files(JSON.stringify(edited((j) => (j.spec.layers[0].padding = 6000))));
    await rejects(
      loadModel(d),
      SegRangeError,
      `loadModel: ${join(d, 'model.json')}: spec: the padding of layer 'c1' is 6000, more than the budget's maxWindow = 1024 (raise options.budget.maxWindow to load it)`,
    );
  });

  it('still loads what saveModel wrote', async () => {
    const model = createModel(SPEC, 4);
    const d = await mkdtemp(join(dir, 'ok-'));
    await saveModel(model, d);
    const again = await loadModel(d);
    expect(Array.from(again.params['c2/bias']!.dataSync())).toEqual(
      Array.from(model.params['c2/bias']!.dataSync()),
    );
    again.dispose();
    model.dispose();
  });
});

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

/** Known-named errors: the only kind a hostile model may raise. */
const NAMED = [SegValueError, SegRangeError, SegShapeError];

describe('fuzz: model.json + weights', () => {
  // Mutations of a valid description: a field replaced by an arbitrary JSON
  // value, or large numbers where sizes go; no run may crash with anything
  // but our errors, nor build a model past a small budget.
  const budget = { maxParameters: 4096, maxWindow: 16, maxChannels: 64 };
  const paths = [
    ['format'],
    ['spec'],
    ['spec', 'inChannels'],
    ['spec', 'layers'],
    ['spec', 'layers', 0],
    ['spec', 'layers', 0, 'filterSize'],
    ['spec', 'layers', 0, 'padding'],
    ['spec', 'layers', 0, 'dilation'],
    ['spec', 'layers', 0, 'stride'],
    ['spec', 'layers', 0, 'outChannels'],
    ['spec', 'layers', 2, 'inChannels'],
    ['spec', 'layers', 2, 'inputs'],
    ['spec', 'output'],
    ['weights'],
    ['weights', 1],
    ['weights', 1, 'shape'],
    ['weights', 1, 'offset'],
    ['weights', 2, 'name'],
  ] as const;
  const value = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(0, -1, 0.5, 1e9, 2 ** 31, 6000, Number.NaN, 'same', [
      [6000, 6000],
      [0, 0],
    ]),
    fc.array(fc.integer({ min: -3, max: 1e7 }), { maxLength: 4 }),
  );
  it('raises only named errors and respects the budget', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...paths), value), { minLength: 1, maxLength: 3 }),
        fc.option(fc.nat({ max: 30 })),
        fc.option(fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 1e30)),
        (edits, cut, poison) => {
          const j = JSON.parse(JSON.stringify(json));
          for (const [path, v] of edits) {
            let o = j;
            for (const k of path.slice(0, -1)) {
              if (o === null || typeof o !== 'object') break;
              o = o[k as never];
            }
            if (o !== null && typeof o === 'object') o[path[path.length - 1] as never] = v as never;
          }
          let w = weights.slice();
          if (cut !== null) w = w.subarray(0, cut);
          if (poison !== null && w.length > 0) w[w.length - 1] = poison;
          const before = tf.memory().numTensors;
          try {
            const m = deserializeModel(j, w, { budget });
            expect(m.numParams()).toBeLessThanOrEqual(budget.maxParameters);
            m.dispose();
          } catch (e) {
            if (!NAMED.some((cls) => e instanceof cls)) throw e;
          }
          expect(tf.memory().numTensors).toBe(before);
        },
      ),
      { numRuns: 300, seed: 17 },
    );
  });

  it('raises only named errors on truncated or corrupted model.json text', async () => {
    const text = JSON.stringify(json);
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: text.length }),
        fc.option(
          fc.tuple(fc.nat({ max: text.length - 1 }), fc.string({ minLength: 1, maxLength: 1 })),
        ),
        async (cut, flip) => {
          let t = text.slice(0, cut);
          if (flip) t = t.slice(0, flip[0]) + flip[1] + t.slice(flip[0] + 1);
          const d = await files(t);
          try {
            (await loadModel(d, { budget })).dispose();
          } catch (e) {
            if (!NAMED.some((cls) => e instanceof cls)) throw e;
          } finally {
            await rm(d, { recursive: true });
          }
        },
      ),
      { numRuns: 60, seed: 17 },
    );
  });
});
