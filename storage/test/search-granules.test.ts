import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionQuery } from '@tandem/protocol';
import { Ddl, MIGRATIONS, createChdbDriver, createStore, type Driver, type TandemStore } from '../src/index.js';
import { SEARCH_BLOCK_BYTES, SEARCH_BLOCK_MIN_BYTES, SEARCH_GRANULE_ROWS, granuleRows } from '../src/search-granules.js';
import { CHROME_UA, FIREFOX_UA, batch, identify, jsError, meta, moves, page, start } from './fixtures.js';

/**
 * Migration 11: `session_search` rebuilt with 1,024-row granules, on an install that has sessions. The
 * delta rows must come over as they are (unmerged, none counted twice, also when two backends migrate at
 * once), the view must keep copying new deltas, and the list must answer as before, unmerged and merged.
 */

const dir = mkdtempSync(join(tmpdir(), 'tandem-search-granules-'));
const DB = 'tandem';
const P = 'p-granules';
const ddl = new Ddl({ db: DB, days: 30 });
let driver: Driver;
let old: TandemStore;

/** The install as it was before migration 11: migrations 1–10 applied, as migrate() applied them then. */
async function migrateUpTo10(): Promise<void> {
  await driver.command(ddl.createDatabase());
  await driver.command(`CREATE TABLE ${DB}.schema_migrations (version UInt32, name String, applied_at DateTime64(3, 'UTC'))
    ENGINE = ReplacingMergeTree ORDER BY version`);
  for (const m of MIGRATIONS.filter((x) => x.version <= 10)) {
    for (const step of m.steps) {
      if (step.kind === 'run') await step.fn(driver, ddl);
      else for (const statement of ddl.render(step)) await driver.command(statement);
    }
    await driver.command(`INSERT INTO ${DB}.schema_migrations VALUES (${m.version}, 'm', now64(3))`);
  }
  // Today's writer (record() below) also writes migration 15's and 18's key tables, which migrate() creates before any writer
  // of today starts: the tables only, their backfills stay the migrations'.
  for (const step of MIGRATIONS.filter((x) => x.version === 15 || x.version === 18).flatMap((x) => x.steps)) {
    if (step.kind === 'table') for (const statement of ddl.render(step)) await driver.command(statement);
  }
}

/** A session of `flushes` flushes (a delta row each, merges stopped), optionally identified and with an error. */
async function record(store: TandemStore, sessionId: string, flushes: number, opts: { user?: string; error?: boolean; firefox?: boolean } = {}) {
  const t0 = Date.now() - 3_600_000 + flushes * 1000;
  await store.startSession(start(P, sessionId, 'tab', { startedAt: t0, userAgent: opts.firefox ? FIREFOX_UA : CHROME_UA, url: 'https://shop.test/landing' }));
  await store.writeBatch(batch(P, sessionId, 'tab', [meta(0, t0, 'https://shop.test/landing'), page(1, t0 + 1, 'https://shop.test/blog/77', 'Post')]));
  await store.flush();
  for (let i = 1; i < flushes; i++) {
    await store.writeBatch(batch(P, sessionId, 'tab', moves(i * 10, 3, t0 + i * 60_000)));
    await store.flush();
  }
  const tail = [...(opts.user ? [identify(900, t0 + flushes * 60_000, opts.user)] : []), ...(opts.error ? [jsError(901, t0 + flushes * 60_000 + 1, 'boom')] : [])];
  if (tail.length) (await store.writeBatch(batch(P, sessionId, 'tab', tail)), await store.flush());
}

const deltaRows = async () => Number((await driver.query<{ n: string }>(`SELECT count() AS n FROM ${DB}.session_search WHERE project_id = {p:String}`, { p: P }))[0].n);
/** Sums over every delta row (no merge): a row copied twice or lost changes them (a merge does not). */
const totals = async () => (await driver.query<Record<string, string>>(
  `SELECT uniqExact(session_id) AS sessions, sum(event_count) AS events, sum(page_count) AS pages, sum(error_count) AS errors,
     toString(max(last_event_at)) AS last FROM ${DB}.session_search WHERE project_id = {p:String}`, { p: P }))[0];
const QUERIES: SessionQuery[] = [{}, { userId: 'ann@example.com' }, { hasErrors: true }, { minDuration: 3 * 60_000 }, { browser: 'firefox', hasErrors: true },
  { q: 'ann@' }, { page: 'blog/77' }, { url: 'landing', minDuration: 60_000, maxDuration: 4 * 60_000 }];
/** What the list shows for each query: ids in order with their merged counters. */
const answers = async (store: TandemStore) => Promise.all(QUERIES.map(async (q) => (await store.listSessions(P, q)).sessions
  .map((s) => `${s.sessionId} ${s.userId} e${s.errorCount} n${s.eventCount} d${s.durationMs} p${s.pageCount}`)));

