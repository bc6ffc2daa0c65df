import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import type { LayerInput } from '../index.js';

/** A random patch network: convolutions, pools (max/avg/sum) and ReLUs with random strides. */
export const layerStack: fc.Arbitrary<LayerInput[]> = fc
  .array(
    fc.oneof(
      fc.record({
        kind: fc.constant('conv2d' as const),
        outChannels: fc.integer({ min: 1, max: 3 }),
        filterSize: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        stride: fc.integer({ min: 1, max: 2 }),
        dilation: fc.integer({ min: 1, max: 2 }),
      }),
      fc.record({
        kind: fc.constant('pool' as const),
        op: fc.constantFrom('max' as const, 'avg' as const, 'sum' as const),
        size: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 })),
      }),
      fc.constant({ kind: 'relu' as const }),
    ),
    { minLength: 1, maxLength: 5 },
  )
  .map((layers) =>
    layers.map((l): LayerInput => {
      // tfjs allows stride > 1 or dilation > 1 on a layer, not both
      if (l.kind === 'conv2d' && l.stride > 1) return { ...l, dilation: 1 };
      return l;
    }),
  );

/** Windows `x[i·s .. i·s+R-1, j·s .. j·s+R-1]` for every (i, j) of an n×m grid, as a batch. */
export function windows(
  x: tf.Tensor4D,
  size: [number, number],
  n: number,
  m: number,
  step = 1,
): tf.Tensor4D {
  return tf.tidy(() => {
    const out: tf.Tensor4D[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++)
        out.push(tf.slice(x, [0, i * step, j * step, 0], [1, size[0], size[1], -1]));
    }
    return tf.concat(out, 0);
  });
}

/** max |a − b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
