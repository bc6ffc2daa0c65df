// End to end: the built demo in headless Debian Chromium (playwright-core,
// no browser download; .ci/run installs the chromium package with apt).
// Skipped, saying so, where /usr/bin/chromium is absent ($SEG_CHROMIUM
// points elsewhere). Screenshots go to e2e/screenshots/ (not committed).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { build, type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = process.env.SEG_CHROMIUM ?? '/usr/bin/chromium';
const root = fileURLToPath(new URL('..', import.meta.url));
const shots = `${root}e2e/screenshots/`;
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`demo e2e skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

type Dataset = Record<string, string | undefined>;

describe.skipIf(!hasChromium)('demo in Chromium', () => {
  let server: PreviewServer;
  let browser: Browser;
  let url: string;
  const contexts: BrowserContext[] = [];

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
    mkdirSync(shots, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => (server ? server.httpServer.close(() => r()) : r()));
  });

  /**
   * A fresh page with the demo loaded on teddy and its backend ready;
   * `isolated: false` serves the page without the COOP/COEP headers.
   */
  async function open(
    options: { mobile?: boolean; query?: string; isolated?: boolean } = {},
  ): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext(
      options.mobile
        ? {
            viewport: { width: 390, height: 844 },
            hasTouch: true,
            isMobile: true,
            deviceScaleFactor: 2,
          }
        : { viewport: { width: 1280, height: 900 }, acceptDownloads: true },
    );
    contexts.push(context);
    if (options.isolated === false) {
      await context.route(
        (u) => u.pathname.endsWith('/') || u.pathname.endsWith('.html'),
        async (route) => {
          const response = await route.fetch();
          const headers = { ...response.headers() };
          delete headers['cross-origin-opener-policy'];
          delete headers['cross-origin-embedder-policy'];
          await route.fulfill({ response, headers });
        },
      );
    }
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}${options.query ?? ''}`);
    await page.waitForFunction(() => document.getElementById('backend')!.dataset.threads, null, {
      timeout: 60_000,
    });
    await page.waitForFunction(() => document.body.dataset.image === 'teddy');
    return { page, errors };
  }

  const dataset = (page: Page, id = 'result'): Promise<Dataset> =>
    page.evaluate((el) => ({ ...document.getElementById(el)!.dataset }), id);

  /** Waits for the next finished run (done, cancelled or error) after `runs` runs. */
  async function nextRun(page: Page, runs: number, timeout = 120_000): Promise<Dataset> {
    await page.waitForFunction(
      (n) => {
        const d = document.getElementById('result')!.dataset;
        return Number(d.runs ?? '0') > n || d.state === 'error';
      },
      runs,
      { timeout },
    );
    const d = await dataset(page);
    expect(d.state, (await page.textContent('#result')) ?? '').not.toBe('error');
    return d;
  }

  /** Screen position of image point (x, y). */
  async function at(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
    return page.evaluate(
      ([ix, iy]) => {
        const c = document.getElementById('photo') as HTMLCanvasElement;
        const r = c.getBoundingClientRect();
        return { x: r.left + (ix! * r.width) / c.width, y: r.top + (iy! * r.height) / c.height };
      },
      [x, y],
    );
  }

  async function mouseStroke(
    page: Page,
    pts: [number, number][],
    button: 'left' | 'right' = 'left',
  ) {
    const first = await at(page, ...pts[0]!);
    await page.mouse.move(first.x, first.y);
    await page.mouse.down({ button });
    for (const p of pts.slice(1)) {
      const s = await at(page, ...p);
      await page.mouse.move(s.x, s.y, { steps: 8 });
    }
    await page.mouse.up({ button });
  }

  /** Pixels of each palette colour on the strokes layer. */
  const seedCounts = (page: Page): Promise<Record<string, number>> =>
    page.evaluate(() => {
      const c = document.getElementById('strokes') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const out: Record<string, number> = {};
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] === 0) continue;
        const k = `${d[i]},${d[i + 1]},${d[i + 2]}`;
        out[k] = (out[k] ?? 0) + 1;
      }
      return out;
    });
  const OBJECT = '230,40,50';
  const BACKGROUND = '30,110,240';

  /** Decodes a PNG in the page: width, height, RGBA (sent back as base64: arrays of numbers are slow to pass). */
  async function decode(page: Page, bytes: Buffer | string) {
    const r = await page.evaluate(
      async (src) => {
        const blob = await (await fetch(src)).blob();
        const bmp = await createImageBitmap(blob, {
          premultiplyAlpha: 'none',
          colorSpaceConversion: 'none',
        });
        const c = new OffscreenCanvas(bmp.width, bmp.height);
        const g = c.getContext('2d')!;
        g.drawImage(bmp, 0, 0);
        const px = g.getImageData(0, 0, bmp.width, bmp.height).data;
        let bin = '';
        for (let i = 0; i < px.length; i += 0x8000)
          bin += String.fromCharCode(...px.subarray(i, i + 0x8000));
        return { width: bmp.width, height: bmp.height, b64: btoa(bin) };
      },
      typeof bytes === 'string' ? bytes : `data:image/png;base64,${bytes.toString('base64')}`,
    );
    return { width: r.width, height: r.height, data: Buffer.from(r.b64, 'base64') };
  }

  async function download(page: Page, button: string): Promise<Buffer> {
    const [d] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
    return readFileSync((await d.path())!);
  }

  const useScribbles = async (page: Page) => {
    await page.click('#load-scribbles');
    await page.waitForFunction(() => !document.getElementById('undo')!.hasAttribute('disabled'));
  };

  it('reports the wasm backend with SIMD, its threads, cross-origin isolation and the kernel helper Workers; draws, erases, undoes with the mouse and keys', async () => {
    const { page, errors } = await open();
    const backend = (await page.textContent('#backend')) ?? '';
    expect(backend).toMatch(/wasm backend, SIMD on, \d+ threads?, cross-origin isolated/);
    // one wasm thread per logical core (2 on the CI machine)
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const info = await dataset(page, 'backend');
    expect(info.threads).toBe(String(cores));
    // @seg's SIMD kernels on every thread: the worker's kernelHelpers() counts the helper
    // Workers that started on the backend's shared memory and answered
    const threads = Number(info.threads);
    if (threads >= 2) {
      expect(Number(info.kernelHelpers)).toBe(threads - 1);
      expect(backend).toContain(
        `; @seg kernels on ${threads} threads (${threads - 1} helper Worker${threads > 2 ? 's' : ''})`,
      );
    } else {
      console.warn(
        `demo e2e: navigator.hardwareConcurrency is ${cores}: one wasm thread, no kernel helper Worker to check`,
      );
      expect(info.kernelHelpers).toBe('0');
    }
    await mouseStroke(page, [
      [142, 150],
      [142, 260],
    ]);
    await mouseStroke(
      page,
      [
        [20, 20],
        [60, 120],
      ],
      'right',
    );
    const n = await seedCounts(page);
    expect(n[OBJECT]).toBeGreaterThan(100);
    expect(n[BACKGROUND]).toBeGreaterThan(100);
    await page.keyboard.press('Control+z');
    expect((await seedCounts(page))[BACKGROUND] ?? 0).toBe(0);
    await page.keyboard.press('Control+Shift+z');
    expect((await seedCounts(page))[BACKGROUND]).toBeGreaterThan(100);
    // the eraser (E) over the object stroke's middle
    await page.keyboard.press('e');
    await mouseStroke(page, [
      [120, 205],
      [165, 205],
    ]);
    const erased = (await seedCounts(page))[OBJECT]!;
    expect(erased).toBeLessThan(n[OBJECT]!);
    // key 2 is the background label
    await page.keyboard.press('2');
    await mouseStroke(page, [
      [250, 20],
      [270, 100],
    ]);
    expect((await seedCounts(page))[BACKGROUND]).toBeGreaterThan(n[BACKGROUND]! + 50);
    await page.click('#clear');
    expect(await seedCounts(page)).toEqual({});
    expect(errors).toEqual([]);
  });

  it('draws with touch on a phone-sized screen (390×844) and pinches to zoom', async () => {
    const { page, errors } = await open({ mobile: true });
    const cdp = await page.context().newCDPSession(page);
    const touch = (
      type: 'touchStart' | 'touchMove' | 'touchEnd',
      points: { x: number; y: number }[],
    ) =>
      cdp.send('Input.dispatchTouchEvent', {
        type,
        touchPoints: points.map((p, id) => ({ x: p.x, y: p.y, id })),
      });
    const line = async (from: [number, number], to: [number, number]) => {
      const a = await at(page, ...from);
      const b = await at(page, ...to);
      await touch('touchStart', [a]);
      for (let i = 1; i <= 10; i++)
        await touch('touchMove', [
          { x: a.x + ((b.x - a.x) * i) / 10, y: a.y + ((b.y - a.y) * i) / 10 },
        ]);
      await touch('touchEnd', []);
      // a tap right after a touch stroke is taken for part of a gesture
      await page.waitForTimeout(500);
    };
    await line([142, 150], [142, 260]);
    await page.tap('#palette button[data-label="0"]');
    await page.waitForFunction(
      () =>
        document.querySelector('#palette button[data-label="0"]')!.getAttribute('aria-checked') ===
        'true',
    );
    await line([20, 20], [60, 120]);
    const n = await seedCounts(page);
    expect(n[OBJECT]).toBeGreaterThan(50);
    expect(n[BACKGROUND]).toBeGreaterThan(50);
    // two fingers apart: zoom in, no stroke drawn
    const zoom0 = await page.textContent('#zoom-level');
    const c = await at(page, 142, 200);
    await touch('touchStart', [
      { x: c.x - 20, y: c.y },
      { x: c.x + 20, y: c.y },
    ]);
    for (let i = 1; i <= 5; i++)
      await touch('touchMove', [
        { x: c.x - 20 - 12 * i, y: c.y },
        { x: c.x + 20 + 12 * i, y: c.y },
      ]);
    await touch('touchEnd', []);
    expect(await page.textContent('#zoom-level')).not.toBe(zoom0);
    expect(await seedCounts(page)).toEqual(n);
    await page.screenshot({ path: `${shots}mobile.png` });
    expect(errors).toEqual([]);
  });

  it('opens an image by the file picker, by drop and by paste', async () => {
    const { page, errors } = await open();
    const llama = readFileSync(`${root}../../samples/grabcut/images/llama.png`);
    await page.setInputFiles('#file', {
      name: 'my-llama.png',
      mimeType: 'image/png',
      buffer: llama,
    });
    await page.waitForFunction(() => document.body.dataset.image === 'my-llama');
    expect(
      await page.evaluate(() => (document.getElementById('photo') as HTMLCanvasElement).width),
    ).toBe(513);
    expect(await page.isDisabled('#load-scribbles')).toBe(true);
    for (const how of ['drop', 'paste']) {
      await page.evaluate(async (kind) => {
        const blob = await (await fetch('grabcut/images/banana1.png')).blob();
        const dt = new DataTransfer();
        dt.items.add(new File([blob], `${kind}ped.png`, { type: 'image/png' }));
        const e =
          kind === 'drop'
            ? new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true })
            : new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true });
        (kind === 'drop' ? document.getElementById('viewport')! : document).dispatchEvent(e);
      }, how);
      await page.waitForFunction((n) => document.body.dataset.image === n, `${how}ped`);
    }
    // a large image (3000×2000) is shown scaled down, kept at full size for the segmentation
    await page.evaluate(async () => {
      const c = new OffscreenCanvas(3000, 2000);
      const g = c.getContext('2d')!;
      g.fillStyle = '#345';
      g.fillRect(0, 0, 3000, 2000);
      const dt = new DataTransfer();
      dt.items.add(new File([await c.convertToBlob()], 'large.png', { type: 'image/png' }));
      document
        .getElementById('viewport')!
        .dispatchEvent(
          new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }),
        );
    });
    await page.waitForFunction(() => document.body.dataset.image === 'large');
    expect(
      await page.evaluate(() => (document.getElementById('photo') as HTMLCanvasElement).width),
    ).toBe(3000);
    const zoom = async () => Number.parseInt((await page.textContent('#zoom-level')) ?? '', 10);
    const fitted = await zoom();
    expect(fitted).toBeLessThan(40);
    await page.click('#zoom-in');
    await page.keyboard.press('=');
    expect(await zoom()).toBeGreaterThan(1.5 * fitted);
    // the zoom buttons drew nothing on the image
    expect(await seedCounts(page)).toEqual({});
    // back to an image of normal size
    await page.evaluate(async () => {
      const blob = await (await fetch('grabcut/images/banana1.png')).blob();
      const dt = new DataTransfer();
      dt.items.add(new File([blob], 'pasted.png', { type: 'image/png' }));
      document.dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }),
      );
    });
    await page.waitForFunction(() => document.body.dataset.image === 'pasted');
    // one's own image segments too (no ground truth: no IoU)
    await mouseStroke(page, [
      [320, 200],
      [320, 300],
    ]);
    await mouseStroke(
      page,
      [
        [30, 30],
        [30, 400],
      ],
      'right',
    );
    await page.selectOption('#method', 'graphcut');
    await page.click('#run');
    const d = await nextRun(page, 0);
    expect(d.state).toBe('done');
    expect(d.iou).toBe('');
    expect(errors).toEqual([]);
  });

  it('runs ADM (IoU > 0.9, a mask after every iteration), then refines the network with a new stroke', async () => {
    const { page, errors } = await open();
    await useScribbles(page);
    await page.click('#run');
    const d = await nextRun(page, 0);
    expect(d.refined).toBe('false');
    expect(Number(d.iou)).toBeGreaterThan(0.9);
    expect(Number(d.firstMs)).toBeLessThan(Number(d.totalMs));
    // ADM's default: 3 iterations (segmentImage's SEGMENT_DEFAULTS)
    expect(
      await page.evaluate(() => (document.getElementById('bar') as HTMLProgressElement).value),
    ).toBe(3);
    expect(await page.locator('.u-legend .u-series').count()).toBeGreaterThan(2);
    await page.screenshot({ path: `${shots}adm.png` });
    // a new object stroke: auto-refine continues the network
    await mouseStroke(page, [
      [100, 120],
      [180, 120],
    ]);
    const r = await nextRun(page, 1);
    expect(r.refined).toBe('true');
    expect(Number(r.iou)).toBeGreaterThan(0.9);
    // the kernel helpers still answer after two runs of training (none stalled and stopped)
    const info = await dataset(page, 'backend');
    expect(info.kernelHelpers).toBe(String(Math.max(0, Number(info.threads) - 1)));
    console.log(
      `demo e2e: ADM first mask ${Number(d.firstMs).toFixed(0)} ms, final ${Number(d.totalMs).toFixed(0)} ms, IoU ${Number(d.iou).toFixed(3)}; refinement ${Number(r.totalMs).toFixed(0)} ms, IoU ${Number(r.iou).toFixed(3)}`,
    );
    await page.screenshot({ path: `${shots}refined.png` });
    expect(errors).toEqual([]);
  });

  it('segments three labels with ADM and exports them as an index mask', async () => {
    const { page, errors } = await open();
    await mouseStroke(page, [
      [142, 110],
      [142, 250],
    ]);
    await mouseStroke(
      page,
      [
        [20, 20],
        [60, 120],
      ],
      'right',
    );
    await mouseStroke(
      page,
      [
        [150, 390],
        [260, 390],
      ],
      'right',
    );
    await page.keyboard.press('3');
    await mouseStroke(page, [
      [175, 240],
      [195, 300],
    ]);
    await page.fill('#iterations', '3');
    await page.click('#run');
    const d = await nextRun(page, 0);
    expect(d.state).toBe('done');
    expect(d.iou).toBe('');
    const png = await decode(page, await download(page, '#export-mask'));
    const values = new Set(png.data.filter((_, i) => i % 4 === 0));
    expect([...values].sort()).toEqual([0, 1, 2]);
    await page.screenshot({ path: `${shots}multilabel.png` });
    expect(errors).toEqual([]);
  });

  it('keeps strokes drawn during a run and refines with them when it ends', async () => {
    const { page, errors } = await open();
    await useScribbles(page);
    await page.fill('#iterations', '4');
    await page.click('#run');
    await page.waitForFunction(
      () => (document.getElementById('bar') as HTMLProgressElement).value >= 1,
      null,
      {
        timeout: 60_000,
      },
    );
    await mouseStroke(page, [
      [100, 120],
      [180, 120],
    ]);
    const first = await nextRun(page, 0);
    expect(first.refined).toBe('false');
    const second = await nextRun(page, 1);
    expect(second.refined).toBe('true');
    expect(Number(second.iou)).toBeGreaterThan(0.9);
    expect(errors).toEqual([]);
  });

  it('cancels a run after its current iteration', async () => {
    const { page, errors } = await open();
    await useScribbles(page);
    await page.fill('#iterations', '60');
    await page.click('#run');
    await page.waitForFunction(
      () => (document.getElementById('bar') as HTMLProgressElement).value >= 1,
      null,
      {
        timeout: 60_000,
      },
    );
    await page.click('#cancel');
    const d = await nextRun(page, 0, 20_000);
    expect(d.state).toBe('cancelled');
    expect(await page.textContent('#result')).toMatch(/stopped/);
    expect(await page.isEnabled('#run')).toBe(true);
    expect(errors).toEqual([]);
  });

  it('exports the mask and the cut-out as PNGs that match the result', async () => {
    const { page, errors } = await open();
    await useScribbles(page);
    await page.selectOption('#method', 'graphcut');
    await page.click('#run');
    const d = await nextRun(page, 0);
    const mask = await decode(page, await download(page, '#export-mask'));
    const cut = await decode(page, await download(page, '#export-cutout'));
    expect([mask.width, mask.height, cut.width, cut.height]).toEqual([284, 398, 284, 398]);
    const gt = await decode(page, 'grabcut/masks/teddy.png');
    const truth = gt.data.filter((_, i) => i % 4 === 0);
    let inter = 0;
    let union = 0;
    let bad = 0;
    for (let p = 0; p < truth.length; p++) {
      const m = mask.data[4 * p]!;
      // 0 / 255 only, and the cut-out opaque exactly on the object
      if ((m !== 0 && m !== 255) || cut.data[4 * p + 3] !== m) bad++;
      if (truth[p] === 128) continue;
      if (m === 255 && truth[p] === 255) inter++;
      if (m === 255 || truth[p] === 255) union++;
    }
    expect(bad).toBe(0);
    expect(inter / union).toBeCloseTo(Number(d.iou), 6);
    expect(inter / union).toBeGreaterThan(0.9);
    expect(errors).toEqual([]);
  });

  it('switching the image mid-run drops the old run: no old mask, no old IoU', async () => {
    const { page, errors } = await open();
    await useScribbles(page);
    await page.click('#run');
    await page.waitForFunction(
      () => (document.getElementById('bar') as HTMLProgressElement).value >= 1,
      null,
      {
        timeout: 60_000,
      },
    );
    await page.selectOption('#sample', 'banana1');
    await page.waitForFunction(() => document.body.dataset.image === 'banana1');
    // long enough for the old run to have sent more masks and its end
    await page.waitForTimeout(4000);
    const painted = await page.evaluate(() => {
      const c = document.getElementById('overlay') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) n += d[i]! > 0 ? 1 : 0;
      return n;
    });
    expect(painted).toBe(0);
    expect(await page.textContent('#result')).toBe('');
    // the new image segments as usual
    await useScribbles(page);
    await page.selectOption('#method', 'graphcut');
    await page.click('#run');
    const d = await nextRun(page, 0);
    expect(Number(d.iou)).toBeGreaterThan(0.8);
    expect(errors).toEqual([]);
  });

  it('served without COOP/COEP: one thread, no kernel helper and why, and it still segments', async () => {
    const { page, errors } = await open({ isolated: false, query: '?threads=2' });
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    const info = await dataset(page, 'backend');
    expect([info.threads, info.kernelHelpers]).toEqual(['1', '0']);
    expect(await page.textContent('#backend')).toBe(
      'TensorFlow.js wasm backend, SIMD on, 1 thread, not cross-origin isolated (1 thread); @seg kernels on 1 thread (no helper Worker: threads need cross-origin isolation)',
    );
    // the network's kernels on the worker's thread alone
    await useScribbles(page);
    await page.fill('#iterations', '1');
    await page.click('#run');
    const d = await nextRun(page, 0);
    expect(d.state).toBe('done');
    expect(Number(d.iou)).toBeGreaterThan(0.8);
    expect(errors).toEqual([]);
  });

  it('works offline once loaded (service worker)', async () => {
    const { page, errors } = await open();
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await page.context().setOffline(true);
    await page.reload();
    await page.waitForFunction(() => document.getElementById('backend')!.dataset.threads, null, {
      timeout: 60_000,
    });
    await page.waitForFunction(() => document.body.dataset.image === 'teddy');
    await useScribbles(page);
    await page.selectOption('#method', 'graphcut');
    await page.click('#run');
    expect(Number((await nextRun(page, 0)).iou)).toBeGreaterThan(0.9);
    await page.context().setOffline(false);
    expect(errors).toEqual([]);
  });
});
