import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TandemEvent } from '@tandem/protocol';
import { createRemoteDriver, openStore, type TandemStore } from '../src/index.js';
import { spawnChdbHttpServer, type SpawnedChdbHttpServer } from '../testing/index.js';
import { batch, click, consoleLog, identify, jsError, meta, mouseMove, page, start, uid } from './fixtures.js';

/**
 * Two backend instances on one store: two stores, each with its own @clickhouse/client, writer and
 * caches, on the ClickHouse-HTTP stand-in (its own process), writing tabs of ONE session at the same
 * time. Session counters are summed by ClickHouse from each writer's deltas (migration 6), so both agree
 * on every count, and so does a third instance started afterwards with empty caches.
 */
const dir = mkdtempSync(join(tmpdir(), 'tandem-shared-'));
const database = `tandem_shared_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
let server: SpawnedChdbHttpServer;
const stores: TandemStore[] = [];
const open = async () => {
  const s = await openStore({ clickhouseUrl: server.url, database, maxDelayMs: 10 });
  stores.push(s);
  return s;
};

beforeAll(async () => {
  server = await spawnChdbHttpServer({ dataDir: join(dir, 'data') });
}, 60_000);
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close().catch(() => {})));
  const d = createRemoteDriver(server.url);
  await d.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
  await d.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** A round of one tab: 8 events with 1 click, 1 console error, 1 JS error and (every 3rd round) a page. */
function round(tab: string, r: number, T: number): TandemEvent[] {
  const seq = r * 8;
  const ts = T + r * 100 + (tab === 't2' ? 50 : 0);
  return [
    r === 0 ? meta(seq, ts, `https://shop.test/${tab}`) : mouseMove(seq, ts),
    click(seq + 1, ts + 1), mouseMove(seq + 2, ts + 2),
    consoleLog(seq + 3, ts + 3, 'error', `boom ${tab} ${r}`), consoleLog(seq + 4, ts + 4, 'log', 'fine'),
    jsError(seq + 5, ts + 5, `err ${tab} ${r}`),
    r % 3 === 2 ? page(seq + 6, ts + 6, `https://shop.test/${tab}/page-${r}`, `P${r}`) : mouseMove(seq + 6, ts + 6),
    mouseMove(seq + 7, ts + 7),
  ];
}

