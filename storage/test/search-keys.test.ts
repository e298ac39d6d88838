import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ddl, MIGRATIONS, createChdbDriver, createStore, type Driver, type TandemStore } from '../src/index.js';
import { chTime } from '../src/encode.js';
import { CHROME_UA, FIREFOX_UA, batch, custom, identify, meta, start } from './fixtures.js';

/**
 * Migration 15: `page_keys` / `event_keys` (the list's keys per visited page text, landing URL and custom event name);
 * migration 18: `url_keys` (per visited and landing URL, with whether it was a visit).
 * An install written before it (rows inserted as the old writer left them) is backfilled on upgrade; today's writer
 * fills them on ingest, the landing URL included when it is no page visit. The page, URL and event filters read only
 * these tables when no other filter is set, so every answer below fails if a key is missing.
 */

const dir = mkdtempSync(join(tmpdir(), 'tandem-search-keys-'));
const DB = 'tandem';
const P = 'p-keys';
const ddl = new Ddl({ db: DB, days: 30 });
const NOW = Date.now();
let driver: Driver;

/** The install before migration 15, with three sessions and their child rows as the old writer wrote them. */
async function oldInstall(): Promise<void> {
  await driver.command(ddl.createDatabase());
  await driver.command(`CREATE TABLE ${DB}.schema_migrations (version UInt32, name String, applied_at DateTime64(3, 'UTC'))
    ENGINE = ReplacingMergeTree ORDER BY version`);
  for (const m of MIGRATIONS.filter((x) => x.version <= 14)) {
    for (const step of m.steps) {
      if (step.kind === 'run') await step.fn(driver, ddl);
      else for (const statement of ddl.render(step)) await driver.command(statement);
    }
    await driver.command(`INSERT INTO ${DB}.schema_migrations VALUES (${m.version}, 'm', now64(3))`);
  }
  const sessions = [['o-1', 5 * 86_400_000, 'https://shop.test/landing/a'], ['o-2', 2 * 3_600_000, 'https://shop.test/landing/b'], ['o-3', 60_000, '']] as const;
  for (const [id, ago, firstUrl] of sessions) {
    const at = chTime(NOW - ago);
    await driver.insert(`${DB}.sessions`, [{ project_id: P, session_id: id, version: 1, updated_at: at, visitor_id: 'v', user_id: null, started_at: at,
      first_event_at: at, last_event_at: at, first_url: firstUrl, last_url: null, referrer: '', page_count: 1, event_count: 1, error_count: 0,
      console_error_count: 0, click_count: 0, tab_ids: ['t'], user_agent: '', browser: 'Chrome', browser_version: '1', os: 'macOS', device: 'desktop',
      screen: '', language: '', timezone: '', country: '' }]);
    await driver.insert(`${DB}.session_attrs`, [{ project_id: P, session_id: id, version: 1, updated_at: at, started_at: at, visitor_id: 'v', user_id: '',
      first_url: firstUrl, user_agent: '', browser: 'Chrome', browser_version: '1', os: 'macOS', device: 'desktop', screen: '', country: '' }]);
  }
  const child = (id: string, seq: number, ago: number) => ({ project_id: P, session_id: id, tab_id: 't', seq, ts: chTime(NOW - ago + 1000), received_at: chTime(NOW - ago + 1000).slice(0, 19) });
  await driver.insert(`${DB}.page_visits`, [
    { ...child('o-1', 1, 5 * 86_400_000), url: 'https://shop.test/blog/77', title: 'Seventy-seven', referrer: '', via: 'pushState' },
    { ...child('o-3', 1, 60_000), url: 'https://shop.test/blog/77', title: '', referrer: '', via: 'pushState' },
  ]);
  await driver.insert(`${DB}.custom_events`, [{ ...child('o-2', 2, 2 * 3_600_000), name: 'Trial_Started', payload: '{}' }]);
}

const list = async (store: TandemStore, q: Record<string, string>) => (await store.listSessions(P, q)).sessions.map((s) => s.sessionId);

beforeAll(async () => {
  driver = createChdbDriver(dir);
  await oldInstall();
}, 120_000);

