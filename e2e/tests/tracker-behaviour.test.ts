import { describe, expect, it } from 'vitest';
import { gunzipSync, inflateSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { PROJECT_KEY } from './support/backend-process.js';
import { fetchEvents, useBackendAndBrowser } from './support/fixture.js';
import { waitFor } from './support/browser.js';

const e2e = useBackendAndBrowser();

/** Serves a fixture page from the backend's own origin, so /tracker.js loads as in production. */
async function openFixture(page: Page, body: string, scriptAttrs = `data-project-key="${PROJECT_KEY}"`): Promise<void> {
  await page.route(`${e2e.backend.url}/fixture.html`, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><html><head><title>Fixture</title></head><body>${body}<script src="/tracker.js" ${scriptAttrs} async></script></body></html>`,
    }),
  );
  await page.goto(`${e2e.backend.url}/fixture.html`);
}

async function sessionIdOf(page: Page): Promise<string> {
  return waitFor('tracker session', () => page.evaluate(() => new Promise<string>((r) => (window as any).Tandem('getSessionId', r))));
}

async function storedEvents(sessionId: string): Promise<string> {
  return fetchEvents(e2e.backend.url, await e2e.agentCookie(), sessionId);
}

async function flush(page: Page): Promise<void> {
  await page.evaluate(() => (window as any).Tandem.tracker.flush());
}

describe('tracker in a real browser', () => {
  it('masks [data-tandem-mask] text, leaves out [data-tandem-block] elements, and masks every input', async () => {
    const page = await e2e.browser.newPage();
    await openFixture(page, `
      <h1>Visible heading</h1>
      <p data-tandem-mask>Card ending 4242 belongs to Grace</p>
      <div data-tandem-block><span>Blocked secret panel</span></div>
      <input id="q" type="text"><textarea id="notes"></textarea>`);
    const sessionId = await sessionIdOf(page);
    await page.fill('#q', 'typed-search-term');
    await page.fill('#notes', 'typed-notes-text');
    await flush(page);
    const stored = await waitFor('events stored', async () => {
      const t = await storedEvents(sessionId);
      return t.includes('Visible heading') && t.split('\n').length > 3 ? t : null;
    });
    expect(stored).not.toContain('Card ending 4242');
    expect(stored).not.toContain('Blocked secret panel');
    expect(stored).not.toContain('typed-search-term');
    expect(stored).not.toContain('typed-notes-text');
    await page.close();
  });

  it('masks all text in strict privacy mode', async () => {
    const page = await e2e.browser.newPage();
    await openFixture(page, `<h1>Strictly private heading</h1><p>Account balance 1,234.56</p>`, `data-project-key="${PROJECT_KEY}" data-privacy="strict"`);
    const sessionId = await sessionIdOf(page);
    await flush(page);
    const stored = await waitFor('full snapshot stored', async () => {
      const t = await storedEvents(sessionId);
      return t.includes('"type":2') ? t : null;
    });
    expect(stored).not.toContain('Strictly private heading');
    expect(stored).not.toContain('1,234.56');
    await page.close();
  });

  it('packs its batches (issue 8) and the server stores the same snapshot as from an unpacked batch', async () => {
    // Two tabs on the same page: one as shipped, one whose start answer hides `config.pack` (an older
    // server), so its batches go unpacked. The page is the same, so rrweb gives both the same snapshot.
    const body = `<h1>Packed heading</h1><ul>${Array.from({ length: 30 }, (_, i) => `<li class="i${i}">Item ${i}</li>`).join('')}</ul>
      <svg viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"></circle></svg><p>Tail text</p>`;
    const snapshotOf = async (packing: boolean) => {
      const context = await e2e.browser.newContext();
      const page = await context.newPage();
      const bodies: Record<string, unknown>[] = [];
      page.on('request', (req) => {
        const buf = req.postDataBuffer();
        if (!req.url().includes('/ingest/v1/batch') || !buf) return;
        const text = buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : (buf[0] & 0x0f) === 8 ? inflateSync(buf) : buf; // gzip, zlib (pack 2), plain
        bodies.push(JSON.parse(text.toString('utf8')));
      });
      if (!packing) {
        await page.route(`${e2e.backend.url}/ingest/v1/start`, async (route) => {
          const res = await route.fetch();
          const json = await res.json();
          delete json.config.pack;
          await route.fulfill({ response: res, json });
        });
      }
      await openFixture(page, body);
      const sessionId = await sessionIdOf(page);
      await flush(page);
      const stored = await waitFor('full snapshot stored', async () => {
        const t = await storedEvents(sessionId);
        return t.includes('"type":2') ? t : null;
      });
      await context.close();
      const snapshot = stored.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.type === 2);
      return { snapshot, bodies };
    };
    const packed = await snapshotOf(true);
    const plain = await snapshotOf(false);
    expect(packed.bodies.length).toBeGreaterThan(0);
    // Pack 2: the envelope's ids come from the session token, so they are not in the body.
    expect(packed.bodies.every((b) => b.pack === 2 && b.sessionId === undefined && b.tabId === undefined)).toBe(true);
    expect(plain.bodies.every((b) => b.pack === undefined)).toBe(true);
    expect(JSON.stringify(packed.bodies)).not.toContain('"textContent":"Item 7"'); // text nodes went as strings
    expect(JSON.stringify(packed.snapshot)).toContain('"textContent":"Item 7"');
    expect(packed.snapshot.data).toEqual(plain.snapshot.data);
  });

  it('keeps events while the browser is offline and sends them when it is back', async () => {
    const context = await e2e.browser.newContext();
    const page = await context.newPage();
    await openFixture(page, `<ul id="list"></ul><button id="add" onclick="const li=document.createElement('li');li.textContent='item '+document.querySelectorAll('li').length;document.getElementById('list').appendChild(li)">add</button>`);
    const sessionId = await sessionIdOf(page);
    await flush(page);
    await context.setOffline(true);
    for (let i = 0; i < 5; i++) await page.click('#add');
    await page.evaluate(() => (window as any).Tandem.tracker.flush()).catch(() => {});
    await page.waitForTimeout(500);
    expect(await storedEvents(sessionId)).not.toContain('item 4');
    await context.setOffline(false);
    const stored = await waitFor('offline events delivered', async () => {
      const t = await storedEvents(sessionId);
      return t.includes('item 4') ? t : null;
    }, 45_000, 1000);
    const seqs = stored.trim().split('\n').map((l) => JSON.parse(l).seq as number);
    expect(seqs).toEqual([...Array(seqs.length).keys()]);
    await context.close();
  });

  it('records what the user does before the start request has answered', async () => {
    const page = await e2e.browser.newPage();
    // A slow network: the start answer takes 1.5 s, and the user clicks before it arrives.
    await page.route(`${e2e.backend.url}/ingest/v1/start`, async (route) => {
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    await openFixture(page, `<button id="early" onclick="this.textContent='clicked-early'">click me</button>`);
    await page.waitForFunction(() => !!(window as any).Tandem?.tracker);
    await page.click('#early');
    const sessionId = await sessionIdOf(page);
    await flush(page);
    const events = await waitFor('the early click stored', async () => {
      const lines = (await storedEvents(sessionId)).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      return lines.some((e) => e.type === 3 && e.data.source === 2 && e.data.type === 2) ? lines : null;
    });
    // The click comes after the first full snapshot, which shows the button as it was before it.
    const snapshot = events.findIndex((e) => e.type === 2);
    const click = events.findIndex((e) => e.type === 3 && e.data.source === 2 && e.data.type === 2);
    expect(snapshot).toBeGreaterThanOrEqual(0);
    expect(click).toBeGreaterThan(snapshot);
    expect(JSON.stringify(events[snapshot])).toContain('click me');
    await page.close();
  });

  it('never breaks the host page, even with a wrong project key', async () => {
    const page = await e2e.browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await openFixture(page, `<button id="b" onclick="this.textContent='clicked'">click me</button>`, 'data-project-key="pk_does_not_exist"');
    await page.waitForTimeout(1500);
    await page.click('#b');
    expect(await page.textContent('#b')).toBe('clicked');
    // The page's own fetch and console still behave exactly as without the tracker.
    const r = await page.evaluate(async () => {
      const res = await fetch('/demo/api/items');
      return { status: res.status, n: (await res.json()).items.length };
    });
    expect(r).toEqual({ status: 200, n: 3 });
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
