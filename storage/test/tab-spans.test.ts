import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openStore, type TandemStore } from '../src/index.js';
import { batch, fullSnapshot, meta, moves, start, uid } from './fixtures.js';

/**
 * Migration 19: each tab's first/last event and distinct event count come from `tab_spans` (kept by a
 * view on `events`, backfilled for what was stored before), so getSession reads no events. The answer
 * must stay the events scan's: min(ts), max(ts), uniqExact(seq) per tab, duplicates and all.
 */
const dir = mkdtempSync(join(tmpdir(), 'tandem-tab-spans-'));
let store: TandemStore;
const projectId = uid('p');
const sessionId = uid('s');
const [tab1, tab2] = [uid('t1'), uid('t2')];
const T = Date.now() - 3_600_000;

/** What getSession said before migration 19: the tab's events scanned. */
async function scanned(): Promise<{ tabId: string; startedAt: number; endedAt: number; eventCount: number }[]> {
  const rows = await store.driver.query<{ tab_id: string; s: number | string; e: number | string; n: number | string }>(
    `SELECT tab_id, toUnixTimestamp64Milli(min(ts)) AS s, toUnixTimestamp64Milli(max(ts)) AS e, uniqExact(seq) AS n
     FROM tandem.events WHERE project_id = {p:String} AND session_id = {s:String} GROUP BY tab_id ORDER BY s, tab_id`,
    { p: projectId, s: sessionId },
  );
  return rows.map((r) => ({ tabId: r.tab_id, startedAt: Number(r.s), endedAt: Number(r.e), eventCount: Number(r.n) }));
}

beforeAll(async () => {
  store = await openStore({ dataDir: dir, maxDelayMs: 20 });
  await store.startSession(start(projectId, sessionId, tab1, { startedAt: T }));
  await store.writeBatch(batch(projectId, sessionId, tab1, [meta(0, T, 'https://shop.test/'), fullSnapshot(1, T + 1), ...moves(2, 30, T + 10)]));
  await store.writeBatch(batch(projectId, sessionId, tab1, moves(32, 20, T + 5_000)));
  await store.startSession(start(projectId, sessionId, tab2, { startedAt: T + 2_000 }));
  await store.writeBatch(batch(projectId, sessionId, tab2, [meta(0, T + 2_000, 'https://shop.test/b'), fullSnapshot(1, T + 2_001), ...moves(2, 5, T + 2_010)]));
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('tab spans (migration 19)', () => {
  it("gives getSession each tab's span and distinct events without reading the events", async () => {
    const query = vi.spyOn(store.driver, 'query');
    const detail = await store.getSession(projectId, sessionId);
    const sql = query.mock.calls.map(([text]) => String(text)).join('\n');
    query.mockRestore();
    expect(sql).toMatch(/tandem\.tab_spans/);
    expect(sql).not.toMatch(/tandem\.events\b/);
    expect(detail?.tabs).toEqual([
      { tabId: tab1, startedAt: T, endedAt: T + 5_019, eventCount: 52 },
      { tabId: tab2, startedAt: T + 2_000, endedAt: T + 2_014, eventCount: 7 },
    ]);
    expect(detail?.tabs).toEqual(await scanned());
  });

  it('counts rows stored twice once, and events received on another day with the rest of the tab', async () => {
    // A copy of tab 2's rows (what a second backend could store again), and later events of tab 1 received
    // yesterday (another partition of both tables: the day is part of the view's grouping).
    await store.driver.command(`INSERT INTO tandem.events SELECT * FROM tandem.events WHERE project_id = {p:String} AND tab_id = {t:String}`, { p: projectId, t: tab2 });
    await store.driver.command(
      `INSERT INTO tandem.events SELECT * REPLACE (seq + 100 AS seq, ts + INTERVAL 20 SECOND AS ts, received_at - INTERVAL 1 DAY AS received_at)
       FROM (SELECT * FROM tandem.events WHERE project_id = {p:String} AND tab_id = {t:String} AND seq < 10)`,
      { p: projectId, t: tab1 },
    );
    const detail = await store.getSession(projectId, sessionId);
    expect(detail?.tabs.map((t) => [t.tabId, t.eventCount])).toEqual([[tab1, 62], [tab2, 7]]);
    expect(detail?.tabs).toEqual(await scanned());
  });

  it('is backfilled from the events stored before the migration', async () => {
    const before = await scanned();
    // As before migration 19: no table, no view, no record of it; then the store opens (and migrates) again.
    await store.driver.command('DROP VIEW IF EXISTS tandem.tab_spans_mv');
    await store.driver.command('DROP TABLE IF EXISTS tandem.tab_spans');
    await store.driver.command('DELETE FROM tandem.schema_migrations WHERE version = 19');
    await store.migrate();
    const detail = await store.getSession(projectId, sessionId);
    expect(detail?.tabs).toEqual(before);
    expect(detail?.tabs.map((t) => t.eventCount)).toEqual([62, 7]);
    // and the view is back: a new batch counts.
    await store.writeBatch(batch(projectId, sessionId, tab2, moves(7, 3, T + 3_000)));
    expect((await store.getSession(projectId, sessionId))?.tabs.find((t) => t.tabId === tab2)).toEqual({ tabId: tab2, startedAt: T + 2_000, endedAt: T + 3_002, eventCount: 10 });
  });
});
