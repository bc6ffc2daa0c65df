import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { anchorBinary } from '@seg/anchors';
import { sharedDir } from '@seg/tensor/testing';
import { describe, expect, it } from 'vitest';
import { GRID_DIRECTION_NAMES, GridGraph, readGridInstance } from '../index.js';

// A fixed subset of the 50 GrabCut instances (all 50 run in the benchmark).
const SUBSET = ['189080', 'teddy', 'fullmoon', 'sheep', '86016'];

const shared = sharedDir();
const work = fileURLToPath(new URL('../../.anchors', import.meta.url));
// maxflow_bk printing its flow with 17 digits (the shipped one prints 9), built once by @seg/anchors
const built = anchorBinary(shared, 'maxflow_bk17');
const bin = built.path ?? '';

const skipWhy = built.reason ?? null;
if (skipWhy) console.warn(`SKIPPED: GrabCut instances vs maxflow_bk: ${skipWhy}`);

describe.skipIf(skipWhy !== null)('GridGraph on GrabCut instances vs maxflow_bk', () => {
  it.each(SUBSET)('%s: flow agrees to 1e-9 relative and the cut cost equals the flow', (name) => {
    const dir = join(work, 'grid');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${name}.grid`);
    if (!existsSync(file)) {
      const g = join(shared!, 'data', 'grabcut');
      execFileSync('node', [
        join(shared!, 'bench', 'anchors', 'grid-instance.mjs'),
        join(g, 'images', `${name}.png`),
        join(g, 'scribbles-1', `${name}.png`),
        file,
        '--lambda',
        '50',
        '--conn',
        '8',
      ]);
    }
    const inst = readGridInstance(readFileSync(file));
    const g = new GridGraph(inst);
    g.setTerminals(inst.source, inst.sink);
    inst.edges.forEach((e, k) => {
      g.setEdges(GRID_DIRECTION_NAMES[k]!, e);
    });
    const r = g.maxflow();
    const a = JSON.parse(execFileSync(bin, [file], { encoding: 'utf8' })) as {
      flow: number;
      sourceSide: number;
    };
    expect(Math.abs(r.flow - a.flow) / a.flow).toBeLessThanOrEqual(1e-9);
    expect(Math.abs(r.cutCost - r.flow) / r.flow).toBeLessThanOrEqual(1e-9);
  });
});
