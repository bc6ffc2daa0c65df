// The page's placeholders copy segmentImage's defaults (the main thread does not load @seg/optim-adm).
import { SEGMENT_DEFAULTS } from '@seg/optim-adm';
import { describe, expect, it } from 'vitest';
import type { Method } from '../engine.js';
import { DEFAULT_ITERATIONS_TEXT, DEFAULT_LAMBDA_TEXT } from '../method-defaults.js';

const METHODS: Method[] = ['adm', 'gd-grid', 'gd-dense', 'pce', 'graphcut'];

describe('the parameter fields’ placeholders', () => {
  it("are segmentImage's SEGMENT_DEFAULTS (λ of the methods that take one, outer iterations of the networks)", () => {
    for (const m of METHODS) {
      expect([m, DEFAULT_LAMBDA_TEXT[m]]).toEqual([
        m,
        m === 'pce' ? '—' : String(SEGMENT_DEFAULTS[m].lambda),
      ]);
      expect([m, DEFAULT_ITERATIONS_TEXT[m]]).toEqual([
        m,
        m === 'graphcut' ? '—' : String(SEGMENT_DEFAULTS[m].iterations),
      ]);
    }
  });
});
