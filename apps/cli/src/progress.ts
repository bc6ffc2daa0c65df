import type { SegmentOptions } from '@seg/optim-adm';

type Progress = Parameters<NonNullable<SegmentOptions['onProgress']>>[0];

/** One line per training iteration, for the terminal. */
export function progressLine(p: Progress): string {
  const head = `${p.trainer} iteration ${p.iteration + 1}/${p.iterations}`;
  const time = `${(p.elapsedMs / 1000).toFixed(1)} s`;
  if (p.trainer === 'adm') {
    return `${head}: regularized loss ${p.regularizedLoss.toFixed(4)}, partial CE ${p.partialCE.toFixed(4)}, proposals changed ${(100 * p.proposalChange).toFixed(1)} % (${time})`;
  }
  return `${head}: regularized loss ${p.regularizedLoss.toFixed(4)}, partial CE ${p.partialCE.toFixed(4)} (${time})`;
}
