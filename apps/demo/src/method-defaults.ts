/**
 * The parameter fields' placeholders: each method's defaults as text. The
 * page's main thread does not load @seg/optim-adm (the worker does), so
 * these copy `SEGMENT_DEFAULTS`; a test checks that they agree.
 */
import type { Method } from './engine.js';

/** λ when the field is empty ('—': the method has none to set). */
export const DEFAULT_LAMBDA_TEXT: Record<Method, string> = {
  adm: '5',
  'gd-grid': '0.5',
  'gd-dense': '0.02',
  pce: '—',
  graphcut: '50',
};

/** Outer iterations of a run when the field is empty ('—': one cut, no iterations). */
export const DEFAULT_ITERATIONS_TEXT: Record<Method, string> = {
  adm: '3',
  'gd-grid': '10',
  'gd-dense': '10',
  pce: '10',
  graphcut: '—',
};
