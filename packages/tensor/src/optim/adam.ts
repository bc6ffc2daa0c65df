/**
 * Adam (Kingma & Ba, ICLR 2015) in one pass a variable: the same updates as
 * `tf.train.adam`, bit for bit, without its dozen tensor ops a variable
 * (each a kernel call and a few scalar tensors) that dominate a small
 * network's step. The moments live in JavaScript arrays; each step reads
 * the gradient and the value back and writes the new value as one tensor.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertNumber, SegValueError } from '../errors.js';
import { checkGradientSize, type NamedTensor, variableGradients } from './gradients.js';

const NAME = 'SegAdam';
const f32 = Math.fround;

/** The moments of one variable, and the name they are saved under. */
interface Slots {
  name: string;
  shape: number[];
  m: Float32Array;
  v: Float32Array;
}

/**
 * `tf.train.adam` computed per element in float32, one pass a variable:
 * `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
 * `x ← x − lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)`, every operation
 * rounded to float32 in tfjs's order, so the parameters are those of
 * `tf.train.adam` bit for bit (tested on wasm and cpu). Its weights
 * (`getWeights` / `setWeights`) are those of tfjs's Adam: `iter`, then each
 * variable's `name/m`, then each `name/v`, so checkpoints of either restore
 * into the other.
 *
 * For backends whose tensors JavaScript reads synchronously (wasm, cpu): a
 * step reads each gradient and value back (a copy) instead of running
 * kernels on them.
 *
 * @example
 * const optimizer = segAdam(0.01);
 * optimizer.minimize(() => loss(model(x), y), false, model.variables());
 */
export class SegAdam extends tf.Optimizer {
  /** The registered class name. */
  static get className(): string {
    return NAME;
  }

  /**
   * The moments by the variable's position in the gradients (as tfjs's Adam:
   * a checkpoint restores into another network of the same layout whatever
   * its variables are named).
   */
  private slots: Slots[] = [];
  /** The tensors the last {@link getWeights} made: the optimizer's, released at the next step, call or dispose. */
  private lent: tf.Tensor[] = [];
  /** β₁ᵗ and β₂ᵗ for the next step, as float32 (tfjs's `accBeta1`, `accBeta2`). */
  private accBeta1: number;
  private accBeta2: number;

  constructor(
    private readonly learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon: number = tf.backend().epsilon(),
  ) {
    super();
    assertNumber(NAME, 'learningRate', learningRate);
    assertNumber(NAME, 'beta1', beta1, 0, 1);
    assertNumber(NAME, 'beta2', beta2, 0, 1);
    assertNumber(NAME, 'epsilon', epsilon, 0);
    this.accBeta1 = f32(beta1);
    this.accBeta2 = f32(beta2);
  }

  /** One Adam step on each variable that has a gradient (tfjs's `applyGradients`). */
  applyGradients(gradients: tf.NamedTensorMap | NamedTensor[]): void {
    const grads = variableGradients(NAME, gradients);
    const b1 = f32(this.beta1);
    const b2 = f32(this.beta2);
    const a1 = f32(1 - this.beta1);
    const a2 = f32(1 - this.beta2);
    const c1 = f32(1 - this.accBeta1);
    const c2 = f32(1 - this.accBeta2);
    const eps = f32(this.epsilon);
    const step = f32(-this.learningRate);
    this.release();
    for (const [at, { name, gradient, value }] of grads.entries()) {
      const slots = this.slotsAt(at, name, value.shape);
      if (gradient == null) continue;
      checkGradientSize(NAME, name, gradient, value);
      const g = gradient.dataSync() as Float32Array;
      const x = value.dataSync() as Float32Array;
      const { m, v } = slots;
      const out = new Float32Array(x.length);
      for (let i = 0; i < out.length; i++) {
        const gi = g[i]!;
        const mi = f32(f32(m[i]! * b1) + f32(gi * a1));
        const vi = f32(f32(v[i]! * b2) + f32(f32(gi * gi) * a2));
        m[i] = mi;
        v[i] = vi;
        const mHat = f32(mi / c1);
        const vHat = f32(vi / c2);
        out[i] = f32(f32(f32(mHat / f32(f32(Math.sqrt(vHat)) + eps)) * step) + x[i]!);
      }
      const next = tf.tensor(out, value.shape, 'float32');
      value.assign(next);
      next.dispose();
    }
    this.accBeta1 = f32(this.accBeta1 * b1);
    this.accBeta2 = f32(this.accBeta2 * b2);
    this.incrementIterations();
  }

