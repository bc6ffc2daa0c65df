// Worker of the margin experiment: one training run per task, on its own wasm backend.
import { initBackend } from '@seg/tensor';
import { exposeTasks } from '@seg/tensor/worker';
import { type RunConfig, trainRun } from './train.js';

const ready = initBackend({ backend: 'wasm' });

void exposeTasks({
  run: async (cfg: RunConfig) => {
    await ready;
    return trainRun(cfg);
  },
});
