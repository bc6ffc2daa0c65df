import { initParams, type NetSpec, type Pair, type Params, receptiveField } from '@seg/dense-conv';
import { Rng } from '@seg/tensor';
import { describeBackends, expectNoLeaks } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { pathNorm, pathScaling } from '../index.js';
import { bruteForcePaths } from './brute-force.js';
import { branchySpec, convPoolSpec, mlpSpec } from './nets.js';

/** Random weights and biases (biases non-zero, so bias paths count). */
function randomParams(spec: NetSpec, seed: number): Params {
  const rng = new Rng(seed);
  const params = initParams(spec, rng);
  for (const [name, t] of Object.entries(params)) {
    const v = rng.uniformArray(t.size, -1.5, 1.5);
    t.dispose();
    params[name] = tf.tensor(v, t.shape, 'float32');
  }
  return params;
}

function flat(params: Params): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [n, t] of Object.entries(params)) out[n] = t.dataSync() as Float32Array;
  return out;
}

function expectMatchesBruteForce(spec: NetSpec, seed: number, inputSize?: Pair): void {
  const params = randomParams(spec, seed);
  const size = inputSize ?? receptiveField(spec).size;
  const ref = bruteForcePaths(spec, flat(params), size);
  expect(ref.paths).toBeGreaterThan(0);
  const gamma = pathScaling({ spec, params }, inputSize ? { inputSize } : {});
  for (const [name, g] of Object.entries(gamma)) {
    const got = g.dataSync();
    const want = ref.gamma[name]!;
    expect(got.length).toBe(want.length);
    const scale = Math.max(...want, 1e-6);
    for (let i = 0; i < want.length; i++) {
      expect(Math.abs(got[i]! - want[i]!), `${name}[${i}]`).toBeLessThanOrEqual(
        1e-5 * scale + 1e-4 * Math.abs(want[i]!),
      );
    }
  }
  const norm = pathNorm({ spec, params }, inputSize ? { inputSize } : {});
  expect(norm).toBeCloseTo(Math.sqrt(ref.total), 3 - Math.max(0, Math.ceil(Math.log10(norm))));
  tf.dispose(gamma);
  tf.dispose(params);
}

describeBackends('pathScaling', () => {
  it('equals brute-force path enumeration on random MLPs (with and without biases)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 5 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 1e6 }),
        (sizes, bias, seed) => {
          expectMatchesBruteForce(mlpSpec(sizes, bias), seed);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('equals brute force on a conv net with max and avg pools, on several input sizes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 2 }),
        (seed, dh, dw) => {
          const spec = convPoolSpec();
          const rf = receptiveField(spec).size;
          expectMatchesBruteForce(spec, seed, [rf[0] + 2 * dh, rf[1] + 2 * dw]);
        },
      ),
      { numRuns: 6 },
    );
  });

  it('equals brute force with dilation, strides, padded sum/avg pools and a concat', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), (seed) => {
        expectMatchesBruteForce(branchySpec(), seed, [7, 6]);
      }),
      { numRuns: 4 },
    );
  });

  it('defaults the input to the receptive field (one output pixel)', () => {
    const spec = convPoolSpec();
    const params = randomParams(spec, 3);
    const a = pathScaling({ spec, params });
    const b = pathScaling({ spec, params }, { inputSize: receptiveField(spec).size });
    const c = pathScaling({ spec, params }, { inputSize: [9, 9] });
    expect(Array.from(a['conv1/filter']!.dataSync())).toEqual(
      Array.from(b['conv1/filter']!.dataSync()),
    );
    // a larger input shares every filter over more positions
    expect(tf.sum(c['conv1/filter']!).dataSync()[0]!).toBeGreaterThan(
      tf.sum(a['conv1/filter']!).dataSync()[0]!,
    );
    tf.dispose([a, b, c, params]);
  });

  it('does not leak tensors', async () => {
    const spec = branchySpec();
    const params = randomParams(spec, 1);
    await expectNoLeaks(() => pathScaling({ spec, params }, { inputSize: [6, 6] }));
    await expectNoLeaks(() => pathNorm({ spec, params }));
    tf.dispose(params);
  });

  it('rejects bad input with clear messages', () => {
    const spec = mlpSpec([3, 2, 1]);
    const params = randomParams(spec, 1);
    expect(() =>
      pathScaling({ spec, params: { ...params, 'fc1/weight': tf.zeros([2, 2]) } }),
    ).toThrow("pathScaling: model.params['fc1/weight'] has shape [2,2], expected [3,2]");
    const { 'fc2/bias': _, ...missing } = params;
    expect(() => pathNorm({ spec, params: missing })).toThrow(
      "pathNorm: model.params has no tensor 'fc2/bias'",
    );
    expect(() => pathScaling({ spec, params }, { inputSize: [0, 1] })).toThrow(
      'pathScaling: options.inputSize[0] is 0, expected an integer ≥ 1',
    );
    const odd = {
      ...spec,
      layers: [...spec.layers, { kind: 'softmax', name: 'sm', inputs: ['fc2'] }],
    };
    expect(() => pathScaling({ spec: odd as unknown as NetSpec, params })).toThrow(
      'pathScaling: layer \'sm\' has kind "softmax", expected one of conv2d, pool, relu, linear, concat (Path-SGD has no path rule for it)',
    );
    expect(() => pathScaling(null as never)).toThrow(
      'pathScaling: model is null, expected { spec, params }',
    );
    tf.dispose(params);
  });
});
