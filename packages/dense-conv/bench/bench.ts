// Entry of `pnpm --filter @seg/dense-conv bench`: installs the resolve hook
// (see resolve-tfjs.mjs), then runs the benchmark.
import { register } from 'node:module';

register('./resolve-tfjs.mjs', import.meta.url);
await import('./run.js');
