import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { TANDEM_EVENT } from '@tandem/protocol';
import { ADMIN } from './support/backend-process.js';
import { waitFor } from './support/browser.js';
import { fetchEvents, useBackendAndBrowser, withStorage } from './support/fixture.js';

const ARTIFACTS = path.resolve(new URL('../artifacts/', import.meta.url).pathname);
const PASSWORD_TYPED = 'Hunter2-Secret-Pa55word';
const NAME_TYPED = 'Ada Lovelace';


const e2e = useBackendAndBrowser();

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
});

async function loginDashboard(page: Page): Promise<void> {
  await page.goto(`${e2e.backend.url}/#/login`);
  await page.getByTestId('login-email').fill(ADMIN.email);
  await page.getByTestId('login-password').fill(ADMIN.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('session-row').first().waitFor({ timeout: 30_000 });
}

describe('recording journey: demo site → ingest → chDB → dashboard replay', () => {
  let sessionId = '';

  it('records a user on the demo site', async () => {
    const user = await e2e.browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await user.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${e2e.backend.url}/demo/`);
    sessionId = await waitFor('tracker session', () =>
      page.evaluate(() => new Promise<string>((resolve) => (window as any).Tandem('getSessionId', resolve))),
    );
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{8,64}$/);

    await page.click('#log-btn');
    await page.click('#fetch-btn');
    await page.locator('#fetch-result').getByText('Blue mug').waitFor();
    await page.click('#error-btn');
    await waitFor('the demo error to be thrown', async () => pageErrors.some((m) => m.includes('Demo error from button')));
    await page.click('#spa-link');

    await page.goto(`${e2e.backend.url}/demo/list.html`);
    await page.click('#add-item');
    await page.click('#add-item');
    await page.click('#remove-item');

    await page.goto(`${e2e.backend.url}/demo/form.html`);
    await page.fill('#name', NAME_TYPED);
    await page.fill('#email', 'ada@example.com');
    await page.fill('#password', PASSWORD_TYPED);
    await page.click('button[type=submit]');
    await page.getByText(`Thanks, ${NAME_TYPED}`).waitFor();
    // The session ends the way real ones do: the tab goes away (pagehide flush).
    await page.close({ runBeforeUnload: true });
    await user.close();
  });

  it('lists the session in the dashboard within seconds, with the right counts', async () => {
    const agent = await e2e.browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await agent.newPage();
    await loginDashboard(page);
    const row = page.locator(`[data-testid=session-row][data-session-id="${sessionId}"]`);
    await row.waitFor({ timeout: 20_000 });
    // Counts settle as the last batches land; poll the row rather than sleeping (the last counts seen go
    // into the failure message, so a late or lost batch can be told from a wrong count).
    let seen = 'none read';
    await waitFor('error and page counts', async () => {
      await page.reload();
      await row.waitFor();
      const errors = Number((await row.getByTestId('session-errors').innerText()).trim());
      const pages = Number((await row.getByTestId('session-pages').innerText()).trim());
      const clicks = Number((await row.getByTestId('session-clicks').innerText()).trim());
      seen = `errors ${errors}, pages ${pages}, clicks ${clicks}`;
      // log, fetch, error, SPA link, add, add, remove, submit; index, #section-2, list, form.
      return errors === 1 && pages === 4 && clicks === 8;
    }, 30_000, 1000).catch(async (err: Error) => {
      // What was stored, to tell a lost batch (a gap in seqs) from a miscount.
      const events = (await fetchEvents(e2e.backend.url, await e2e.agentCookie(), sessionId)).split('\n').filter(Boolean)
        .map((l) => JSON.parse(l) as { seq: number; type: number; data?: { href?: string; tag?: string; payload?: { url?: string; via?: string } } });
      const seqs = events.map((e) => e.seq);
      const gaps = seqs.filter((q, i) => i > 0 && q !== seqs[i - 1] + 1).map((q) => `before ${q}`);
      const visits = events.filter((e) => e.type === 4 || (e.type === 5 && e.data?.tag === TANDEM_EVENT.pageVisit))
        .map((e) => `${e.seq}:${e.type === 4 ? 'meta' : e.data?.payload?.via} ${new URL(e.data?.href ?? e.data?.payload?.url ?? 'x:').pathname}`);
      throw new Error(`${err.message} (expected errors 1, pages 4, clicks 8; last seen: ${seen}; stored ${events.length} events, ` +
        `seqs ${seqs[0]}..${seqs.at(-1)}, gaps ${gaps.join(', ') || 'none'}, visits ${visits.join(' | ')})`);
    });
    expect(await row.getByTestId('session-browser').innerText()).toMatch(/Chrom/i);
    await page.screenshot({ path: path.join(ARTIFACTS, 'sessions.png'), fullPage: true });

    await row.click();
    const frame = page.frameLocator('[data-testid=player] iframe');
    await frame.getByText('Tandem Demo Shop').first().waitFor({ timeout: 30_000 });
    // The replay iframe must not run scripts.
    const sandbox = await page.locator('[data-testid=player] iframe').first().getAttribute('sandbox');
    expect(sandbox ?? '').not.toContain('allow-scripts');

    // Play to the end (the player may autoplay; press play only while paused): the form page with
    // the typed name masked.
    await page.getByTestId('player-speed').selectOption('8');
    const masked = await waitFor('the replayed form input', async () => {
      const play = page.getByTestId('player-play');
      if ((await play.getAttribute('data-state')) === 'paused' && (await frame.locator('#name').count()) === 0) await play.click();
      const v = await frame.locator('#name').inputValue({ timeout: 1000 });
      return v.length > 0 ? v : null;
    }, 60_000, 500);
    expect(masked).not.toContain('Ada');
    expect(masked).toMatch(/^\*+$/);
    // Styles came along: the heading has the demo's colour, not the browser default black.
    const color = await frame.locator('h1').first().evaluate((el) => getComputedStyle(el).color);
    expect(color).not.toBe('rgb(0, 0, 0)');

    await page.getByTestId('tab-console').click();
    await page.getByTestId('console-entry').filter({ hasText: 'demo log' }).first().waitFor();
    await page.getByTestId('tab-network').click();
    await page.getByTestId('network-entry').filter({ hasText: '/demo/api/items' }).first().waitFor();
    await page.getByTestId('tab-errors').click();
    await page.getByTestId('error-entry').filter({ hasText: 'Demo error from button' }).first().waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'player.png'), fullPage: true });
    await agent.close();
  });

  it('never stores the typed password, and the session survives a restart', async () => {
    // Query storage directly (the backend stopped meanwhile), every table, every column that holds text.
    await withStorage(e2e, async (store) => {
      const tables = await store.driver.query<{ name: string }>(`SELECT name FROM system.tables WHERE database = 'tandem'`);
      expect(tables.length).toBeGreaterThan(5);
      let rowsSearched = 0;
      for (const { name } of tables) {
        const hits = await store.driver.query<{ n: string; total: string }>(
          `SELECT countIf(positionCaseInsensitive(toString(tuple(*)), {needle:String}) > 0) AS n, count() AS total FROM tandem.${name}`,
          { needle: PASSWORD_TYPED },
        );
        rowsSearched += Number(hits[0].total);
        expect({ table: name, hits: Number(hits[0].n) }).toEqual({ table: name, hits: 0 });
      }
      expect(rowsSearched).toBeGreaterThan(50);
    });

    const agent = await e2e.browser.newContext();
    const page = await agent.newPage();
    await loginDashboard(page);
    await page.locator(`[data-testid=session-row][data-session-id="${sessionId}"]`).waitFor({ timeout: 20_000 });
    await agent.close();
  });
});
