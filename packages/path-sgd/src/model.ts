import { type NetSpec, type Params, paramShapes } from '@seg/dense-conv';
import { formatShape, SegShapeError, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';

/** The layer kinds the path-scaling pass knows how to walk. */
export const LAYER_KINDS_SUPPORTED = ['conv2d', 'pool', 'relu', 'linear', 'concat'] as const;

/**
 * What Path-SGD needs of a network: its `@seg/dense-conv` description and its
 * parameters by name (`conv1/filter`, `fc1/weight`, ...). A dense-conv
 * `Model` is one; so is `{ spec, params }` with plain tensors.
 */
export interface PathModel {
  readonly spec: NetSpec;
  readonly params: Params;
}

/** Throws unless `spec` looks like a canonical dense-conv `NetSpec` whose layers Path-SGD can walk. */
export function checkSpec(fn: string, spec: NetSpec): void {
  if (spec === null || typeof spec !== 'object' || !Array.isArray(spec.layers)) {
    throw new SegValueError(
      `${fn}: model.spec is ${String(spec)}, expected a NetSpec from defineNet`,
    );
  }
  for (const layer of spec.layers) {
    const kind = (layer as { kind?: unknown }).kind;
    if (!(LAYER_KINDS_SUPPORTED as readonly unknown[]).includes(kind)) {
      throw new SegValueError(
        `${fn}: layer '${layer.name}' has kind ${JSON.stringify(kind)}, expected one of ${LAYER_KINDS_SUPPORTED.join(', ')} (Path-SGD has no path rule for it)`,
      );
    }
    if (layer.kind === 'pool' && !['max', 'avg', 'sum'].includes(layer.op)) {
      throw new SegValueError(
        `${fn}: pool layer '${layer.name}' has op ${JSON.stringify(layer.op)}, expected 'max', 'avg' or 'sum'`,
      );
    }
  }
}

/** Throws unless `model` is `{ spec, params }` with a tensor of the right shape for every parameter. */
export function checkModel(fn: string, model: PathModel): void {
  if (model === null || typeof model !== 'object') {
    throw new SegValueError(`${fn}: model is ${String(model)}, expected { spec, params }`);
  }
  checkSpec(fn, model.spec);
  checkParamRecord(fn, 'model.params', model.spec, model.params);
}

/** Throws unless `params` has a tensor of the right shape for every parameter of `spec`. */
export function checkParamRecord(fn: string, arg: string, spec: NetSpec, params: Params): void {
  if (params === null || typeof params !== 'object') {
    throw new SegValueError(`${fn}: ${arg} is ${String(params)}, expected a record of tensors`);
  }
  for (const [name, shape] of Object.entries(paramShapes(spec))) {
    const t = params[name];
    if (!(t instanceof tf.Tensor)) throw new SegValueError(`${fn}: ${arg} has no tensor '${name}'`);
    if (t.isDisposed) throw new SegValueError(`${fn}: ${arg}['${name}'] is disposed`);
    if (t.shape.length !== shape.length || t.shape.some((v, i) => v !== shape[i])) {
      throw new SegShapeError(
        `${fn}: ${arg}['${name}'] has shape ${formatShape(t.shape)}, expected ${formatShape(shape)}`,
      );
    }
  }
}

/**
 * Throws unless every tensor of `record` whose name is a parameter of `spec`
 * has that parameter's shape (gradients and updates must match, not broadcast).
 */
export function checkRecordShapes(fn: string, arg: string, spec: NetSpec, record: unknown): void {
  if (record === null || typeof record !== 'object') {
    throw new SegValueError(`${fn}: ${arg} is ${String(record)}, expected a record of tensors`);
  }
  const shapes = paramShapes(spec);
  for (const [name, t] of Object.entries(record as Record<string, unknown>)) {
    const shape = shapes[name];
    if (shape === undefined) continue;
    checkSameShape(fn, `${arg}['${name}']`, t, shape);
  }
}

/** Throws unless `t` is a tensor of shape `shape`. */
export function checkSameShape(
  fn: string,
  arg: string,
  t: unknown,
  shape: readonly number[],
): void {
  if (!(t instanceof tf.Tensor)) {
    throw new SegValueError(`${fn}: ${arg} is not a tensor`);
  }
  const actual: readonly number[] = t.shape;
  if (actual.length !== shape.length || actual.some((v, i) => v !== shape[i])) {
    throw new SegShapeError(
      `${fn}: ${arg} has shape ${formatShape(actual)}, expected ${formatShape(shape)}`,
    );
  }
}
