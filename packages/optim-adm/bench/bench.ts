// Benchmark of @seg/optim-adm: one ADM iteration on a GrabCut image (Y-step
// on 1 and 2 workers, θ-step), and the Y-step's min cut against the native
// Boykov–Kolmogorov anchor (libmaxflow) on the same full-size instance.
//   npx pnpm@10.34.8 --filter @seg/optim-adm bench [--quick]
// Last line: BENCH {json}.
import '../scripts/register.mjs';

await import('./bench-main.js');
