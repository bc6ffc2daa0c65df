import {
  assertFinite,
  assertShape,
  formatShape,
  fusedConv2d,
  fusedMatMul,
  SegShapeError,
  SegValueError,
} from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { pool2d } from '../ops/pool.js';
import { convPadding, explicitPads, layerSizes, paramShapes } from '../spec/analyse.js';
import type { NetSpec, PoolOp } from '../spec/types.js';

/** A network's parameters by name (`conv1/filter`, ...): variables, or any tensors of the same shapes. */
export type Params = Record<string, tf.Tensor>;

/** Options of {@link applyNet} and `Model.apply`. */
export interface ApplyOptions {
  /**
   * Run every max-pooling layer as this op instead (e.g. `'sum'`, which with
   * squared parameters and an all-ones input counts every path through a max
   * pool). This alone is not Path-SGD's scaling pass when the network has
   * average pools, whose edge weights 1/count must be squared too: use
   * `pathScaling` of `@seg/path-sgd` for that.
   * @default 'max'
   */
  maxPoolAs?: PoolOp;
}

/**
 * Runs a network: a pure function of its description, its parameters and its
 * input. `x` is NHWC `[n, h, w, spec.inChannels]` (float32); returns
 * `[n, h', w', spec.outChannels]` (see {@link outputShape}). Differentiable
 * with respect to `x` and every parameter, on wasm and cpu. Runs in
 * `tf.tidy`: the caller owns the result.
 *
 * @example
 * const y = applyNet(spec, model.params, x);
 * // the same network with its max pools summing their windows
 * const out = applyNet(spec, model.params, x, { maxPoolAs: 'sum' });
 */
export function applyNet(
  spec: NetSpec,
  params: Params,
  x: tf.Tensor,
  options: ApplyOptions = {},
): tf.Tensor4D {
  const fn = 'applyNet';
  checkInput(fn, spec, x);
  checkParams(fn, spec, params);
  return runNet(fn, spec, params, x as tf.Tensor4D, checkMaxPoolAs(fn, options));
}

/** The `maxPoolAs` of {@link ApplyOptions}, checked (default 'max'). */
export function checkMaxPoolAs(fn: string, options: ApplyOptions): PoolOp {
  const maxPoolAs = options.maxPoolAs ?? 'max';
  if (maxPoolAs !== 'max' && maxPoolAs !== 'avg' && maxPoolAs !== 'sum') {
    throw new SegValueError(
      `${fn}: options.maxPoolAs is ${JSON.stringify(maxPoolAs)}, expected 'max', 'avg' or 'sum'`,
    );
  }
  return maxPoolAs;
}

/**
 * {@link applyNet} on arguments already checked (its input, parameters and
 * `maxPoolAs`): for callers that run one network many times on parts of one
 * checked input, such as `denseForward`'s bands.
 */
