// The demo's times on teddy in headless Debian Chromium: from pressing
// Segment to the first mask and to the final one (ADM, the data set's
// scribbles), then a refinement after one more object stroke, for each
// wasm thread count asked for (?threads=N). Medians of --repeat runs (default
// 3). Needs a build (npx -y pnpm@10.34.8 --filter @seg/demo build).
// Prints a table, then BENCH {json}.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { preview } from 'vite';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1,2' },
    repeat: { type: 'string', default: '3' },
    // a build elsewhere than dist/ (e.g. one made for this measurement)
    dist: { type: 'string' },
  },
});
const CHROMIUM = process.env.SEG_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  console.log(`skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  process.exit(0);
}
const root = fileURLToPath(new URL('..', import.meta.url));
const server = await preview({
  root,
  preview: { port: 0, host: '127.0.0.1' },
  ...(values.dist ? { build: { outDir: values.dist } } : {}),
});
const url = server.resolvedUrls.local[0];
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
  ],
});
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function once(threads) {
  const page = await (
    await browser.newContext({ viewport: { width: 1280, height: 900 } })
  ).newPage();
  await page.goto(`${url}?threads=${threads}`);
  await page.waitForFunction(() => document.getElementById('backend').dataset.threads, null, {
    timeout: 60_000,
  });
  await page.waitForFunction(() => document.body.dataset.image === 'teddy');
  const reported = Number(
    await page.evaluate(() => document.getElementById('backend').dataset.threads),
  );
  await page.click('#load-scribbles');
  await page.waitForFunction(() => !document.getElementById('undo').disabled);
  const finished = async (n) => {
    await page.waitForFunction(
      (k) => Number(document.getElementById('result').dataset.runs ?? '0') > k,
      n,
      { timeout: 300_000 },
    );
    return page.evaluate(() => ({ ...document.getElementById('result').dataset }));
  };
  await page.click('#run');
  const run = await finished(0);
  // one more object stroke across the bear's head: auto-refine
  const box = await page.evaluate(() => {
    const c = document.getElementById('photo');
    const r = c.getBoundingClientRect();
    return { x: r.left, y: r.top, s: r.width / c.width };
  });
  await page.mouse.move(box.x + 100 * box.s, box.y + 120 * box.s);
  await page.mouse.down();
  await page.mouse.move(box.x + 180 * box.s, box.y + 120 * box.s, { steps: 8 });
  await page.mouse.up();
  const refine = await finished(1);
  await page.context().close();
  return {
    reported,
    firstMs: Number(run.firstMs),
    finalMs: Number(run.totalMs),
    iou: Number(run.iou),
    refineFirstMs: Number(refine.firstMs),
    refineFinalMs: Number(refine.totalMs),
    refineIou: Number(refine.iou),
    refined: refine.refined === 'true',
  };
}

const rows = [];
for (const t of values.threads.split(',').map(Number)) {
  const runs = [];
  for (let i = 0; i < Number(values.repeat); i++) runs.push(await once(t));
  const m = (k) => median(runs.map((r) => r[k]));
  rows.push({
    threadsAsked: t,
    threadsReported: runs[0].reported,
    firstMs: m('firstMs'),
    finalMs: m('finalMs'),
    iou: m('iou'),
    refineFirstMs: m('refineFirstMs'),
    refineFinalMs: m('refineFinalMs'),
    refineIou: m('refineIou'),
    refined: runs.every((r) => r.refined),
  });
}
await browser.close();
server.httpServer.close();
console.log(
  'threads asked | reported | first mask | final | IoU | refinement first mask | refinement final | IoU',
);
for (const r of rows) {
  const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
  console.log(
    `${r.threadsAsked} | ${r.threadsReported} | ${s(r.firstMs)} | ${s(r.finalMs)} | ${r.iou.toFixed(3)} | ${s(r.refineFirstMs)} | ${s(r.refineFinalMs)} | ${r.refineIou.toFixed(3)}`,
  );
}
console.log(
  `BENCH ${JSON.stringify({ image: 'teddy', method: 'adm', repeat: Number(values.repeat), rows })}`,
);