describe('session counters with two backend instances on one store', () => {
  it('migrates once when both instances start on a fresh database at the same moment', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    const rows = await a.driver.query<{ version: number; engine?: string }>(
      `SELECT version FROM ${database}.schema_migrations FINAL ORDER BY version`);
    expect(rows.map((r) => Number(r.version))).toContain(6);
    const engines = await b.driver.query<{ name: string; engine: string }>(
      `SELECT name, engine FROM system.tables WHERE database = {db:String} AND name IN ('sessions', 'session_search') ORDER BY name`, { db: database });
    expect(engines).toEqual([{ name: 'session_search', engine: 'AggregatingMergeTree' }, { name: 'sessions', engine: 'AggregatingMergeTree' }]);
    // No table of the conversion is left behind (the lock, the old or the half-built ones).
    const names = await a.driver.query<{ name: string }>(`SELECT name FROM system.tables WHERE database = {db:String} AND (name LIKE '%\\_v_' OR name LIKE 'migration%')`, { db: database });
    expect(names).toEqual([]);
  });

  it('agree on every count when each writes its own tab of one session concurrently', async () => {
    const [a, b] = stores;
    const p = uid('p');
    const T = Date.now() - 60_000;
    await Promise.all([
      a.startSession(start(p, 's', 't1', { startedAt: T - 10, url: 'https://shop.test/t1' })),
      b.startSession(start(p, 's', 't2', { startedAt: T - 10, url: 'https://shop.test/t1' })),
    ]);
    const ROUNDS = 12;
    for (let r = 0; r < ROUNDS; r++) {
      const extraB = r === 7 ? [identify(r * 8 + 8, T + r * 100 + 60, 'alice')] : [];
      const bEvents = [...round('t2', r, T), ...extraB];
      await Promise.all([
        a.writeBatch(batch(p, 's', 't1', round('t1', r, T).map((e) => (r >= 8 ? { ...e, seq: e.seq + 1 } : e)))),
        b.writeBatch(batch(p, 's', 't2', r > 7 ? bEvents.map((e) => ({ ...e, seq: e.seq + 1 })) : bEvents)),
      ]);
    }
    // A's tab has the last page visit of the session (round 11 is on both; A's is 50 ms earlier, so
    // visit one more page on A last).
    const lastTs = T + ROUNDS * 100 + 500;
    await a.writeBatch(batch(p, 's', 't1', [page(ROUNDS * 8 + 1, lastTs, 'https://shop.test/t1/checkout', 'Checkout')]));
    await Promise.all([a.flush(), b.flush()]);

    const perTab = ROUNDS * 8;
    const expected = {
      eventCount: perTab * 2 + 1 /* identify */ + 1 /* last page */,
      clickCount: ROUNDS * 2, errorCount: ROUNDS * 2, consoleErrorCount: ROUNDS * 2,
      // Meta of each tab (t1's URL is the start URL: a visit, t2's differs: a visit), 4 page events per tab, checkout.
      pageCount: 2 + 4 * 2 + 1,
      tabCount: 2, userId: 'alice', firstUrl: 'https://shop.test/t1', lastUrl: 'https://shop.test/t1/checkout',
      startedAt: T - 10, endedAt: lastTs, durationMs: lastTs - T,
    };
    const fromA = await a.getSession(p, 's');
    const fromB = await b.getSession(p, 's');
    expect(fromA).toMatchObject(expected);
    expect(fromB).toMatchObject(expected);
    // What the events say, as a cross-check of the counters.
    expect(fromA!.tabs.reduce((n, t) => n + t.eventCount, 0)).toBe(expected.eventCount);
    // The list (session_search, fed by the view from the same deltas) says the same, on both instances.
    for (const s of [a, b]) {
      const list = await s.listSessions(p, {});
      expect(list.sessions).toHaveLength(1);
      expect(list.sessions[0]).toMatchObject(expected);
      expect((await s.listSessions(p, { hasErrors: true, minDuration: expected.durationMs })).sessions.map((x) => x.sessionId)).toEqual(['s']);
      expect((await s.listSessions(p, { userId: 'alice' })).sessions.map((x) => x.sessionId)).toEqual(['s']);
    }
    const stats = await a.sessionStats(p, { from: T - 86_400_000, to: Date.now() + 60_000, tz: 'UTC' });
    expect(stats.days.reduce((n, d) => n + d.errors, 0)).toBe(expected.errorCount);

    // A third instance with empty caches carries on one tab: its deltas add to the same totals.
    const c = await open();
    expect(await c.getAckSeq(p, 's', 't2')).toBe(perTab);
    await c.writeBatch(batch(p, 's', 't2', [click(perTab + 1, lastTs + 10), jsError(perTab + 2, lastTs + 11, 'late')]));
    await c.flush();
    for (const s of [a, b, c]) {
      expect(await s.getSession(p, 's')).toMatchObject({
        ...expected, eventCount: expected.eventCount + 2, clickCount: expected.clickCount + 1, errorCount: expected.errorCount + 1,
        endedAt: lastTs + 11, durationMs: lastTs + 11 - T,
      });
    }
  });

  it('count a batch once when a second instance writes it again (a failover re-send, a stale ackSeq)', async () => {
    const [a, b] = stores;
    const p = uid('p');
    const T = Date.now() - 60_000;
    // B looks at the tab first (as a node does when the tab's `start` reaches it): B caches ackSeq -1.
    expect(await b.getAckSeq(p, 's', 't')).toBe(-1);
    const first = [meta(0, T, 'https://shop.test/'), click(1, T + 1), consoleLog(2, T + 2, 'error', 'x'), jsError(3, T + 3, 'e'),
      page(4, T + 4, 'https://shop.test/cart', 'Cart'), mouseMove(5, T + 5)];
    await a.startSession(start(p, 's', 't', { startedAt: T, url: 'https://shop.test/' }));
    expect(await a.writeBatch(batch(p, 's', 't', first))).toBe(5);
    const once = { eventCount: 6, clickCount: 1, consoleErrorCount: 1, errorCount: 1, pageCount: 2, tabCount: 1 };
    expect(await a.getSession(p, 's')).toMatchObject(once);

    // A's ack never reached the tab (A was killed): the tab re-sends the batch through B, whose cache
    // still says nothing is stored. Events collapse in `events`; the counters must not add it again.
    const dropped = b.stats.eventsAlreadyStored;
    expect(await b.writeBatch(batch(p, 's', 't', first))).toBe(5);
    expect(b.stats.eventsAlreadyStored - dropped).toBe(6);
    // A writes on (B's cached ackSeq, 5, is stale again), then B gets a batch that overlaps it: 6 and 7
    // were stored by A, 8 and 9 are new. Only the new ones count.
    expect(await a.writeBatch(batch(p, 's', 't', [click(6, T + 6), jsError(7, T + 7, 'f')]))).toBe(7);
    expect(await b.writeBatch(batch(p, 's', 't', [click(6, T + 6), jsError(7, T + 7, 'f'), click(8, T + 8), mouseMove(9, T + 9)]))).toBe(9);
    expect(b.stats.eventsAlreadyStored - dropped).toBe(8);
    const total = { ...once, eventCount: 10, clickCount: 3, errorCount: 2 };
    for (const s of [a, b]) {
      expect(await s.getSession(p, 's')).toMatchObject(total);
      expect((await s.listSessions(p, {})).sessions).toEqual([expect.objectContaining(total)]);
    }
  });

  it('list the newest matches by keys first and re-check them on merged values (a user id that changed)', async () => {
    const [a] = stores;
    const p = uid('p');
    const T = Date.now() - 60_000;
    // `old` is alice's throughout; `changed` was alice in its first flush and bob in a later one: some
    // delta row of it says alice, the merged session says bob.
    for (const [s, at] of [['older', T - 1000], ['old', T], ['changed', T + 1000]] as const) {
      await a.startSession(start(p, s, 't', { startedAt: at, url: 'https://shop.test/' }));
      await a.writeBatch(batch(p, s, 't', [meta(0, at, 'https://shop.test/'), identify(1, at + 1, 'alice')]));
    }
    await a.writeBatch(batch(p, 'changed', 't', [identify(2, T + 1002, 'bob')]));
    expect((await a.getSession(p, 'changed'))?.userId).toBe('bob');
    const ids = async (q: Parameters<TandemStore['listSessions']>[1]) => (await a.listSessions(p, q)).sessions.map((x) => x.sessionId);
    // limit 1 (2 keys asked: one more tells whether there is a next page): the newest key (changed) is
    // dropped by the re-check, so the reader asks for the next keys to fill the page and its "more" row.
    const first = await a.listSessions(p, { userId: 'alice', limit: 1 });
    expect(first.sessions.map((x) => x.sessionId)).toEqual(['old']);
    expect(first.nextCursor).not.toBeNull();
    expect(await ids({ userId: 'alice', limit: 1, cursor: first.nextCursor! })).toEqual(['older']);
    expect(await ids({ userId: 'alice' })).toEqual(['old', 'older']);
    expect(await ids({ userId: 'bob' })).toEqual(['changed']);
    expect(await ids({ q: 'alice' })).toEqual(['old', 'older']);
    expect(await ids({})).toEqual(['changed', 'old', 'older']);
  });
});

