// An optax-style table (after optax's alias tests): every optimizer and transform of the
// package, from the same start, for the same number of steps, on shared objectives — a
// quadratic and Rosenbrock's function (of a 2→1 linear layer's two weights: no hidden unit,
// so the path scaling is 1 and Path-SGD is plain SGD there) and a tiny ReLU net — must take
// the objective below the row's bound. Momentum rows get lr·(1 − 0.9), the same steady step.
import { createModel, type Model } from '@seg/dense-conv';
import { describeBackends, expectNoLeaks } from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  assignUpdates,
  chain,
  type GradientTransformation,
  momentum,
  PathSgdOptimizer,
  pathSgd,
  scaleByLearningRate,
  scaleByPathNorm,
  trace,
} from '../index.js';
import { mlpSpec } from './nets.js';

type Stepper = GradientTransformation | tf.Optimizer;

const OPTIMIZERS: [string, (model: Model, lr: number) => Stepper][] = [
  ['PathSgdOptimizer (tf.Optimizer)', (m, lr) => new PathSgdOptimizer(m, lr)],
  ['pathSgd', (m, lr) => pathSgd(m, lr)],
  ['pathSgd, momentum 0.9', (m, lr) => pathSgd(m, lr / 10, { momentum: 0.9 })],
  ['pathSgd, Nesterov 0.9', (m, lr) => pathSgd(m, lr / 10, { momentum: 0.9, nesterov: true })],
  ['pathSgd, γ refreshed every 5 steps', (m, lr) => pathSgd(m, lr, { refreshEvery: 5 })],
  [
    'chain(scaleByPathNorm, scaleByLearningRate(schedule))',
    (m, lr) =>
      chain(
        scaleByPathNorm(m),
        scaleByLearningRate((t) => lr / (1 + t / 1000)),
      ),
  ],
  ['scaleByLearningRate (SGD)', (_, lr) => scaleByLearningRate(lr)],
  [
    'chain(momentum(0.9), scaleByLearningRate)',
    (_, lr) => chain(momentum(0.9), scaleByLearningRate(lr / 10)),
  ],
  [
    'chain(trace(Nesterov 0.9), scaleByLearningRate)',
    (_, lr) => chain(trace({ decay: 0.9, nesterov: true }), scaleByLearningRate(lr / 10)),
  ],
];

interface Objective {
  /** A fresh model at the start point. */
  model: () => Model;
  loss: (model: Model) => tf.Scalar;
  lr: number;
  steps: number;
  /** The loss after `steps` must be below this. */
  bound: number;
}

/** A 2→1 linear layer whose two weights are the point (x, y), set to `start`. */
function point(start: [number, number]): Model {
  const w = tf.tensor2d(start, [2, 1]);
  const model = createModel(mlpSpec([2, 1], false), { 'fc1/weight': w });
  w.dispose(); // the model's variable holds its own copy
  return model;
}
const xy = (m: Model) => tf.unstack(tf.reshape(m.params['fc1/weight']!, [2]));

/** 32 points in [−1, 1]² and their targets |x0 + x1| (a ReLU net's job), made afresh in each loss's tidy. */
function data(): [tf.Tensor, tf.Tensor] {
  const x = tf.randomUniform([32, 1, 1, 2], -1, 1, 'float32', 3);
  return [x, tf.abs(tf.sum(x, 3, true))];
}

const OBJECTIVES: [string, Objective][] = [
  [
    'quadratic (x − 1)² + 4(y + 1)²',
    {
      model: () => point([3, 1]),
      loss: (m) => {
        const [x, y] = xy(m);
        return tf.add(tf.square(tf.sub(x!, 1)), tf.mul(4, tf.square(tf.add(y!, 1)))) as tf.Scalar;
      },
      lr: 0.05,
      steps: 60,
      bound: 0.02, // from 20 (the slowest row, momentum: 0.0144)
    },
  ],
  [
    'Rosenbrock (1 − x)² + 100(y − x²)²',
    {
      model: () => point([-0.5, 1]),
      loss: (m) => {
        const [x, y] = xy(m);
        return tf.add(
          tf.square(tf.sub(1, x!)),
          tf.mul(100, tf.square(tf.sub(y!, tf.square(x!)))),
        ) as tf.Scalar;
      },
      lr: 1e-3,
      steps: 100,
      bound: 3.5, // from 58.5 (the slowest row: 3.04)
    },
  ],
  [
    'ReLU net 2→8→1, mean squared error on 32 points',
    {
      model: () => createModel(mlpSpec([2, 8, 1]), 1),
      loss: (m) => {
        const [x, y] = data();
        return tf.losses.meanSquaredError(y, m.apply(x)) as tf.Scalar;
      },
      lr: 0.05,
      steps: 100,
      bound: 0.04, // from 1.10 (the slowest row, momentum: 0.031)
    },
  ],
];

/** Runs `steps` steps of `make(model, lr)` on the objective; returns the first and last loss. */
function run(objective: Objective, make: (model: Model, lr: number) => Stepper): [number, number] {
  const model = objective.model();
  const value = () => tf.tidy(() => objective.loss(model).dataSync()[0]!);
  const first = value();
  const opt = make(model, objective.lr);
  if (opt instanceof tf.Optimizer) {
    for (let s = 0; s < objective.steps; s++)
      opt.minimize(() => objective.loss(model), false, model.variables());
    opt.dispose();
  } else {
    const names = Object.keys(model.params);
    let state = opt.init(model.params);
    for (let s = 0; s < objective.steps; s++) {
      const { value: v, grads } = tf.variableGrads(() => objective.loss(model), model.variables());
      const byName = Object.fromEntries(names.map((n) => [n, grads[model.params[n]!.name]!]));
      const [updates, next] = opt.update(byName, state, model.params);
      assignUpdates(model.params, updates);
      tf.dispose([v, grads, updates]);
      state = next;
    }
    tf.dispose(state);
  }
  const last = value();
  model.dispose();
  return [first, last];
}

describeBackends('optimizer table', () => {
  it.each(
    OBJECTIVES.flatMap(([o, objective]) =>
      OPTIMIZERS.map(([n, make]) => [o, n, objective, make] as const),
    ),
  )('%s: %s', async (_, __, objective, make) => {
    let losses: [number, number] = [Number.NaN, Number.NaN];
    await expectNoLeaks(() => {
      losses = run(objective, make);
    });
    expect(losses[1]).toBeLessThan(objective.bound);
    expect(losses[1]).toBeLessThan(losses[0]);
  });
});
