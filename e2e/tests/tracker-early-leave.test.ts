import { describe, expect, it } from 'vitest';
import type { Page, Route } from 'playwright-core';
import { waitFor } from './support/browser.js';
import { fetchEvents, useBackendAndBrowser } from './support/fixture.js';

const e2e = useBackendAndBrowser();
const START = '**/ingest/v1/start';

interface Stored { type: number; data?: { href?: string; source?: number; type?: number } }

/** The pages in the stored events (a page's later snapshots, Meta again, are the same page). */
const pagesOf = (events: Stored[]) => events.filter((e) => e.type === 4).map((e) => new URL(e.data!.href!).pathname)
  .filter((p, i, all) => i === 0 || all[i - 1] !== p);
const isClick = (e: Stored) => e.type === 3 && e.data?.source === 2 && e.data?.type === 2;

const sessionOf = (page: Page) =>
  waitFor('tracker session', () => page.evaluate(() => new Promise<string>((resolve) => (window as any).Tandem('getSessionId', resolve))));

/** The session's stored events once `lastPage` is among them (the failure says what was stored). */
async function storedUntil(sessionId: string, lastPage: string): Promise<Stored[]> {
  const cookie = await e2e.agentCookie();
  let seen = 'nothing';
  return waitFor(`${lastPage} stored`, async () => {
    const events = (await fetchEvents(e2e.backend.url, cookie, sessionId)).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Stored);
    seen = `${events.length} events, pages ${JSON.stringify(pagesOf(events))}`;
    return events.some((e) => e.type === 4 && e.data?.href?.endsWith(lastPage)) ? events : null;
  }, 30_000, 500).catch((err: Error) => {
    throw new Error(`${err.message} (stored: ${seen})`);
  });
}

describe('a page left before the tracker\'s start request is answered', () => {
  it('a tab\'s first page (no session yet) hands what it recorded to the next page, which sends it before its own events', async () => {
    const context = await e2e.browser.newContext();
    const page = await context.newPage();
    const base = e2e.backend.url;
    // The first page's start request never gets its answer (a slow server): held until the page is gone.
    const held: Route[] = [];
    await context.route(START, (route) => void held.push(route));
    await page.goto(`${base}/demo/`);
    await waitFor('the first page asking for its session', async () => held.length > 0);
    await page.click('#log-btn');
    await page.click('#log-btn');
    await context.unroute(START);

    await page.goto(`${base}/demo/list.html`);
    const sessionId = await sessionOf(page);
    for (const r of held) await r.abort().catch(() => {});
    await page.click('#add-item');
    await page.close({ runBeforeUnload: true });
    await context.close();

    const stored = await storedUntil(sessionId, '/demo/list.html');
    // The first page is there, before the list (it was lost before: nothing sent, nothing handed on).
    expect(pagesOf(stored)).toEqual(['/demo/', '/demo/list.html']);
    const listAt = stored.findIndex((e) => e.type === 4 && e.data?.href?.endsWith('/demo/list.html'));
    expect(stored.slice(0, listAt).filter(isClick)).toHaveLength(2);
    expect(stored.slice(listAt).filter(isClick)).toHaveLength(1);
  });

  it('keeps the later pages of a tab that closes before any of their start answers come', async () => {
    const context = await e2e.browser.newContext();
    const page = await context.newPage();
    const base = e2e.backend.url;
    await page.goto(`${base}/demo/`);
    const sessionId = await sessionOf(page);

    // From here on no start request is answered (a server slow under load): the list and form pages
    // continue the tab's session from what the index page learnt, or their events die with the tab.
    const held: Route[] = [];
    await context.route(START, (route) => void held.push(route));
    await page.goto(`${base}/demo/list.html`);
    await page.click('#add-item');
    await page.click('#remove-item');
    await page.goto(`${base}/demo/form.html`);
    await page.fill('#name', 'Ada');
    await page.click('button[type=submit]');
    await page.getByText('Thanks, Ada').waitFor();
    // Interception off before the tab closes (the form page's start stays unanswered): a request the tab
    // sends while closing would wait for Playwright to let it through, and a closed page's never is.
    await context.unroute(START);
    await page.close({ runBeforeUnload: true });
    for (const r of held) await r.abort().catch(() => {});
    await context.close();

    const stored = await storedUntil(sessionId, '/demo/form.html');
    expect(pagesOf(stored)).toEqual(['/demo/', '/demo/list.html', '/demo/form.html']);
    expect(stored.filter(isClick)).toHaveLength(3); // add, remove, submit
  });
});