  /** The moments of the variable at position `at` (`name`), zeros on first use. */
  private slotsAt(at: number, name: string, shape: number[]): Slots {
    const size = shape.reduce((a, b) => a * b, 1);
    const s = (this.slots[at] ??= {
      name,
      shape: shape.slice(),
      m: new Float32Array(size),
      v: new Float32Array(size),
    });
    if (s.m.length !== size) {
      throw new SegValueError(
        `${NAME}.applyGradients: variable ${at} ('${name}') has ${size} values, its moments ${s.m.length} (another network's?)`,
      );
    }
    return s;
  }

  /** Drops the moments and the tensors of the last {@link getWeights}. */
  override dispose(): void {
    this.slots = [];
    this.release();
  }

  private release(): void {
    tf.dispose(this.lent);
    this.lent = [];
  }

  /**
   * `iter`, then each variable's first moment (`name/m`), then each second
   * moment (`name/v`), as tfjs's Adam. The tensors stay the optimizer's (as
   * tfjs's Adam's variables are): valid until its next step, `getWeights`
   * or `dispose`, which release them; the caller does not dispose them.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    this.release();
    const moments = (key: 'm' | 'v') =>
      this.slots.map((s) => ({
        name: `${s.name}/${key}`,
        tensor: tf.tensor(s[key], s.shape, 'float32'),
      }));
    const weights = [await this.saveIterations(), ...moments('m'), ...moments('v')];
    this.lent = weights.map((w) => w.tensor);
    return weights;
  }

  /** Restores what {@link getWeights} (or tfjs's Adam) returned. */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    if (rest.length % 2 !== 0) {
      throw new SegValueError(
        `${NAME}.setWeights: ${rest.length} moments, expected as many 'name/m' as 'name/v'`,
      );
    }
    const half = rest.length / 2;
    const slots: Slots[] = [];
    for (let i = 0; i < half; i++) {
      const m = rest[i]!;
      const v = rest[half + i]!;
      const name = m.name.replace(/\/m$/, '');
      if (m.name !== `${name}/m` || v.name !== `${name}/v` || m.tensor.size !== v.tensor.size) {
        throw new SegValueError(
          `${NAME}.setWeights: weights ${i} and ${half + i} are '${m.name}' and '${v.name}', expected 'name/m' and 'name/v' of one size`,
        );
      }
      slots.push({
        name,
        shape: m.tensor.shape.slice(),
        m: Float32Array.from(m.tensor.dataSync()),
        v: Float32Array.from(v.tensor.dataSync()),
      });
    }
    this.slots = slots;
    // as tfjs's Adam: β^t by a power (a resumed run may differ from an uninterrupted one by rounding)
    this.accBeta1 = f32(f32(this.beta1) ** (this.iterations + 1));
    this.accBeta2 = f32(f32(this.beta2) ** (this.iterations + 1));
  }

  /** The learning rate, β₁, β₂ and ε (tfjs's Adam's keys). */
  getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
    };
  }

  /** A SegAdam from {@link getConfig}'s keys. */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config.learningRate, config.beta1, config.beta2, config.epsilon);
  }
}

tf.serialization.registerClass(SegAdam);

/**
 * {@link SegAdam}: `tf.train.adam`'s updates bit for bit, in one pass a
 * variable.
 *
 * @param epsilon @default the backend's epsilon (as `tf.train.adam`)
 * @example
 * const optimizer = segAdam(0.01);
 */
export function segAdam(
  learningRate: number,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon?: number,
): SegAdam {
  return new SegAdam(learningRate, beta1, beta2, epsilon ?? tf.backend().epsilon());
}
