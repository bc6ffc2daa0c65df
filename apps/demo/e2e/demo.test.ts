// End to end: the built demo in headless Debian Chromium (playwright-core,
// no browser download). Skipped, saying so, where /usr/bin/chromium is absent.
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { build, type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = process.env.SEG_CHROMIUM ?? '/usr/bin/chromium';
const root = fileURLToPath(new URL('..', import.meta.url));
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`demo e2e skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

describe.skipIf(!hasChromium)('demo in Chromium', () => {
  let server: PreviewServer;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    await build({ root, logLevel: 'warn', configFile: `${root}vite.config.ts` });
    server = await preview({
      root,
      configFile: `${root}vite.config.ts`,
      preview: { port: 0, host: '127.0.0.1' },
    });
    url = server.resolvedUrls!.local[0]!;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => server?.httpServer.close(() => r()));
  });

  it('starts wasm with SIMD in a worker and segments a sample from its scribbles', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(
      () => /wasm backend, SIMD on/.test(document.getElementById('backend')!.textContent ?? ''),
      null,
      {
        timeout: 60_000,
      },
    );
    for (const method of ['graphcut', 'adm']) {
      await page.selectOption('#method', method);
      await page.click('#load-scribbles');
      await page.waitForTimeout(300);
      await page.click('#run');
      await page.waitForFunction(
        () => /object IoU|error/.test(document.getElementById('result')!.textContent ?? ''),
        null,
        {
          timeout: 150_000,
        },
      );
      const result = (await page.textContent('#result')) ?? '';
      expect(result, `${method}: ${result}`).toMatch(/object IoU (0\.\d+)/);
      const iou = Number(/object IoU (0\.\d+)/.exec(result)![1]);
      // teddy (the first sample), scribbles-1: graph cut 0.96 and ADM 0.96 in Node
      expect(iou, method).toBeGreaterThan(0.85);
      mkdirSync(`${root}out`, { recursive: true });
      await page.screenshot({ path: `${root}out/demo-${method}.png` });
    }
    expect(errors).toEqual([]);
  });
});
