/**
 * What the page's start() task holds, in real Chromium with the script-tag build: rrweb's first full
 * snapshot, and not the session request (whose body reads the time zone: Intl's first use loads ICU
 * data, tens of ms). The request leaves at the next idle moment, after the frame that follows start().
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rrwebSelectorMemoPlugin } from '../../patches/rrweb-record-selector-memo.mjs';

const trackerDir = fileURLToPath(new URL('..', import.meta.url));

async function trackerScript(): Promise<string> {
  const out = await build({
    entryPoints: [trackerDir + 'src/snippet.ts'],
    bundle: true,
    format: 'iife',
    target: ['es2020'],
    write: false,
    logLevel: 'silent',
    define: { __TANDEM_RTC_VERSION__: '""', __TANDEM_ASSIST_VERSION__: '""', __TANDEM_GZIP_VERSION__: '""' },
    plugins: [rrwebSelectorMemoPlugin()],
  });
  return out.outputFiles[0].text;
}

describe('start(): the first snapshot in its task, the session request after it', () => {
  let browser: Browser;
  let script: string;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox'] });
    script = await trackerScript();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('takes the snapshot inside start() and sends the start request only after a frame', async () => {
    const page = await browser.newPage();
    try {
      await page.setContent('<h1>Shop</h1><p>Some text</p>');
      const seen = await page.evaluate(async (code) => {
        const w = window as any;
        const log: { url: string; inStart: boolean; afterFrame: boolean }[] = [];
        let inStart = false;
        let afterFrame = false;
        // The tracker keeps the page's fetch from its construction: wrap it before the script runs.
        const realFetch = window.fetch;
        window.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
          log.push({ url: String(input instanceof Request ? input.url : input), inStart, afterFrame });
          return realFetch(input, init);
        }) as typeof fetch;
        const s = document.createElement('script');
        s.dataset.projectKey = 'pk_test';
        // Nothing listens there: the request fails, which the tracker retries later; only its timing matters.
        s.dataset.ingestUrl = 'http://127.0.0.1:9';
        s.dataset.autostart = 'false';
        s.dataset.assist = 'false';
        s.textContent = code;
        document.head.appendChild(s);
        inStart = true;
        void w.Tandem.tracker.start();
        inStart = false;
        const mirror = w.Tandem.tracker.getMirror();
        const snapshotInStart = !!mirror && mirror.getId(document.documentElement) > 0;
        const requestsInStart = log.length;
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        afterFrame = true;
        const deadline = performance.now() + 5_000;
        while (!log.some((l) => l.url.includes('/ingest/v1/start')) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        return { snapshotInStart, requestsInStart, log };
      }, script);
      expect(seen.snapshotInStart).toBe(true);
      expect(seen.requestsInStart).toBe(0);
      const start = seen.log.find((l) => l.url.includes('/ingest/v1/start'));
      expect(start, JSON.stringify(seen.log)).toBeDefined();
      expect(start!.inStart).toBe(false);
      expect(start!.afterFrame).toBe(true);
    } finally {
      await page.close();
    }
  }, 30_000);
});