beforeAll(async () => {
  driver = createChdbDriver(dir);
  await migrateUpTo10();
  for (const t of ['sessions', 'session_search', 'session_attrs']) await driver.command(`SYSTEM STOP MERGES ${DB}.${t}`);
  old = createStore(driver, { database: DB });
  await record(old, 's-1', 3, { user: 'ann@example.com', error: true });
  await record(old, 's-2', 5, { firefox: true, error: true });
  await record(old, 's-3', 2);
  await record(old, 's-4', 4, { user: 'bob@example.com', firefox: true });
}, 120_000);

afterAll(async () => {
  await driver?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('migration 11 on an existing install', () => {
  it('rebuilds session_search with small granules, keeping every delta row once; the list answers as before', async () => {
    expect(await granuleRows(driver, ddl, 'session_search')).toBe(8192);
    expect(await deltaRows()).toBeGreaterThanOrEqual(14); // unmerged: a delta per flush
    const totalsBefore = await totals();
    expect(Number(totalsBefore.events)).toBeGreaterThan(20);
    // The old install has no session_facets (migration 16) and no attr_keys (migration 20): its answers without them.
    (process.env.TANDEM_SEARCH_FACETS = '0'), (process.env.TANDEM_SEARCH_ATTR_KEYS = '0');
    const before = await answers(old).finally(() => (delete process.env.TANDEM_SEARCH_FACETS, delete process.env.TANDEM_SEARCH_ATTR_KEYS));
    expect(before[1]).toHaveLength(1);
    expect(before[2]).toHaveLength(2);
    // Two backends starting together on the old install: one rebuilds, the other waits for it.
    const a = createStore(driver, { database: DB });
    const b = createStore(driver, { database: DB });
    await Promise.all([a.migrate(), b.migrate()]);
    expect(await granuleRows(driver, ddl, 'session_search')).toBe(SEARCH_GRANULE_ROWS);
    expect(await totals()).toEqual(totalsBefore);
    const [left] = await driver.query<{ n: string }>(
      `SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name LIKE 'session_search_v%'`, { db: DB });
    expect(Number(left.n)).toBe(0);
    // Migration 16's backfill: every delta row's facts (both backends copied them: max/min absorb the repeat), and
    // the answers of a browser with errors (session_facets' path) are the old path's.
    const [facets] = await driver.query<{ n: string; sessions: string }>(
      `SELECT count() AS n, uniqExact(started_at, sid) AS sessions FROM ${DB}.session_facets WHERE project_id = {p:String}`, { p: P });
    expect(Number(facets.sessions)).toBe(4);
    expect(Number(facets.n)).toBeGreaterThanOrEqual(await deltaRows());
    expect(await answers(a)).toEqual(before);
    // Migration 12 on the same upgrade: the n-gram indexes free text uses on session_attrs.
    const indexes = await driver.query<{ name: string }>(
      `SELECT name FROM system.data_skipping_indices WHERE database = {db:String} AND table = 'session_attrs' AND type = 'ngrambf_v1' ORDER BY name`, { db: DB });
    expect(indexes.map((i) => i.name)).toEqual(['browser_ng', 'device_ng', 'first_url_ng', 'os_ng', 'user_ng']);
    // Migrations 13 and 17: small compressed blocks for the re-check's scattered granule reads, one starting at every
    // granule (at most 8 KB).
    const [engine] = await driver.query<{ e: string }>(
      `SELECT engine_full AS e FROM system.tables WHERE database = {db:String} AND name = 'session_search'`, { db: DB });
    expect(engine.e).toContain(`min_compress_block_size = ${SEARCH_BLOCK_MIN_BYTES},`);
    expect(engine.e).toContain(`max_compress_block_size = ${SEARCH_BLOCK_BYTES}`);
    await a.migrate(); // applied once: a no-op
    expect(await totals()).toEqual(totalsBefore);
  }, 120_000);

  it('new deltas reach the rebuilt table, and the list agrees unmerged and merged', async () => {
    const store = createStore(driver, { database: DB });
    await driver.command(`SYSTEM STOP MERGES ${DB}.session_search`);
    const rowsBefore = await deltaRows();
    await record(store, 's-5', 3, { user: 'ann@example.com', error: true, firefox: true });
    expect(await deltaRows()).toBeGreaterThanOrEqual(rowsBefore + 4); // one per flush, merges stopped
    const unmerged = await answers(store);
    expect(unmerged[1].map((s) => s.split(' ')[0])).toEqual(['s-5', 's-1']);
    expect(unmerged[4].map((s) => s.split(' ')[0])).toEqual(['s-5', 's-2']);
    // Merged (the state background merges bring older sessions to): the same answers.
    for (const t of ['sessions', 'session_search', 'session_attrs', 'session_facets']) {
      await driver.command(`SYSTEM START MERGES ${DB}.${t}`);
      await driver.command(`OPTIMIZE TABLE ${DB}.${t} FINAL`);
    }
    expect(await deltaRows()).toBe(5);
    expect(await answers(store)).toEqual(unmerged);
  }, 120_000);
});
