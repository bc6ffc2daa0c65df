// @seg/path-sgd: Path-SGD (Neyshabur, Salakhutdinov & Srebro, NIPS 2015) for
// @seg/dense-conv networks, as a tfjs optimizer and as optax-style transforms.

export type { PathModel } from './model.js';
export { LAYER_KINDS_SUPPORTED } from './model.js';
export type { NamedTensor, VariableModel } from './optimizer/path-sgd-optimizer.js';
export { PathSGD, PathSgdOptimizer } from './optimizer/path-sgd-optimizer.js';
export type { PathScalingOptions } from './scaling/squared-pass.js';
export { pathNorm, pathScaling } from './scaling/squared-pass.js';
export type { CountState, TraceOptions, TraceState } from './transforms/basic.js';
export {
  applyUpdates,
  assignUpdates,
  chain,
  momentum,
  scaleByLearningRate,
  trace,
} from './transforms/basic.js';
export type { PathSgdOptions } from './transforms/path-sgd-transform.js';
export { pathSgd } from './transforms/path-sgd-transform.js';
export type { PathNormOptions, PathNormState } from './transforms/scale-by-path-norm.js';
export { MIN_EPSILON, scaleByPathNorm } from './transforms/scale-by-path-norm.js';
export type { GradientTransformation, Schedule, TensorRecord } from './transforms/types.js';
