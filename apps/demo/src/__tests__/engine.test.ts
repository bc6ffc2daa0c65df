import { initBackend, type LabelMap, type RgbImage } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type RunRequest, Session } from '../engine.js';

// three vertical bands: red | green | blue, 24×12
const W = 24;
const H = 12;
const band = (x: number) => (x < 8 ? 0 : x < 16 ? 1 : 2);
const image: RgbImage = {
  width: W,
  height: H,
  data: Uint8Array.from({ length: W * H * 3 }, (_, i) => {
    const p = Math.floor(i / 3);
    return band(p % W) === i % 3 ? 220 : 30;
  }),
};
/** A seed column per band (labels by band, K = 2 merges the last two). */
function seeds(K: number): LabelMap {
  const data = new Int32Array(W * H).fill(-1);
  for (let y = 2; y < H - 2; y++)
    for (const x of [3, 12, 20]) data[y * W + x] = Math.min(band(x), K - 1);
  return { width: W, height: H, data };
}
const truth = (K: number) => Array.from({ length: W * H }, (_, p) => Math.min(band(p % W), K - 1));
const agreement = (a: Uint8Array, b: number[]) => a.filter((v, i) => v === b[i]).length / a.length;

function request(over: Partial<RunRequest>): RunRequest {
  return {
    imageKey: 'bands',
    image,
    seeds: seeds(2),
    numLabels: 2,
    method: 'adm',
    params: { iterations: 2, refineIterations: 1, maxSide: 24 },
    refine: false,
    ...over,
  };
}

describe('Session', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('segments, reports every iteration, refines the same network, stops when told, and frees its tensors', async () => {
    const before = tf.memory().numTensors;
    const s = new Session();
    const seen: number[] = [];
    const r = await s.run(request({}), async (i) => {
      seen.push(i.iteration);
      expect(i.labels.length).toBe(W * H);
      expect(Object.keys(i.terms)).toContain('partial CE');
      return true;
    });
    expect(seen).toEqual([0, 1]);
    expect(r).toMatchObject({ completed: true, refined: false });
    expect(agreement(r.labels, truth(2))).toBeGreaterThan(0.95);
    const again = await s.run(request({ refine: true }), async () => true);
    expect(again).toMatchObject({ completed: true, refined: true, iterations: 1 });
    // another image: a fresh network
    const other = await s.run(request({ refine: true, imageKey: 'other' }), async () => false);
    expect(other).toMatchObject({ completed: false, refined: false });
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(['adm', 'graphcut'] as const)('segments three labels (%s)', async (method) => {
    const s = new Session();
    const r = await s.run(
      request({
        method,
        seeds: seeds(3),
        numLabels: 3,
        params: { iterations: 3, maxSide: 24, lambda: 1 },
      }),
      async () => true,
    );
    expect(agreement(r.labels, truth(3))).toBeGreaterThan(0.9);
    s.dispose();
  });
});
