import { type NetSpec, type Pair, paramShapes } from '@seg/dense-conv';
import { assertNumber, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { checkModel, checkSameShape } from '../model.js';
import {
  type PathSgdState,
  type PathSgdStep,
  pathSgdStep,
} from '../transforms/path-sgd-transform.js';
import {
  checkFiniteSteps,
  checkPathNormOptions,
  MIN_EPSILON,
  type PathNormOptions,
  type PathNormStep,
  type ResolvedPathNormOptions,
  resolvePathNormOptions,
} from '../transforms/scale-by-path-norm.js';
import type { TensorRecord } from '../transforms/types.js';

/** A network whose parameters are trainable variables (a `@seg/dense-conv` `Model` is one). */
export interface VariableModel {
  readonly spec: NetSpec;
  readonly params: Record<string, tf.Variable>;
}

/** A tensor with a name, as tfjs optimizers exchange weights. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

const NAME = 'PathSgdOptimizer';
const SUFFIX = '/pathScale';

/**
 * Path-SGD (Neyshabur, Salakhutdinov & Srebro, NIPS 2015) as a tfjs
 * optimizer, usable wherever `tf.train.sgd` is: every parameter of the
 * model moves by `−lr · ∂L/∂w / (γ_in(u)·γ_out(v))` ({@link pathScaling}),
 * the steepest descent step with respect to the path-ℓ2 regularizer, which
 * makes training invariant to the node-wise rescalings of a ReLU network.
 * Variables that are not parameters of the model get a plain SGD step.
 *
 * A thin adapter: the step is the {@link pathSgd} transform's (no momentum),
 * so both give the same parameters step for step. Its state is the
 * optimizer's `iterations` (the transform's step count) and the cached γ; γ
 * is recomputed every step (as published) or on the steps whose count is a
 * multiple of `refreshEvery` ({@link PathNormOptions}).
 *
 * Serialization: registered as `'PathSGD'` (as tfjs's `SGDOptimizer` is
 * `'SGD'`). `getConfig()` holds the learning rate, the options, the network
 * description and the names of its variables; `fromConfig` (and
 * `tf.serialization`) re-attaches the variables of those names if they
 * exist, otherwise call {@link PathSgdOptimizer.setModel}. `getWeights()`
 * holds the iteration count and the cached γ.
 *
 * @example
 * const model = createModel({ inChannels: 784, layers: [linear({ outChannels: 1000 }), relu(), linear({ outChannels: 10 })] }, 1);
 * const opt = new PathSgdOptimizer(model, 0.01);
 * opt.minimize(() => loss(model.apply(x), y), false, model.variables());
 */
export class PathSgdOptimizer extends tf.Optimizer {
  /** The registered class name (kept from the class's first name, `PathSGD`). */
  static get className(): string {
    return 'PathSGD';
  }

  private learningRate: number;
  private readonly rawOptions: PathNormOptions;
  private opts: ResolvedPathNormOptions | null = null;
  private model: VariableModel | null = null;
  /** The Path-SGD transform of the attached model, its learning rate read from this optimizer. */
  private rule: PathSgdStep | null = null;
  /** tf variable name → parameter name. */
  private byVariable = new Map<string, string>();
  /** The transform's γ cache (its state's `scale`; empty when γ is fresh every step). */
  private cached: TensorRecord = {};
  private pendingSpec: NetSpec | null = null;
  private pendingNames: Record<string, string> | null = null;

  /**
   * @param model the network: `spec` and `params` as `tf.Variable`s by name
   *   (or `null`, then call {@link setModel} before the first step).
   * @param learningRate step size η > 0.
   * @param options `refreshEvery` (default 1), `epsilon` (default 1e-12), `inputSize`.
   */
  constructor(model: VariableModel | null, learningRate: number, options: PathNormOptions = {}) {
    super();
    assertNumber(NAME, 'learningRate', learningRate, 0);
    const { epsilon } = checkPathNormOptions(NAME, options);
    checkFloor(NAME, learningRate, epsilon);
    this.learningRate = learningRate;
    this.rawOptions = { ...options };
    if (model !== null) this.setModel(model);
  }

  /** Attaches (or replaces) the network whose parameters get the Path-SGD step; drops the cached γ. */
  setModel(model: VariableModel): void {
    const fn = `${NAME}.setModel`;
    checkModel(fn, model);
    const names = Object.keys(paramShapes(model.spec));
    for (const n of names) {
      if (!(model.params[n] instanceof tf.Variable)) {
        throw new SegValueError(`${fn}: model.params['${n}'] is not a tf.Variable`);
      }
    }
    this.opts = resolvePathNormOptions(NAME, model.spec, this.rawOptions);
    this.rule = pathSgdStep(NAME, model, () => this.learningRate, this.rawOptions);
    this.model = model;
    this.byVariable = new Map(names.map((n) => [model.params[n]!.name, n]));
    this.clearCache();
  }

  /** Sets η. */
  setLearningRate(learningRate: number): void {
    assertNumber(`${NAME}.setLearningRate`, 'learningRate', learningRate, 0);
    checkFloor(
      `${NAME}.setLearningRate`,
      learningRate,
      this.opts?.epsilon ?? this.rawOptions.epsilon ?? 1e-12,
    );
    this.learningRate = learningRate;
  }

  /**
   * Moves every variable with a gradient: Path-SGD for the model's
   * parameters (one update of the transform), SGD for the rest. Every new
   * value is computed and checked first, then all are assigned, or none: a
   * NaN or infinite gradient, a parameter already NaN, or a step that
   * overflows float32 throws a SegValueError and changes nothing.
   */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const fn = `${NAME}.applyGradients`;
    const { model, rule, opts } = this;
    if (model === null || rule === null || opts === null) {
      throw new SegValueError(`${fn}: no model attached, call setModel(model) first`);
    }
    const entries: [string, tf.Tensor][] = Array.isArray(variableGradients)
      ? variableGradients.map((v) => [v.name, v.tensor])
      : Object.entries(variableGradients);
    const byParam: TensorRecord = {};
    const others: [string, tf.Tensor][] = [];
    for (const [varName, g] of entries) {
      if (g == null) continue;
      const p = this.byVariable.get(varName);
      if (p === undefined) others.push([varName, g]);
      else {
        checkSameShape(fn, `the gradient of '${p}'`, g, model.params[p]!.shape);
        byParam[p] = g;
      }
    }
    // New values of the parameters and of the other variables, made and
    // checked by `verify` before the transform takes over its state.
    let next: TensorRecord = {};
    const nextOthers: TensorRecord = {};
    const vars: Record<string, tf.Variable> = {};
    const verify: PathNormStep['verify'] = (grads, updates) => {
      try {
        next = tf.tidy(() => {
          const out: TensorRecord = {};
          for (const [p, u] of Object.entries(updates)) out[p] = tf.add(model.params[p]!, u);
          return out;
        });
        const otherGrads: TensorRecord = {};
        for (const [varName, g] of others) {
          const v = tf.engine().registeredVariables[varName];
          if (v === undefined) {
            throw new SegValueError(`${fn}: no variable named '${varName}' for the gradient`);
          }
          vars[varName] = v;
          otherGrads[varName] = g;
          nextOthers[varName] = tf.tidy(() => tf.sub(v, tf.mul(g, this.learningRate)));
        }
        checkFiniteSteps(fn, grads, next, 'new value', opts.epsilon, model.params);
        checkFiniteSteps(fn, otherGrads, nextOthers, 'new value', opts.epsilon, vars);
      } catch (e) {
        tf.dispose([next, nextOthers]);
        throw e;
      }
    };
    const [updates, state] = rule.update(byParam, this.state(), model.params, verify);
    tf.dispose(updates);
    this.cached = state[0].scale;
    for (const [name, t] of Object.entries(next)) model.params[name]!.assign(t);
    for (const [name, t] of Object.entries(nextOthers)) vars[name]!.assign(t);
    tf.dispose([next, nextOthers]);
    this.incrementIterations();
  }

  /** The transform's state: the step count is this optimizer's `iterations`. */
  private state(): PathSgdState {
    const count = this.iterations;
    return [{ count, scale: this.cached }, { count }];
  }

  private clearCache(): void {
    tf.dispose(this.cached);
    this.cached = {};
  }

  /** Disposes the cached γ. */
  override dispose(): void {
    this.clearCache();
  }

  /** `[iterations, ...cached γ as '<param>/pathScale']`. */
  override async getWeights(): Promise<NamedTensor[]> {
    const out = [await this.saveIterations()];
    for (const [name, t] of Object.entries(this.cached)) {
      out.push({ name: `${name}${SUFFIX}`, tensor: t.clone() });
    }
    return out;
  }

  /** Restores what {@link getWeights} returned (the cached γ is copied). */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    this.clearCache();
    if (rest.length === 0) return;
    const shapes = this.model === null ? null : paramShapes(this.model.spec);
    const cache: TensorRecord = {};
    for (const { name, tensor } of rest) {
      const p = name.endsWith(SUFFIX) ? name.slice(0, -SUFFIX.length) : null;
      if (p === null || (shapes !== null && shapes[p] === undefined)) {
        tf.dispose(cache);
        throw new SegValueError(
          `${NAME}.setWeights: weight '${name}' is not the path scale of a parameter of the model`,
        );
      }
      cache[p] = tf.keep(tensor.clone());
    }
    this.cached = cache;
  }

  /** The learning rate, the options, the network description and its variables' names. */
  getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      learningRate: this.learningRate,
      refreshEvery: this.opts?.refreshEvery ?? this.rawOptions.refreshEvery ?? 1,
      epsilon: this.opts?.epsilon ?? this.rawOptions.epsilon ?? 1e-12,
    };
    const inputSize = this.opts?.inputSize ?? this.rawOptions.inputSize;
    if (inputSize !== undefined) config.inputSize = [inputSize[0], inputSize[1]];
    const spec = this.model?.spec ?? this.pendingSpec;
    if (spec !== null) {
      config.spec = JSON.parse(JSON.stringify(spec)) as tf.serialization.ConfigDict;
      const names: Record<string, string> = {};
      if (this.model !== null) {
        for (const n of Object.keys(paramShapes(spec))) names[n] = this.model.params[n]!.name;
      } else if (this.pendingNames !== null) Object.assign(names, this.pendingNames);
      config.variables = names;
    }
    return config;
  }

  /**
   * Rebuilds a PathSgdOptimizer from {@link getConfig}; attaches the model
   * if variables of the recorded names are registered, else leaves it for
   * {@link setModel}.
   */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const options: PathNormOptions = {
      refreshEvery: config.refreshEvery as number,
      epsilon: config.epsilon as number,
    };
    if (Array.isArray(config.inputSize)) options.inputSize = config.inputSize as unknown as Pair;
    const opt = new (cls as unknown as typeof PathSgdOptimizer)(
      null,
      config.learningRate as number,
      options,
    );
    const spec = (config.spec ?? null) as unknown as NetSpec | null;
    const names = (config.variables ?? null) as Record<string, string> | null;
    if (spec !== null && names !== null) {
      const registered = tf.engine().registeredVariables;
      const params: Record<string, tf.Variable> = {};
      let all = true;
      for (const [p, v] of Object.entries(names)) {
        const variable = registered[v];
        if (variable === undefined) all = false;
        else params[p] = variable;
      }
      if (all) opt.setModel({ spec, params });
      else {
        opt.pendingSpec = spec;
        opt.pendingNames = names;
      }
    }
    return opt as unknown as T;
  }
}

tf.serialization.registerClass(PathSgdOptimizer);

/**
 * @deprecated use {@link PathSgdOptimizer} (the same class, renamed so that it
 * is not told apart from the `pathSgd` transform by case alone); this alias
 * goes in the next release.
 */
export const PathSGD = PathSgdOptimizer;
/** @deprecated use {@link PathSgdOptimizer}; this alias goes in the next release. */
export type PathSGD = PathSgdOptimizer;

/**
 * The fresh step divides by γ/lr floored at epsilon/lr: that floor must stay
 * a normal float32 (≥ {@link MIN_EPSILON}), or a parameter with γ = 0 gets
 * 0/0 = NaN. So `learningRate ≤ epsilon / 2^-126` (8.5e25 for the default ε).
 */
function checkFloor(fn: string, learningRate: number, epsilon: number): void {
  if (learningRate > 0 && epsilon / learningRate < MIN_EPSILON) {
    throw new SegValueError(
      `${fn}: learningRate is ${learningRate}, expected at most epsilon / 2^-126 = ${epsilon / MIN_EPSILON} (γ/learningRate is floored at epsilon/learningRate, which must stay a normal float32)`,
    );
  }
}
