// GrabCut-50 experiment: ADM versus gradient descent on regularized losses
// (Marin et al., CVPR 2019) in the interactive, per-image setting.
//   npx pnpm@10.34.8 --filter @seg/optim-adm experiment [--quick] [--only adm]
//     [--data DIR] [--workers 2] [--sets 1,2] [--svg FILE]
// Last line: RESULT {json}.
import '../scripts/register.mjs';

await import('./grabcut-main.js');
