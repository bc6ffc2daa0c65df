import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedDir } from '@seg/tensor/testing';
import { describe, expect, it } from 'vitest';
import { GRID_DIRECTIONS, GridGraph, readGridInstance } from '../index.js';

// A fixed subset of the 50 GrabCut instances (all 50 run in the benchmark).
const SUBSET = ['189080', 'teddy', 'fullmoon', 'sheep', '86016'];

const shared = sharedDir();
const work = fileURLToPath(new URL('../../.anchors', import.meta.url));
const bin = join(work, 'bin', 'maxflow_bk17');

/** Builds the anchor (flow printed with 17 digits) when g++ and libmaxflow-dev are here; the reason when not. */
function anchor(): string | null {
  if (!shared) return 'no shared/ folder on this machine';
  if (existsSync(bin)) return null;
  try {
    mkdirSync(join(work, 'bin'), { recursive: true });
    const src = readFileSync(join(shared, 'bench', 'anchors', 'maxflow_bk.cpp'), 'utf8').replace(
      '\\"flow\\":%.9g',
      '\\"flow\\":%.17g',
    );
    writeFileSync(join(work, 'maxflow_bk17.cpp'), src);
    const flags = (a: string) =>
      execFileSync('pkg-config', [a, 'maxflow'], { encoding: 'utf8' })
        .trim()
        .split(/\s+/)
        .filter(Boolean);
    execFileSync('g++', [
      '-O2',
      '-std=c++17',
      ...flags('--cflags'),
      join(work, 'maxflow_bk17.cpp'),
      '-o',
      bin,
      ...flags('--libs'),
    ]);
    return null;
  } catch (e) {
    return `maxflow_bk could not be built (needs g++ and libmaxflow-dev): ${(e as Error).message.split('\n')[0]}`;
  }
}

const skipWhy = anchor();
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
      g.setEdges(GRID_DIRECTIONS[k]!, e);
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