afterAll(async () => {
  await driver?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('migration 15 on an existing install, then the writer', () => {
  it('backfills the keys of visited pages, landing URLs and events; the filters find the old sessions', async () => {
    const store = createStore(driver, { database: DB });
    await store.migrate();
    expect(await list(store, { page: '/blog/77' })).toEqual(['o-3', 'o-1']);
    expect(await list(store, { page: 'seventy' })).toEqual(['o-1']); // a title
    expect(await list(store, { url: '/landing/' })).toEqual(['o-2', 'o-1']); // landing URLs, no page visit
    expect(await list(store, { event: 'trial_started' })).toEqual(['o-2']);
    expect(await list(store, { event: 'TRIAL_STARTED' })).toEqual(['o-2']);
    await store.migrate(); // applied once
    const [n] = await driver.query<{ n: string }>(`SELECT count() AS n FROM ${DB}.page_keys FINAL WHERE project_id = {p:String}`, { p: P });
    expect(Number(n.n)).toBe(5); // blog/77 of o-1 and o-3, o-1's title, landing/a, landing/b: none twice
  }, 120_000);

  it('migration 18 backfills url_keys: visited URLs (visit 1) and landing URLs (visit 0), no titles', async () => {
    const rows = await driver.query<{ url: string; session_id: string; visit: number }>(
      `SELECT url, session_id, visit FROM ${DB}.url_keys FINAL WHERE project_id = {p:String} ORDER BY session_id, url`, { p: P });
    expect(rows.map((r) => [r.session_id, r.url, Number(r.visit)])).toEqual([
      ['o-1', 'https://shop.test/blog/77', 1], ['o-1', 'https://shop.test/landing/a', 0],
      ['o-2', 'https://shop.test/landing/b', 0], ['o-3', 'https://shop.test/blog/77', 1]]);
    const store = createStore(driver, { database: DB });
    // o-3 matches by its visit only (no landing URL, no exit URL on the old rows); a title never matches a URL filter.
    expect(await list(store, { url: '/blog/77' })).toEqual(['o-3', 'o-1']);
    expect(await list(store, { url: 'seventy' })).toEqual([]);
  }, 60_000);

  it('a URL filter alone reads no page_visits (its keys say which sessions visited a matching URL), few keys in one window', async () => {
    const sent: string[] = [];
    const tracing = { ...driver, query: (q: string, params?: Record<string, unknown>) => (sent.push(q), driver.query(q, params)) } as Driver;
    const store = createStore(tracing, { database: DB });
    expect(await list(store, { url: '/blog/77' })).toEqual(['o-3', 'o-1']);
    expect(await list(store, { url: 'landing/' })).toEqual(['o-2', 'o-1']);
    expect(sent.filter((q) => q.includes('page_visits'))).toEqual([]);
    // Few keys (a granule per part, by the index's estimate, reused for a minute): one read of the whole range per call,
    // where a day first found o-3 and then read the same granules again for o-1.
    expect(sent.filter((q) => q.startsWith('SELECT') && q.includes('url_keys')).length).toBe(2);
    expect(sent.filter((q) => q.startsWith('EXPLAIN ESTIMATE') && q.includes('url_keys')).length).toBe(2);
    sent.length = 0;
    expect(await list(store, { url: '/blog/77' })).toEqual(['o-3', 'o-1']);
    expect(sent.filter((q) => q.startsWith('SELECT') && q.includes('url_keys')).length).toBe(1);
    expect(sent.filter((q) => q.startsWith('EXPLAIN'))).toEqual([]);
  }, 60_000);

  it('migration 20 backfills attr_keys / attr_texts from session_attrs; free text finds the old sessions through them', async () => {
    const rows = await driver.query<{ text: string; session_id: string }>(
      `SELECT text, session_id FROM ${DB}.attr_keys FINAL WHERE project_id = {p:String} ORDER BY session_id, text`, { p: P });
    expect(rows.map((r) => [r.session_id, r.text])).toEqual(['o-1', 'o-2', 'o-3'].flatMap((id) => [[id, 'Chrome'], [id, 'desktop'], [id, 'macOS']]));
    const texts = await driver.query<{ text: string }>(`SELECT text FROM ${DB}.attr_texts FINAL WHERE project_id = {p:String} ORDER BY text`, { p: P });
    expect(texts.map((r) => r.text)).toEqual(['Chrome', 'desktop', 'macOS']);
    const sent: string[] = [];
    const tracing = { ...driver, query: (q: string, params?: Record<string, unknown>) => (sent.push(q), driver.query(q, params)) } as Driver;
    const store = createStore(tracing, { database: DB });
    expect(await list(store, { q: 'MACOS' })).toEqual(['o-3', 'o-2', 'o-1']);
    expect(await list(store, { q: 'chrom' })).toEqual(['o-3', 'o-2', 'o-1']);
    expect(await list(store, { q: 'landing/b' })).toEqual(['o-2']); // a landing URL: page_keys
    expect(sent.some((q) => q.includes('attr_keys'))).toBe(true);
    expect(sent.some((q) => /lowerUTF8\((user_id|browser|os|device)\)/.test(q))).toBe(false);
  }, 60_000);

  it('the writer writes the keys on ingest: a landing URL that is no page visit, pages, events in any case', async () => {
    const store = createStore(driver, { database: DB });
    const at = NOW - 30_000;
    await store.startSession(start(P, 'n-1', 'tab', { startedAt: at, userAgent: CHROME_UA, url: 'https://shop.test/landing/c' }));
    await store.writeBatch(batch(P, 'n-1', 'tab', [meta(0, at + 10, 'https://shop.test/blog/77'),
      custom(1, at + 20, 'tandem/custom@1', { name: 'Trial_Started', payload: {} })]));
    await store.flush();
    expect(await list(store, { url: '/landing/' })).toEqual(['n-1', 'o-2', 'o-1']);
    expect(await list(store, { page: '/blog/77' })).toEqual(['n-1', 'o-3', 'o-1']);
    expect(await list(store, { event: 'trial_STARTED' })).toEqual(['n-1', 'o-2']);
    // Two key filters together: one table's keys narrowed by the other's.
    expect(await list(store, { page: '/blog/77', event: 'trial_started' })).toEqual(['n-1']);
    expect(await list(store, { url: 'landing/b', event: 'trial_started' })).toEqual(['o-2']);
    // The writer's url_keys rows: the landing URL (no page visit) and the visited URL.
    const rows = await driver.query<{ url: string; visit: number }>(
      `SELECT url, visit FROM ${DB}.url_keys FINAL WHERE project_id = {p:String} AND session_id = 'n-1' ORDER BY url`, { p: P });
    expect(rows.map((r) => [r.url, Number(r.visit)])).toEqual([['https://shop.test/blog/77', 1], ['https://shop.test/landing/c', 0]]);
    expect(await list(store, { url: '/blog/77' })).toEqual(['n-1', 'o-3', 'o-1']);
    expect(await list(store, { url: '/blog/77', event: 'trial_started' })).toEqual(['n-1']);
  }, 60_000);

  it('the user id, browser, OS and device reach attr_keys on ingest (attr_keys_mv), a changed user id under both values', async () => {
    const store = createStore(driver, { database: DB });
    const at = NOW - 20_000;
    await store.startSession(start(P, 'n-2', 'tab', { startedAt: at, userAgent: FIREFOX_UA, url: 'https://shop.test/' }));
    await store.writeBatch(batch(P, 'n-2', 'tab', [meta(0, at + 10, 'https://shop.test/'), identify(1, at + 20, 'Ada-Seven')]));
    await store.flush();
    await store.writeBatch(batch(P, 'n-2', 'tab', [identify(2, at + 30, 'Ada-Eight')]));
    await store.flush();
    const rows = await driver.query<{ text: string }>(
      `SELECT text FROM ${DB}.attr_keys FINAL WHERE project_id = {p:String} AND session_id = 'n-2' ORDER BY text`, { p: P });
    expect(rows.map((r) => r.text)).toEqual(expect.arrayContaining(['Ada-Eight', 'Ada-Seven', 'Firefox', 'Linux', 'desktop']));
    // The merged user id is the newest: the older one is a candidate only, dropped by the re-check.
    expect(await list(store, { q: 'ada-eight' })).toEqual(['n-2']);
    expect(await list(store, { q: 'ada-seven' })).toEqual([]);
    expect(await list(store, { q: 'firefox' })).toEqual(['n-2']);
  }, 60_000);
});
