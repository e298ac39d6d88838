import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChdbDriver, createStore, type Driver, type TandemStore } from '../src/index.js';
import { FIREFOX_UA, batch, identify, meta, moves, page, start } from './fixtures.js';

/**
 * Migration 10: `session_attrs` (one row per session, written by the writer) and the visited-page tables
 * (`page_texts`, `page_sessions`, kept by views on `page_visits`), which the sessions list's key step reads.
 */

const dir = mkdtempSync(join(tmpdir(), 'tandem-search-attrs-'));
const DB = 'tandem';
const P = 'p-attrs';
let driver: Driver;
let store: TandemStore;

beforeAll(async () => {
  driver = createChdbDriver(dir);
  store = createStore(driver, { database: DB });
  await store.migrate();
  // Unmerged, as writers leave them: a merge must not hide a second attribute row (or count the deltas as one).
  for (const t of ['sessions', 'session_search', 'session_attrs']) await driver.command(`SYSTEM STOP MERGES ${DB}.${t}`);
}, 60_000);

afterAll(async () => {
  await driver?.close();
  rmSync(dir, { recursive: true, force: true });
});

const attrRows = (sessionId: string) => driver.query<{ version: string; user_id: string; browser: string; first_url: string; visitor_id: string }>(
  `SELECT toString(version) AS version, user_id, browser, first_url, visitor_id FROM ${DB}.session_attrs
   WHERE project_id = {p:String} AND session_id = {s:String} ORDER BY version`, { p: P, s: sessionId });

/** A session of `flushes` separate flushes (a delta each), identified as `user` in the last one when given. */
async function record(sessionId: string, flushes: number, user?: string): Promise<void> {
  const t0 = Date.now() - 60_000;
  await store.startSession(start(P, sessionId, 'tab', { startedAt: t0, userAgent: FIREFOX_UA, url: 'https://shop.test/landing' }));
  await store.writeBatch(batch(P, sessionId, 'tab', [meta(0, t0, 'https://shop.test/landing'), page(1, t0 + 1, 'https://shop.test/blog/4321', 'Rare post')]));
  for (let i = 1; i < flushes; i++) await store.writeBatch(batch(P, sessionId, 'tab', moves(i * 10, 5, t0 + i * 1000)));
  if (user) await store.writeBatch(batch(P, sessionId, 'tab', [identify(flushes * 10, t0 + flushes * 1000, user)]));
}

