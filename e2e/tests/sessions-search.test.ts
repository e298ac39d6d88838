import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { PROTOCOL_VERSION } from '@tandem/protocol';
import { ADMIN, PROJECT_KEY } from './support/backend-process.js';
import { waitFor } from './support/browser.js';
import { useBackendAndBrowser } from './support/fixture.js';

/**
 * The sessions list search in real Chromium against the real backend: three sessions recorded through
 * the real ingest API (different browsers, console lines, custom events, pages, errors), then the
 * filter bar narrows the list, the URL carries the search (a reload shows the same), and the per-day
 * chart draws the filtered counts.
 */
const ARTIFACTS = path.resolve(new URL('../artifacts/', import.meta.url).pathname);
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

const e2e = useBackendAndBrowser();
const ids: Record<'firefox' | 'iphone' | 'chrome', string> = { firefox: '', iphone: '', chrome: '' };

async function post(url: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** One recorded session: start with its user agent, then a batch of real-shaped rrweb events. */
async function record(userAgent: string, userId: string, extra: (t: number) => object[]): Promise<string> {
  const base = e2e.backend.url;
  const start = await post(`${base}/ingest/v1/start`, { v: PROTOCOL_VERSION, projectKey: PROJECT_KEY, url: 'https://shop.test/', clientTime: Date.now(), userAgent, userId });
  const t = Date.now();
  const events = [
    { type: 4, timestamp: t, data: { href: 'https://shop.test/', width: 1280, height: 720 } },
    { type: 2, timestamp: t + 1, data: { node: { type: 0, childNodes: [], id: 1 }, initialOffset: { top: 0, left: 0 } } },
    ...extra(t),
  ].map((e, seq) => ({ ...e, seq }));
  const res = await fetch(`${base}/ingest/v1/batch?token=${encodeURIComponent(start.token)}`, {
    method: 'POST', headers: { 'content-type': 'text/plain' },
    body: JSON.stringify({ v: PROTOCOL_VERSION, sessionId: start.sessionId, tabId: start.tabId, events }),
  });
  if (!res.ok) throw new Error(`batch: ${res.status} ${await res.text()}`);
  return start.sessionId as string;
}

const consoleLine = (timestamp: number, level: string, text: string) =>
  ({ type: 6, timestamp, data: { plugin: 'rrweb/console@1', payload: { level, payload: [JSON.stringify(text)], trace: [] } } });
const custom = (timestamp: number, tag: string, payload: unknown) => ({ type: 5, timestamp, data: { tag, payload } });

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  ids.firefox = await record(FIREFOX, 'ada', (t) => [
    consoleLine(t + 10, 'error', 'Payment declined by issuer'),
    custom(t + 20, 'tandem/error@1', { kind: 'error', name: 'Error', message: 'card refused', stack: '', source: '', line: 1, column: 1 }),
    custom(t + 30, 'tandem/page@1', { url: 'https://shop.test/checkout/payment', title: 'Payment', via: 'pushState' }),
  ]);
  ids.iphone = await record(IPHONE, 'grace', (t) => [
    custom(t + 10, 'tandem/custom@1', { name: 'coupon_applied', payload: { code: 'WINTER' } }),
    custom(t + 20, 'tandem/page@1', { url: 'https://shop.test/cart', title: 'Your cart', via: 'pushState' }),
  ]);
  ids.chrome = await record(CHROME, 'linus', (t) => [consoleLine(t + 10, 'log', 'hello from the home page')]);
});

async function signIn(page: Page): Promise<void> {
  await page.goto(`${e2e.backend.url}/#/login`);
  await page.getByTestId('login-email').fill(ADMIN.email);
  await page.getByTestId('login-password').fill(ADMIN.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('session-row').first().waitFor({ timeout: 30_000 });
}

const rows = (page: Page) => page.getByTestId('session-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-session-id')));

/** The list once it settled on exactly `expected` (order as shown). */
async function expectRows(page: Page, expected: string[]): Promise<void> {
  await waitFor(`rows ${expected.join(',')}`, async () => JSON.stringify(await rows(page)) === JSON.stringify(expected), 15_000);
}

