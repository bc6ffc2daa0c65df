// @seg/dense-conv: a small functional CNN API on tfjs-core, and exact
// patch-to-dense conversion (eConv / ePool, Wu, Xie & Luo, arXiv 1605.07251).

export type { Backbone, BackboneOptions } from './backbone.js';
export { addCoordChannels, backboneSpec, segmentationBackbone } from './backbone.js';
export { toDense, toDenseSpec, toPatch, toPatchSpec } from './dense/convert.js';
export type { BorderMode, DenseForwardOptions } from './dense/dense-forward.js';
export { denseForward, densePads } from './dense/dense-forward.js';
export type { DeserializeOptions, ModelBudget, ModelJson, WeightEntry } from './io/serialize.js';
export {
  DEFAULT_MODEL_BUDGET,
  deserializeModel,
  MODEL_FORMAT,
  serializeModel,
} from './io/serialize.js';
export type { ApplyOptions, Params } from './model/apply.js';
export { applyNet } from './model/apply.js';
export type { Model } from './model/model.js';
export { createModel, initParams, modelFromVariables } from './model/model.js';
export { pool2d } from './ops/pool.js';
export type { ReceptiveField } from './spec/analyse.js';
export {
  convPadding,
  explicitPads,
  layerSizes,
  mapSpec,
  outputShape,
  paramShapes,
  receptiveField,
} from './spec/analyse.js';
export type {
  ConcatInput,
  Conv2dInput,
  DenseInput,
  LayerInput,
  LinearInput,
  NetInput,
  PaddingLike,
  PairLike,
  PoolInput,
  ReluInput,
} from './spec/define.js';
export {
  avgPool,
  concat,
  conv2d,
  defineNet,
  dense,
  linear,
  maxPool,
  relu,
  sumPool,
} from './spec/define.js';
export type {
  ConcatLayer,
  Conv2dLayer,
  DenseLayer,
  Layer,
  LayerBase,
  LinearLayer,
  NetSpec,
  Padding,
  Pair,
  PoolLayer,
  PoolOp,
  ReluLayer,
} from './spec/types.js';
export { LAYER_KINDS } from './spec/types.js';