describe('session_attrs: one row per session, written by the writer', () => {
  it('writes a row at the first flush, none for later flushes, and a new version when the user is identified', async () => {
    await record('s-plain', 5);
    await record('s-known', 4, 'alice@example.com');
    const [deltas] = await driver.query<{ n: string | number }>(
      `SELECT count() AS n FROM ${DB}.session_search WHERE project_id = {p:String} AND session_id = 's-plain'`, { p: P });
    expect(Number(deltas.n)).toBeGreaterThanOrEqual(2); // several deltas...
    const plain = await attrRows('s-plain');
    expect(plain).toHaveLength(1); // ...but one attribute row
    expect(plain[0]).toMatchObject({ user_id: '', browser: 'Firefox', first_url: 'https://shop.test/landing', visitor_id: 'visitor-1' });
    const known = await attrRows('s-known');
    expect(known.map((r) => r.user_id)).toEqual(['', 'alice@example.com']);
  });

  it('a restarted writer (a second store on the same data) does not write the row again', async () => {
    const again = createStore(driver, { database: DB });
    await again.writeBatch(batch(P, 's-plain', 'tab', moves(500, 3, Date.now())));
    await again.flush();
    expect(await attrRows('s-plain')).toHaveLength(1);
  });

  it('the list finds sessions through it: user id, browser, free text, visited page by title and URL', async () => {
    const ids = async (q: Parameters<TandemStore['listSessions']>[1]) => (await store.listSessions(P, q)).sessions.map((s) => s.sessionId).sort();
    expect(await ids({ userId: 'alice@example.com' })).toEqual(['s-known']);
    expect(await ids({ browser: 'firefox' })).toEqual(['s-known', 's-plain']);
    expect(await ids({ q: 'alice' })).toEqual(['s-known']);
    expect(await ids({ page: 'rare post' })).toEqual(['s-known', 's-plain']);
    expect(await ids({ url: 'blog/4321' })).toEqual(['s-known', 's-plain']);
    expect(await ids({ page: 'no such page' })).toEqual([]);
  });

  it('pages through a loose candidate set: older attribute versions match, the re-check drops them', async () => {
    const T = Date.now() - 3_600_000;
    const want: string[] = [];
    for (let i = 0; i < 24; i++) {
      const id = `s-loose-${String(i).padStart(2, '0')}`;
      const t0 = T + i * 10_000;
      await store.startSession(start(P, id, 'tab', { startedAt: t0, userAgent: FIREFOX_UA, url: 'https://shop.test/x' }));
      await store.writeBatch(batch(P, id, 'tab', [meta(0, t0, 'https://shop.test/x'), identify(1, t0 + 1, `tmpuser-${i}`)]));
      // Three in four are identified again: their first attribute row still says tmpuser (merges are stopped).
      if (i % 4 !== 0) await store.writeBatch(batch(P, id, 'tab', [identify(2, t0 + 2, `final-${i}`)]));
      else want.push(id);
    }
    const [stale] = await driver.query<{ n: string | number }>(
      `SELECT count() AS n FROM ${DB}.session_attrs WHERE project_id = {p:String} AND startsWith(user_id, 'tmpuser')`, { p: P });
    expect(Number(stale.n)).toBe(24);
    const got: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listSessions(P, { q: 'tmpuser', limit: 2, cursor });
      got.push(...page.sessions.map((s) => s.sessionId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(got).toEqual([...want].reverse());
  });
});

describe('migration 10 on an existing install', () => {
  it('backfills session_attrs from the merged deltas and the page tables from page_visits', async () => {
    await record('s-old', 3, 'bob@example.com');
    // The install as it was before migration 10: no new tables, version 10 not recorded.
    for (const v of ['page_texts_mv', 'page_sessions_mv']) await driver.command(`DROP VIEW ${DB}.${v}`);
    for (const t of ['session_attrs', 'page_texts', 'page_sessions']) await driver.command(`DROP TABLE ${DB}.${t}`);
    await driver.command(`ALTER TABLE ${DB}.schema_migrations DELETE WHERE version = 10 SETTINGS mutations_sync = 2`);
    const upgraded = createStore(driver, { database: DB });
    await upgraded.migrate();
    const old = await attrRows('s-old');
    expect(old).toHaveLength(1); // one row from all of the session's deltas, with the user id they set
    expect(old[0]).toMatchObject({ user_id: 'bob@example.com', browser: 'Firefox', first_url: 'https://shop.test/landing' });
    expect((await attrRows('s-plain')).map((r) => r.user_id)).toEqual(['']);
    const [texts] = await driver.query<{ n: string | number }>(
      `SELECT count() AS n FROM ${DB}.page_texts FINAL WHERE project_id = {p:String} AND text IN ('Rare post', 'https://shop.test/blog/4321')`, { p: P });
    expect(Number(texts.n)).toBe(2);
    const found = (await upgraded.listSessions(P, { page: 'blog/4321', userId: 'bob@example.com' })).sessions.map((s) => s.sessionId);
    expect(found).toEqual(['s-old']);
    // New sessions after the upgrade are written by the views and the writer as before.
    await record('s-new', 2);
    await upgraded.flush();
    expect((await upgraded.listSessions(P, { page: 'rare post' })).sessions.map((s) => s.sessionId).sort()).toEqual(['s-known', 's-new', 's-old', 's-plain']);
  });
});