/** The chart's drawn totals, once it shows `sessions` sessions; also checks uPlot painted something. */
async function expectChart(page: Page, sessions: number, errors: number): Promise<void> {
  const chart = page.getByTestId('sessions-chart');
  await waitFor(`chart with ${sessions} sessions`, async () =>
    (await chart.getAttribute('data-state')) === 'ready' && (await chart.getAttribute('data-total-sessions')) === String(sessions));
  expect(await chart.getAttribute('data-total-errors')).toBe(String(errors));
  // uPlot draws on a canvas: count painted pixels of the plot area (bars and the errors line).
  const painted = await chart.locator('canvas').evaluate((c: HTMLCanvasElement) => {
    const ctx = c.getContext('2d')!;
    const { data } = ctx.getImageData(0, 0, c.width, c.height);
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    return n;
  });
  expect(painted).toBeGreaterThan(200);
}

describe('sessions list search and chart', () => {
  it('filters by console text, custom event, browser, device and errors; the URL carries the search', async () => {
    const context = await e2e.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signIn(page);
    await expectRows(page, [ids.chrome, ids.iphone, ids.firefox]);
    await expectChart(page, 3, 1);

    await page.getByTestId('filter-console').fill('payment DECLINED');
    await page.getByTestId('filter-apply').click();
    await expectRows(page, [ids.firefox]);
    await expectChart(page, 1, 1);
    expect(decodeURIComponent(page.url())).toContain('console=payment+DECLINED');

    // A shared link opens the same search, its field filled in.
    const shared = page.url();
    const other = await context.newPage();
    await other.goto(shared);
    await expectRows(other, [ids.firefox]);
    expect(await other.getByTestId('filter-console').inputValue()).toBe('payment DECLINED');
    await other.close();

    await page.getByTestId('filter-clear').click();
    await expectRows(page, [ids.chrome, ids.iphone, ids.firefox]);
    await page.getByTestId('filter-event').fill('Coupon_Applied');
    await page.getByTestId('filter-device').selectOption('mobile');
    await page.getByTestId('filter-apply').click();
    await expectRows(page, [ids.iphone]);
    await expectChart(page, 1, 0);

    await page.getByTestId('filter-clear').click();
    await page.getByTestId('filter-browser').fill('firefox');
    await page.getByTestId('filter-page').fill('/checkout');
    await page.getByTestId('filter-has-errors').check();
    await page.getByTestId('filter-apply').click();
    await expectRows(page, [ids.firefox]);

    await page.getByTestId('filter-clear').click();
    await page.getByTestId('filter-browser').fill('chrome');
    await page.getByTestId('filter-apply').click();
    await expectRows(page, [ids.chrome]);
    await page.getByTestId('filter-clear').click();
    await page.getByTestId('filter-q').fill('gra');
    await page.getByTestId('filter-apply').click();
    await expectRows(page, [ids.iphone]);

    await page.getByTestId('filter-clear').click();
    await page.getByTestId('filter-console').fill('nothing like this');
    await page.getByTestId('filter-apply').click();
    await page.getByTestId('sessions-no-match').waitFor();
    await waitFor('an empty chart', async () => (await page.getByTestId('sessions-chart').getAttribute('data-total-sessions')) === '0');

    await page.getByTestId('filter-clear').click();
    await expectRows(page, [ids.chrome, ids.iphone, ids.firefox]);
    await expectChart(page, 3, 1);
    // Hovering today's bar (the last one) reads out that day's counts.
    const over = page.getByTestId('sessions-chart').locator('.u-over');
    const box = (await over.boundingBox())!;
    await over.hover({ position: { x: box.width - 8, y: box.height / 2 } });
    expect(await page.getByTestId('sessions-chart-hover').textContent()).toMatch(/3 sessions\s*1 error\b/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'sessions-search.png'), fullPage: true });
    await context.close();
  });
});
