/**
 * Tensors sharing one buffer on the wasm backend: an `Identity` without a
 * copy, and a guard on tfjs's `BatchMatMul` that makes sharing safe.
 *
 * tfjs-core's engine clones every tensor a kernel saves for its gradient
 * while a tape records (`saveTensorsForBackwardMode`: `keep(clone(x))`), and
 * a clone is the `Identity` kernel. tfjs-backend-wasm 4.22's Identity copies
 * its input into a new buffer, so a training step copies each weight and
 * each saved activation once more (a 1000×1000 weight: ~0.3 ms). Tensors are
 * immutable, so the clone may share the input's buffer with one reference
 * more, as tfjs's cpu backend's Identity and the wasm backend's own Reshape
 * already do.
 *
 * The guard: tfjs-backend-wasm 4.22's BatchMatMul caches XNNPACK's packed
 * right operand by the operand's buffer, whatever its shape, so a buffer
 * used as the right operand under one shape and then under another (a
 * reshape of it; with sharing, a clone of it reshaped) is multiplied with
 * the first shape's packing: a wrong product, silently
 * (`matMul(g [1×1], reshape(b [2×1], [1, 2]))` after `matMul(a, b)` gave
 * `[15, 0]` for `[15, 20]`). The guard remembers the shape each buffer was
 * last a right operand with, and hands BatchMatMul a fresh copy (a new
 * buffer, never cached) when the shape differs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelArgs } from './backend-module.js';

/** What the aliasing Identity uses of tfjs-backend-wasm 4.22's `BackendWasm`. */
interface RefCounted {
  incRef(dataId: tf.DataId): void;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

/** tfjs-backend-wasm's own Identity (a copy), kept for strings and the guard's copies. */
let copyingIdentity: tf.KernelFunc | undefined;
/** tfjs-backend-wasm's own BatchMatMul. */
let xnnBatchMatMul: tf.KernelFunc | undefined;
/** The shape (and transpose) each buffer was last BatchMatMul's right operand with. */
const rightOperandShapes = new WeakMap<object, string>();

function identityKernel(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  // strings live in JavaScript, not on the heap: tfjs's own kernel handles them
  if (x.dtype === 'string') return copyingIdentity!(args as never) as tf.TensorInfo;
  (args.backend as RefCounted).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

function guardedBatchMatMul(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const key = `${b.shape.join(',')}${(args.attrs as { transposeB?: boolean }).transposeB ? 'T' : ''}`;
  const last = rightOperandShapes.get(b.dataId);
  if (last === undefined || last === key) {
    rightOperandShapes.set(b.dataId, key);
    return xnnBatchMatMul!(args as never) as tf.TensorInfo;
  }
  const backend = args.backend as RefCounted;
  const fresh = copyingIdentity!({ inputs: { x: b }, backend } as never) as tf.TensorInfo;
  try {
    return xnnBatchMatMul!({ ...args, inputs: { a, b: fresh } } as never) as tf.TensorInfo;
  } finally {
    backend.disposeData(fresh.dataId);
  }
}

/** Registers `kernelFunc` for `name` on wasm in place of tfjs's, returning tfjs's (undefined when missing or already replaced). */
function replace(name: string, kernelFunc: tf.KernelFunc): tf.KernelFunc | undefined {
  const current = tf.getKernel(name, 'wasm');
  if (!current || current.kernelFunc === kernelFunc) return undefined;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...current, kernelFunc });
  return current.kernelFunc;
}

/**
 * Puts the aliasing Identity and the guarded BatchMatMul in place of
 * tfjs-backend-wasm's (call after tfjs-backend-wasm registered its kernels;
 * a second call does nothing).
 */
export function registerSharedBuffers(): void {
  xnnBatchMatMul ??= replace(tf.BatchMatMul, guardedBatchMatMul as unknown as tf.KernelFunc);
  copyingIdentity ??= replace(tf.Identity, identityKernel as unknown as tf.KernelFunc);
}
