/** Random test data and gradient helpers shared by the tests. */
import type { Rng } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';

/** Normal logits, float32-rounded. */
export function randomLogits(rng: Rng, size: number, std = 1.5): Float32Array {
  return Float32Array.from(rng.normalArray(size, 0, std));
}

/** Row-wise softmax of `z` (pixels of k values), float32-rounded, strictly positive. */
export function softmaxRows(z: ArrayLike<number>, k: number): Float32Array {
  const out = new Float32Array(z.length);
  for (let o = 0; o < z.length; o += k) {
    let mx = -Infinity;
    for (let c = 0; c < k; c++) mx = Math.max(mx, z[o + c]!);
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp(z[o + c]! - mx);
    for (let c = 0; c < k; c++) out[o + c] = Math.exp(z[o + c]! - mx) / s;
  }
  return out;
}

/** A random image with some structure (two colour regions plus noise), values 0–255 integers. */
export function randomImage(rng: Rng, n: number, h: number, w: number): Float32Array {
  const out = new Float32Array(n * h * w * 3);
  for (let b = 0; b < n; b++) {
    const cut = rng.int(w);
    const colA = [rng.int(256), rng.int(256), rng.int(256)];
    const colB = [rng.int(256), rng.int(256), rng.int(256)];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const col = x + y / 2 < cut ? colA : colB;
        for (let c = 0; c < 3; c++) {
          const v = col[c]! + rng.normal(0, 20);
          out[((b * h + y) * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
    }
  }
  return out;
}

/** Random weights per example, so gradient checks also test `dy`. */
export function randomCoefficients(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => 0.5 + rng.uniform());
}

/**
 * The tfjs gradient of `Σ_n c_n·f(x)_n` at `x` (shape `shape`), as a
 * Float32Array; the tensors made are disposed.
 */
export function tfGradient(
  f: (x: tf.Tensor) => tf.Tensor,
  x: Float32Array,
  shape: number[],
  coef: number[],
): { value: Float32Array; grad: Float32Array } {
  return tf.tidy(() => {
    const xt = tf.tensor(x, shape, 'float32');
    const c = tf.tensor1d(coef);
    const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => tf.sum(tf.mul(f(t), c)))(xt);
    const per = f(xt).dataSync() as Float32Array;
    void value;
    return { value: Float32Array.from(per), grad: Float32Array.from(grad.dataSync()) };
  });
}

/** `Σ_n c_n v_n`. */
export function dot(c: number[], v: number[]): number {
  return c.reduce((s, ci, i) => s + ci * v[i]!, 0);
}
