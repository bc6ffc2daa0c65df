// Worker of the ILE experiment: one training or decoding job per task.
import { initBackend } from '@seg/tensor';
import { exposeTasks } from '@seg/tensor/worker';
import { type Config, decodeLearned, diagnose, runFixed, trainLearned } from './pipeline.js';

const ready = initBackend({ backend: 'wasm' });
const log = (s: string) => console.log(s);

void exposeTasks({
  trainLearned: async (cfg: Config) => {
    await ready;
    return trainLearned(cfg, log);
  },
  runFixed: async (cfg: Config, examples: number) => {
    await ready;
    return runFixed(cfg, examples, log);
  },
  decodeLearned: async (
    cfg: Config,
    weights: Float32Array[],
    h: Float32Array,
    from: number,
    to: number,
    examples: number,
    withHamming?: { alpha: number; h: Float32Array },
  ) => {
    await ready;
    return decodeLearned(cfg, weights, h, from, to, examples, withHamming);
  },
  diagnose: async (
    cfg: Config,
    weights: Float32Array[],
    h: Float32Array,
    hFixed: Float32Array,
    pairs?: number,
  ) => {
    await ready;
    return diagnose(cfg, weights, h, hFixed, pairs);
  },
});
