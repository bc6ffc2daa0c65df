/**
 * A character-level SMILES input encoder: each string becomes the one-hot
 * characters at each position (the first `maxLength`) followed by hashed
 * counts of its character 1-, 2- and 3-grams; an MLP on tfjs-core maps
 * them to the surrogate's output space.
 */

import type { Rng } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import type { StructuredEncoder } from '../../src/index.js';

/** Options of {@link SmilesFeaturizer}. */
export interface SmilesFeatureOptions {
  /** Positions one-hot encoded (longer strings are cut there). @default 40 */
  maxLength?: number;
  /** Buckets of the hashed n-gram counts. @default 1024 */
  buckets?: number;
}

/** Character features of SMILES strings; the vocabulary comes from the training strings (unknown characters share one code). */
export class SmilesFeaturizer {
  readonly vocab: Map<string, number>;
  readonly maxLength: number;
  readonly buckets: number;
  readonly size: number;

  constructor(train: readonly string[], options: SmilesFeatureOptions = {}) {
    this.maxLength = options.maxLength ?? 40;
    this.buckets = options.buckets ?? 1024;
    const chars = [...new Set(train.join(''))].sort();
    this.vocab = new Map(chars.map((c, i) => [c, i + 1])); // 0: unknown
    this.size = this.maxLength * (chars.length + 1) + this.buckets;
  }

  /** `[n, size]` features, row-major. */
  features(smiles: readonly string[]): Float32Array {
    const v = this.vocab.size + 1;
    const out = new Float32Array(smiles.length * this.size);
    smiles.forEach((s, r) => {
      const o = r * this.size;
      for (let p = 0; p < Math.min(s.length, this.maxLength); p++)
        out[o + p * v + (this.vocab.get(s[p]!) ?? 0)] = 1;
      const g = o + this.maxLength * v;
      for (let k = 1; k <= 3; k++) {
        for (let p = 0; p + k <= s.length; p++) {
          const q = g + (hash(s.slice(p, p + k)) % this.buckets);
          out[q] = out[q]! + 1 / k;
        }
      }
    });
    return out;
  }
}

/** FNV-1a, 32 bits. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A two-hidden-layer MLP `features → d` (relu), the surrogate `h(x)`. */
export class Mlp implements StructuredEncoder<tf.Tensor> {
  readonly variables: tf.Variable[];

  constructor(rng: Rng, sizes: readonly number[]) {
    this.variables = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const [a, b] = [sizes[l]!, sizes[l + 1]!];
      this.variables.push(
        tf.variable(tf.tensor2d(rng.normalArray(a * b, 0, Math.sqrt(2 / (a + b))), [a, b])),
      );
      this.variables.push(tf.variable(tf.zeros([b])));
    }
  }

  apply(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      let h = x as tf.Tensor2D;
      const L = this.variables.length / 2;
      for (let l = 0; l < L; l++) {
        h = tf.add(tf.matMul(h, this.variables[2 * l] as tf.Tensor2D), this.variables[2 * l + 1]!);
        if (l + 1 < L) h = tf.relu(h);
      }
      return h;
    });
  }

  /** `[n,d]` outputs in batches, as a plain array. */
  predict(x: tf.Tensor2D, batch = 512): Float32Array {
    const n = x.shape[0];
    const parts: Float32Array[] = [];
    for (let s = 0; s < n; s += batch) {
      parts.push(
        tf.tidy(
          () =>
            this.apply(
              tf.slice(x, [s, 0], [Math.min(batch, n - s), -1]),
            ).dataSync() as Float32Array,
        ),
      );
    }
    const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}
