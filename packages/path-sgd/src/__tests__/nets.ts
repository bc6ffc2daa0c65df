// Tiny networks shared by the tests.
import {
  avgPool,
  concat,
  conv2d,
  defineNet,
  linear,
  maxPool,
  type NetSpec,
  relu,
  sumPool,
} from '@seg/dense-conv';

export function mlpSpec(sizes: number[], bias = true): NetSpec {
  const layers = [];
  for (let i = 1; i < sizes.length; i++) {
    layers.push(linear({ name: `fc${i}`, outChannels: sizes[i]!, bias }));
    if (i < sizes.length - 1) layers.push(relu({ name: `relu${i}` }));
  }
  return defineNet({ inChannels: sizes[0]!, layers });
}

/** conv → relu → max pool → conv (bias) → relu → avg pool → dense. */
export function convPoolSpec(): NetSpec {
  return defineNet({
    inChannels: 2,
    layers: [
      conv2d({ name: 'conv1', outChannels: 3, filterSize: 2 }),
      relu({ name: 'r1' }),
      maxPool({ name: 'p1', size: 2, stride: 2 }),
      conv2d({ name: 'conv2', outChannels: 2, filterSize: 2, padding: 'same', bias: false }),
      relu({ name: 'r2' }),
      avgPool({ name: 'p2', size: 2, stride: 1 }),
      linear({ name: 'out', outChannels: 2 }),
    ],
  });
}

/** Strides, dilation, padded avg / sum pools and a concat of two branches. */
export function branchySpec(): NetSpec {
  return defineNet({
    inChannels: 1,
    layers: [
      conv2d({ name: 'a', outChannels: 2, filterSize: 2, dilation: 2 }),
      relu({ name: 'ra' }),
      conv2d({ name: 'b', input: 'input', outChannels: 1, filterSize: 3, stride: 1 }),
      avgPool({ name: 'pb', size: 2, stride: 1, padding: 'same' }),
      sumPool({ name: 'pa', input: 'ra', size: 2, stride: 1, padding: 'same' }),
      concat(['pa', 'pb'], 'cat'),
      conv2d({ name: 'c', outChannels: 2, filterSize: 2, stride: 2 }),
      relu({ name: 'rc' }),
      linear({ name: 'out', outChannels: 2 }),
    ],
  });
}