export function runNet(
  fn: string,
  spec: NetSpec,
  params: Params,
  x: tf.Tensor4D,
  maxPoolAs: PoolOp,
): tf.Tensor4D {
  const sizes = layerSizes(spec, [x.shape[1]!, x.shape[2]!], fn);
  // A convolution or linear layer whose sole reader is the ReLU right after
  // it runs fused with it and its bias (one backend kernel: @seg/tensor's
  // fusedConv2d or fusedMatMul, on wasm its SIMD kernel with bias and ReLU),
  // with the tape on too: @seg/tensor registers their gradients. Forward only, every value is
  // also disposed after its last reader, which bounds the peak memory by a
  // few layers' outputs.
  const forwardOnly = !tf.engine().isTapeOn();
  const lastUse = new Map<string, number>();
  const readers = new Map<string, number>([[spec.output, 1]]);
  spec.layers.forEach((layer, i) => {
    for (const name of layer.inputs) {
      lastUse.set(name, i);
      readers.set(name, (readers.get(name) ?? 0) + 1);
    }
  });
  return tf.tidy(() => {
    const values = new Map<string, tf.Tensor4D>([['input', x as tf.Tensor4D]]);
    for (let i = 0; i < spec.layers.length; i++) {
      const layer = spec.layers[i]!;
      const input = values.get(layer.inputs[0]!)!;
      const inSize = sizes.get(layer.inputs[0]!)!;
      const next = spec.layers[i + 1];
      const fuseRelu =
        (layer.kind === 'conv2d' || layer.kind === 'linear') &&
        next?.kind === 'relu' &&
        next.inputs[0] === layer.name &&
        readers.get(layer.name) === 1;
      const activation = fuseRelu ? 'relu' : 'linear';
      let y: tf.Tensor4D;
      switch (layer.kind) {
        case 'conv2d': {
          const pad = convPadding(layer, inSize);
          const filter = params[`${layer.name}/filter`] as tf.Tensor4D;
          const bias = layer.bias ? params[`${layer.name}/bias`] : undefined;
          // One kernel with bias and ReLU (@seg/tensor's fusedConv2d: on wasm
          // its SIMD convolution SegConv2D, else tfjs's FusedConv2D), forward
          // only and with the tape on (FusedConv2D's gradient is registered).
          y = fusedConv2d({
            x: input,
            filter,
            strides: layer.stride,
            pad,
            dilations: layer.dilation,
            bias,
            activation,
          });
          break;
        }
        case 'pool': {
          const op = layer.op === 'max' ? maxPoolAs : layer.op;
          const pads = explicitPads(
            layer.padding,
            inSize,
            layer.size,
            layer.stride,
            layer.dilation,
          );
          y = pool2d(input, op, layer.size, layer.stride, layer.dilation, pads);
          break;
        }
        case 'relu':
          y = tf.relu(input);
          break;
        case 'linear': {
          const [n, h, w, c] = input.shape;
          const flat = tf.reshape(input, [n * h * w, c]) as tf.Tensor2D;
          const weight = params[`${layer.name}/weight`] as tf.Tensor2D;
          const bias = layer.bias ? params[`${layer.name}/bias`] : undefined;
          let z: tf.Tensor;
          if (forwardOnly) {
            z = tf.fused.matMul({ a: flat, b: weight, bias, activation });
          } else {
            // @seg/tensor's fusedMatMul: on wasm its own product (tf.matMul
            // repacks the weight on every call, as it changes every step),
            // bias and ReLU in one pass, with its gradient
            z = fusedMatMul({
              a: flat,
              b: weight,
              bias: bias as tf.Tensor1D | undefined,
              activation,
            });
          }
          y = tf.reshape(z, [n, h, w, layer.outChannels]);
          break;
        }
        default:
          y = tf.concat(
            layer.inputs.map((name) => values.get(name)!),
            3,
          );
      }
      if (fuseRelu) {
        // the ReLU layer is done too: its output is this fused result
        i++;
        values.set(layer.name, y);
        values.set(next!.name, y);
      } else values.set(layer.name, y);
      if (forwardOnly) {
        const done = fuseRelu ? [...layer.inputs, layer.name] : layer.inputs;
        for (const name of done) {
          const last = lastUse.get(name) ?? -1;
          if (name !== 'input' && name !== spec.output && last <= i && values.has(name)) {
            const t = values.get(name)!;
            values.delete(name);
            if (![...values.values()].includes(t)) t.dispose();
          }
        }
      }
    }
    return values.get(spec.output)!;
  });
}

/** Throws unless `x` is a float32 `[n, h, w, spec.inChannels]` tensor of finite values. */
export function checkInput(fn: string, spec: NetSpec, x: tf.Tensor): void {
  if (!(x instanceof tf.Tensor)) throw new SegValueError(`${fn}: x is not a tf.Tensor`);
  assertShape(fn, 'x', x.shape, [null, null, null, spec.inChannels]);
  if (x.dtype !== 'float32')
    throw new SegShapeError(`${fn}: x has dtype ${x.dtype}, expected float32`);
  checkFinite(fn, 'x', x);
}

/**
 * Tensors already checked finite: a tfjs tensor's values never change (a
 * variable's do, and variables are never kept here), so a training loop
 * that feeds the same input every step checks it once.
 */
const knownFinite = new WeakSet<tf.Tensor>();

/**
 * Throws a SegValueError naming the first NaN or infinite entry of `t` (flat
 * index). One reduction on the backend when all is well (none for a tensor
 * checked before); the values are read only to name the bad entry.
 */
export function checkFinite(fn: string, arg: string, t: tf.Tensor): void {
  if (knownFinite.has(t)) return;
  const ok = tf.tidy(() => tf.all(tf.isFinite(t)).dataSync()[0]);
  if (!ok) assertFinite(fn, arg, t.dataSync());
  if (!(t instanceof tf.Variable)) knownFinite.add(t);
}

/** Throws unless `params` holds a tensor of the right shape for every parameter of `spec`. */
export function checkParams(fn: string, spec: NetSpec, params: Params): void {
  if (params === null || typeof params !== 'object')
    throw new SegValueError(`${fn}: params is ${String(params)}, expected a record of tensors`);
  for (const [name, shape] of Object.entries(paramShapes(spec))) {
    const t = params[name];
    if (!(t instanceof tf.Tensor)) throw new SegValueError(`${fn}: params has no tensor '${name}'`);
    if (t.shape.length !== shape.length || t.shape.some((v, i) => v !== shape[i])) {
      throw new SegShapeError(
        `${fn}: params['${name}'] has shape ${formatShape(t.shape)}, expected ${formatShape(shape)}`,
      );
    }
  }
}
