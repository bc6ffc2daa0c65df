import { type NetSpec, type Pair, paramShapes } from '@seg/dense-conv';
import { assertNumber, SegValueError } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { checkModel, checkSameShape } from '../model.js';
import { computeScaling, computeScalingFactored } from '../scaling/squared-pass.js';
import {
  checkFiniteSteps,
  checkPathNormOptions,
  divideByScale,
  MIN_EPSILON,
  type PathNormOptions,
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

const SUFFIX = '/pathScale';

/**
 * Path-SGD (Neyshabur, Salakhutdinov & Srebro, NIPS 2015) as a tfjs
 * optimizer, usable wherever `tf.train.sgd` is: every parameter of the
 * model moves by `−lr · ∂L/∂w / (γ_in(u)·γ_out(v))` ({@link pathScaling}),
 * the steepest descent step with respect to the path-ℓ2 regularizer, which
 * makes training invariant to the node-wise rescalings of a ReLU network.
 * γ is recomputed from the current parameters every step (as published), or
 * every `refreshEvery` steps. Variables that are not parameters of the model
 * get a plain SGD step.
 *
 * Serialization: `getConfig()` holds the learning rate, the options, the
 * network description and the names of its variables; `fromConfig` (and
 * `tf.serialization`) re-attaches the variables of those names if they
 * exist, otherwise call {@link PathSGD.setModel}. `getWeights()` holds the
 * iteration count and the cached γ.
 *
 * @example
 * const model = createModel({ inChannels: 784, layers: [dense({ outChannels: 1000 }), relu(), dense({ outChannels: 10 })] }, 1);
 * const opt = new PathSGD(model, 0.01);
 * opt.minimize(() => loss(model.apply(x), y), false, model.variables());
 */
export class PathSGD extends tf.Optimizer {
  /** The registered class name. */
  static get className(): string {
    return 'PathSGD';
  }

  private learningRate: number;
  private readonly rawOptions: PathNormOptions;
  private opts: ResolvedPathNormOptions | null = null;
  private model: VariableModel | null = null;
  /** tf variable name → parameter name. */
  private byVariable = new Map<string, string>();
  private cached: TensorRecord | null = null;
  private cachedAt = -1;
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
    assertNumber('PathSGD', 'learningRate', learningRate, 0);
    const { epsilon } = checkPathNormOptions('PathSGD', options);
    checkFloor('PathSGD', learningRate, epsilon);
    this.learningRate = learningRate;
    this.rawOptions = { ...options };
    if (model !== null) this.setModel(model);
  }

  /** Attaches (or replaces) the network whose parameters get the Path-SGD step. */
  setModel(model: VariableModel): void {
    const fn = 'PathSGD.setModel';
    checkModel(fn, model);
    const names = Object.keys(paramShapes(model.spec));
    for (const n of names) {
      if (!(model.params[n] instanceof tf.Variable)) {
        throw new SegValueError(`${fn}: model.params['${n}'] is not a tf.Variable`);
      }
    }
    this.opts = resolvePathNormOptions('PathSGD', model.spec, this.rawOptions);
    this.model = model;
    this.byVariable = new Map(names.map((n) => [model.params[n]!.name, n]));
    this.clearCache();
  }

  /** Sets η. */
  setLearningRate(learningRate: number): void {
    assertNumber('PathSGD.setLearningRate', 'learningRate', learningRate, 0);
    checkFloor(
      'PathSGD.setLearningRate',
      learningRate,
      this.opts?.epsilon ?? this.rawOptions.epsilon ?? 1e-12,
    );
    this.learningRate = learningRate;
  }

  /** Moves every variable with a gradient: Path-SGD for the model's parameters, SGD for the rest. */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const model = this.model;
    const opts = this.opts;
    if (model === null || opts === null) {
      throw new SegValueError(
        'PathSGD.applyGradients: no model attached, call setModel(model) first',
      );
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
        checkSameShape(
          'PathSGD.applyGradients',
          `the gradient of '${p}'`,
          g,
          model.params[p]!.shape,
        );
        byParam[p] = g;
      }
    }
    const lr = this.learningRate;
    if (opts.refreshEvery === 1 && lr > 0) {
      this.freshStep(model, opts, byParam, others, lr);
      this.incrementIterations();
      return;
    }
    const step = this.iterations;
    const refresh =
      this.cached === null || opts.refreshEvery === 1 || step - this.cachedAt >= opts.refreshEvery;
    if (refresh) {
      this.clearCache();
      this.cached = computeScaling(model.spec, model.params, opts.inputSize);
      this.cachedAt = step;
    }
    const next = tf.tidy(() => {
      const scaled = divideByScale(byParam, this.cached!, opts.epsilon);
      const out: TensorRecord = {};
      for (const [p, u] of Object.entries(scaled)) {
        out[p] = tf.sub(model.params[p]!, tf.mul(u, lr));
      }
      return out;
    });
    if (opts.refreshEvery === 1) this.clearCache();
    this.commit(model, byParam, next, others, lr, opts.epsilon);
    this.incrementIterations();
  }

  /**
   * The published rule, γ fresh every step, computed as γ/lr in the backward
   * pass: lr·g / max(γ, ε) = g / max(γ/lr, ε/lr). A single-position dense
   * layer's γ is an outer product a·bᵀ; its step is g·diag(1/a)·diag(1/b),
   * never building the k×n γ, when the floor cannot bite (every a_i·b_j ≥
   * ε/lr: min a, min b ≥ √(ε/lr)).
   */
  private freshStep(
    model: VariableModel,
    opts: ResolvedPathNormOptions,
    byParam: TensorRecord,
    others: [string, tf.Tensor][],
    lr: number,
  ): void {
    const { gammas, factors } = computeScalingFactored(
      model.spec,
      model.params,
      opts.inputSize,
      1 / lr,
    );
    try {
      const floor = opts.epsilon / lr;
      const factoredOk = new Set<string>();
      const names = Object.keys(factors);
      if (names.length > 0) {
        const mins = tf.tidy(() =>
          tf.stack(names.flatMap((n) => [tf.min(factors[n]!.a), tf.min(factors[n]!.b)])),
        );
        const m = mins.dataSync();
        mins.dispose();
        const root = Math.sqrt(floor);
        names.forEach((n, i) => {
          if (m[2 * i]! >= root && m[2 * i + 1]! >= root) factoredOk.add(n);
        });
      }
      const next = tf.tidy(() => {
        const out: TensorRecord = {};
        for (const [p, g] of Object.entries(byParam)) {
          const f = factors[p];
          const step = factoredOk.has(p)
            ? tf.mul(tf.mul(g, tf.reciprocal(f!.a)), tf.reciprocal(f!.b))
            : tf.div(g, tf.maximum(f ? tf.matMul(f.a, f.b) : gammas[p]!, floor));
          out[p] = tf.sub(model.params[p]!, step);
        }
        return out;
      });
      this.commit(model, byParam, next, others, lr, opts.epsilon);
    } finally {
      tf.dispose(gammas);
      for (const f of Object.values(factors)) tf.dispose([f.a, f.b]);
    }
  }

  /**
   * Checks the new values of the model's parameters (`next`, disposed here)
   * and the plain SGD steps of the variables outside the network, then
   * assigns them all, or none: a NaN or infinite gradient, or a step that
   * overflows, throws and leaves every variable unchanged.
   */
  private commit(
    model: VariableModel,
    grads: TensorRecord,
    next: TensorRecord,
    others: [string, tf.Tensor][],
    lr: number,
    epsilon: number,
  ): void {
    const fn = 'PathSGD.applyGradients';
    const nextOthers: TensorRecord = {};
    try {
      const vars: Record<string, tf.Variable> = {};
      const otherGrads: TensorRecord = {};
      for (const [varName, g] of others) {
        const v = tf.engine().registeredVariables[varName];
        if (v === undefined) {
          throw new SegValueError(`${fn}: no variable named '${varName}' for the gradient`);
        }
        vars[varName] = v;
        otherGrads[varName] = g;
        nextOthers[varName] = tf.tidy(() => tf.sub(v, tf.mul(g, lr)));
      }
      checkFiniteSteps(fn, grads, next, 'new value', epsilon, model.params);
      checkFiniteSteps(fn, otherGrads, nextOthers, 'new value', epsilon, vars);
      for (const [name, t] of Object.entries(next)) model.params[name]!.assign(t);
      for (const [name, t] of Object.entries(nextOthers)) vars[name]!.assign(t);
    } finally {
      tf.dispose([next, nextOthers]);
    }
  }

  private clearCache(): void {
    if (this.cached !== null) tf.dispose(this.cached);
    this.cached = null;
    this.cachedAt = -1;
  }

  /** Disposes the cached γ. */
  override dispose(): void {
    this.clearCache();
  }

  /** `[iterations, ...cached γ as '<param>/pathScale']`. */
  override async getWeights(): Promise<NamedTensor[]> {
    const out = [await this.saveIterations()];
    if (this.cached !== null) {
      for (const [name, t] of Object.entries(this.cached)) {
        out.push({ name: `${name}${SUFFIX}`, tensor: t.clone() });
      }
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
          `PathSGD.setWeights: weight '${name}' is not the path scale of a parameter of the model`,
        );
      }
      cache[p] = tf.keep(tensor.clone());
    }
    this.cached = cache;
    const k = this.opts?.refreshEvery ?? this.rawOptions.refreshEvery ?? 1;
    this.cachedAt = this.iterations - (this.iterations % k);
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
   * Rebuilds a PathSGD from {@link getConfig}; attaches the model if
   * variables of the recorded names are registered, else leaves it for
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
    const opt = new (cls as unknown as typeof PathSGD)(
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

tf.serialization.registerClass(PathSGD);

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
