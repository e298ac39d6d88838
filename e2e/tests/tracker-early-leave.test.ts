import { describe, expect, it } from 'vitest';
import type { Route } from 'playwright-core';
import { waitFor } from './support/browser.js';
import { fetchEvents, useBackendAndBrowser } from './support/fixture.js';

const e2e = useBackendAndBrowser();

/** The pages in the stored events (a page's later snapshots, Meta again, are the same page). */
const pagesOf = (events: Stored[]) => events.filter((e) => e.type === 4).map((e) => new URL(e.data!.href!).pathname)
  .filter((p, i, all) => i === 0 || all[i - 1] !== p);

interface Stored { type: number; data?: { href?: string; source?: number; type?: number } }

describe('a page left before the tracker\'s start request is answered', () => {
  it('keeps what it recorded: the tab\'s next page sends it, before its own events', async () => {
    const context = await e2e.browser.newContext();
    const page = await context.newPage();
    const base = e2e.backend.url;
    await page.goto(`${base}/demo/`);
    const sessionId = await waitFor('tracker session', () =>
      page.evaluate(() => new Promise<string>((resolve) => (window as any).Tandem('getSessionId', resolve))));

    // The list page's start request never gets its answer (a slow server): held until the page is gone.
    const held: Route[] = [];
    await context.route('**/ingest/v1/start', (route) => void held.push(route));
    await page.goto(`${base}/demo/list.html`);
    await waitFor('the list page asking for its session', async () => held.length > 0);
    await page.click('#add-item');
    await page.click('#add-item');
    await context.unroute('**/ingest/v1/start');

    await page.goto(`${base}/demo/form.html`);
    await waitFor('the form page\'s session', () =>
      page.evaluate(() => new Promise<string>((resolve) => (window as any).Tandem('getSessionId', resolve))));
    for (const r of held) await r.abort().catch(() => {});
    await page.close({ runBeforeUnload: true });
    await context.close();

    const cookie = await e2e.agentCookie();
    const stored = await waitFor('the form page stored', async () => {
      const events = (await fetchEvents(base, cookie, sessionId)).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Stored);
      return events.some((e) => e.type === 4 && e.data?.href?.endsWith('/demo/form.html')) ? events : null;
    }, 30_000, 500);
    const pages = stored.filter((e) => e.type === 4).map((e) => new URL(e.data!.href!).pathname)
      .filter((p, i, all) => i === 0 || all[i - 1] !== p); // a page's later snapshots (Meta again) are the same page
    // The list page is there, between the index and the form (it was lost before: nothing sent, nothing handed on).
    expect(pages).toEqual(['/demo/', '/demo/list.html', '/demo/form.html']);
    const listAt = stored.findIndex((e) => e.type === 4 && e.data?.href?.endsWith('/demo/list.html'));
    const formAt = stored.findIndex((e) => e.type === 4 && e.data?.href?.endsWith('/demo/form.html'));
    const clicks = stored.slice(listAt, formAt).filter((e) => e.type === 3 && e.data?.source === 2 && e.data?.type === 2);
    expect(clicks.length).toBe(2);
  });

  it('keeps the later pages of a tab that closes before any of their start answers come', async () => {
    const context = await e2e.browser.newContext();
    const page = await context.newPage();
    const base = e2e.backend.url;
    await page.goto(`${base}/demo/`);
    const sessionId = await waitFor('tracker session', () =>
      page.evaluate(() => new Promise<string>((resolve) => (window as any).Tandem('getSessionId', resolve))));

    // From here on no start request is answered (a server slow under load): the list and form pages
    // continue the tab's session from what the index page learnt, or their events die with the tab.
    const held: Route[] = [];
    await context.route('**/ingest/v1/start', (route) => void held.push(route));
    await page.goto(`${base}/demo/list.html`);
    await page.click('#add-item');
    await page.click('#remove-item');
    await page.goto(`${base}/demo/form.html`);
    await page.fill('#name', 'Ada');
    await page.click('button[type=submit]');
    await page.getByText('Thanks, Ada').waitFor();
    // Interception off before the tab closes (the form page's start stays unanswered): a request the tab
    // sends while closing would wait for Playwright to let it through, and a closed page's never is.
    await context.unroute('**/ingest/v1/start');
    await page.close({ runBeforeUnload: true });
    for (const r of held) await r.abort().catch(() => {});
    await context.close();

    const cookie = await e2e.agentCookie();
    let seen = 'nothing';
    const stored = await waitFor('the form page stored', async () => {
      const events = (await fetchEvents(base, cookie, sessionId)).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Stored);
      seen = `${events.length} events, pages ${JSON.stringify(pagesOf(events))}`;
      return events.some((e) => e.type === 4 && e.data?.href?.endsWith('/demo/form.html')) ? events : null;
    }, 30_000, 500).catch((err: Error) => {
      throw new Error(`${err.message} (stored: ${seen})`);
    });
    expect(pagesOf(stored)).toEqual(['/demo/', '/demo/list.html', '/demo/form.html']);
    const clicks = stored.filter((e) => e.type === 3 && e.data?.source === 2 && e.data?.type === 2);
    expect(clicks.length).toBe(3); // add, remove, submit
  });
});
