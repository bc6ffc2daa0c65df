/**
 * Plain SGD, `x ← x − lr·g`, with `tf.train.sgd`'s updates bit for bit, in
 * one kernel a variable on wasm (`SegAxpy`: the product rounded to float32,
 * then the sum, as tfjs's `add(mul(−lr, g), x)`) where tfjs runs two, each
 * writing a tensor the size of the variable. On other backends it runs
 * tfjs's two ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertNumber, SegValueError } from '../errors.js';
import { segAxpy } from '../gradients/wasm/matmul.js';
import { checkGradientSize, type NamedTensor, variableGradients } from './gradients.js';

const NAME = 'SegSgd';

/**
 * `tf.train.sgd`: each variable with a gradient becomes `add(mul(−lr, g), x)`
 * in float32 (tested bit for bit on wasm and cpu). Its weights
 * (`getWeights` / `setWeights`) are tfjs's SGD's: the iteration count only.
 *
 * @example
 * const optimizer = segSgd(0.01);
 * optimizer.minimize(() => loss(model(x), y), false, model.variables());
 */
export class SegSgd extends tf.Optimizer {
  /** The registered class name. */
  static get className(): string {
    return NAME;
  }

  constructor(private readonly learningRate: number) {
    super();
    assertNumber(NAME, 'learningRate', learningRate);
  }

  /** One step on each variable that has a gradient (tfjs's `applyGradients`). */
  applyGradients(gradients: tf.NamedTensorMap | NamedTensor[]): void {
    const c = Math.fround(-this.learningRate);
    for (const { name, gradient, value } of variableGradients(NAME, gradients)) {
      if (gradient == null) continue;
      checkGradientSize(NAME, name, gradient, value);
      const next = tf.tidy(
        () =>
          segAxpy(c, tf.reshape(gradient, value.shape), value) ??
          tf.add(tf.mul(tf.scalar(c), gradient), value),
      );
      value.assign(next as tf.Tensor);
      next.dispose();
    }
    this.incrementIterations();
  }

  /** `iter`, as tfjs's SGD (it has no other weights). */
  override async getWeights(): Promise<NamedTensor[]> {
    return [await this.saveIterations()];
  }

  /** Restores what {@link getWeights} (or tfjs's SGD) returned. */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    if (rest.length !== 0) {
      throw new SegValueError(
        `${NAME}.setWeights: ${rest.length} weights besides 'iter', expected none (SGD keeps no state)`,
      );
    }
  }

  /** The learning rate (tfjs's SGD's key). */
  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate };
  }

  /** A SegSgd from {@link getConfig}'s keys. */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config.learningRate);
  }
}

tf.serialization.registerClass(SegSgd);

/**
 * {@link SegSgd}: `tf.train.sgd`'s updates bit for bit, one kernel a variable
 * on wasm.
 *
 * @example
 * const optimizer = segSgd(0.01);
 */
export function segSgd(learningRate: number): SegSgd {
  return new SegSgd(learningRate);
}
