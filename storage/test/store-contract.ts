import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TandemEvent } from '@tandem/protocol';
import { MIGRATIONS, createStore, renderMigration, type StoredCallRecording, type TandemStore } from '../src/index.js';
import {
  FIREFOX_UA, batch, click, collect, consoleLog, custom, fullSnapshot, identify, jsError, meta, mouseMove, moves, network, page, start, uid,
} from './fixtures.js';

/**
 * The Store contract, registered once per driver. Tests share one store (opening chDB is slow and one
 * data directory per process is allowed) and stay apart with fresh project ids, so the suite also runs
 * against a shared ClickHouse server.
 */
export interface ContractHarness {
  /** Database the store uses (tests read schema_migrations and rename a table in it). */
  database: string;
  /** Opens the store; called again after close() to check that data survives (same dir or database). */
  open(): Promise<TandemStore>;
  /** Removes what the suite created. */
  destroy(): Promise<void>;
}

const lines = (events: TandemEvent[]) => events.map((e) => JSON.stringify(e));

export function storeContract(label: string, makeHarness: () => ContractHarness): void {
  describe(`Store contract on ${label}`, () => {
    let h: ContractHarness;
    let store: TandemStore;

    // Opening chDB and applying every migration takes a few seconds, far more on a loaded shared machine.
    beforeAll(async () => {
      h = makeHarness();
      store = await h.open();
    }, 60_000);
    afterAll(async () => {
      await store?.close();
      await h?.destroy();
    }, 60_000);

    it('applies each migration once, however often migrate runs', async () => {
      await store.migrate();
      await store.migrate();
      const rows = await store.driver.query<{ version: number; n: string | number }>(
        `SELECT version, count() AS n FROM ${h.database}.schema_migrations GROUP BY version ORDER BY version`);
      expect(rows.map((r) => [Number(r.version), Number(r.n)])).toEqual(MIGRATIONS.map((m) => [m.version, 1]));
    });

    it('upgrades a database made by the first schema, keeping its projects and agents', async () => {
      const db = `tandem_upgrade_${Math.floor(Math.random() * 1e9)}`;
      const d = store.driver;
      await d.command(`CREATE DATABASE IF NOT EXISTS ${db}`);
      try {
        await d.command(`CREATE TABLE ${db}.schema_migrations (version UInt32, name String, applied_at DateTime64(3, 'UTC'))
          ENGINE = ReplacingMergeTree ORDER BY version`);
        for (const sql of renderMigration(MIGRATIONS[0], { db, days: 30 })) await d.command(sql);
        await d.command(`INSERT INTO ${db}.schema_migrations VALUES (1, 'initial schema', now64(3))`);
        await d.command(`INSERT INTO ${db}.projects (id, name, key, allowed_origins, created_at, version)
          VALUES ('p1', 'Old', 'pk_old', ['https://old.test'], '2024-01-01 00:00:00.000', 1)`);
        await d.command(`INSERT INTO ${db}.agents (id, project_id, email, name, role, password_hash, created_at, disabled, version)
          VALUES ('a1', 'p1', 'old@x.test', 'Old', 'admin', 'h', '2024-01-01 00:00:00.000', 0, 1)`);
        await d.command(`INSERT INTO ${db}.sessions (project_id, session_id, version, updated_at, user_id, started_at, first_url, browser)
          VALUES ('p1', 'old-session', 1, now64(3), 'old-user', now64(3) - INTERVAL 2 DAY, 'https://old.test/pricing', 'Firefox')`);
        const upgraded = createStore(d, { database: db });
        await upgraded.migrate();
        // Migration 4 copies existing sessions into the search table: the list still finds them.
        expect((await upgraded.listSessions('p1', { url: 'pricing', browser: 'firefox' })).sessions.map((x) => x.userId)).toEqual(['old-user']);
        expect(await upgraded.getProject('p1')).toMatchObject({ name: 'Old', allowedOrigins: ['https://old.test'], requireConsent: false, canvasRecording: 'off' });
        expect((await upgraded.listAgents('p1')).map((a) => a.email)).toEqual(['old@x.test']);
        expect(await upgraded.listApiKeys('p1')).toEqual([]);
      } finally {
        await d.command(`DROP DATABASE IF EXISTS ${db}`);
      }
    });

    it('migration 8 on an existing install: events recompressed at rest, no statistics, every event read back as written', async () => {
      const db = `tandem_rest_${Math.floor(Math.random() * 1e9)}`;
      const d = store.driver;
      await d.command(`CREATE DATABASE IF NOT EXISTS ${db}`);
      try {
        // An install at migration 6, holding a session written before the upgrade.
        const old = createStore(d, { database: db, maxDelayMs: 0 });
        const migrations = MIGRATIONS.splice(MIGRATIONS.findIndex((m) => m.version === 8), 1);
        try {
          await old.migrate();
        } finally {
          MIGRATIONS.push(...migrations);
          MIGRATIONS.sort((a, b) => a.version - b.version);
        }
        const p = uid('p');
        const T = Date.now();
        const before = [meta(0, T, 'https://a.test/'), fullSnapshot(1, T + 1), ...moves(2, 5, T + 2)];
        await old.writeBatch(batch(p, 's', 't', before));
        await old.flush();
        expect(await d.query(`SELECT value FROM system.merge_tree_settings WHERE name = 'auto_statistics_types'`)).toHaveLength(1);

        // The upgrade (default delay: an hour). Fresh parts stay at ZSTD(3), the cost of an insert.
        const upgraded = createStore(d, { database: db, maxDelayMs: 0 });
        await upgraded.migrate();
        const after = [click(7, T + 7), ...moves(8, 3, T + 8)];
        await upgraded.writeBatch(batch(p, 's', 't', after));
        await upgraded.flush();
        const [create] = await d.query<{ statement: string }>(`SHOW CREATE TABLE ${db}.events`);
        expect(create.statement).toMatch(/auto_statistics_types = ''/);
        expect(create.statement).toMatch(/toIntervalMinute\(60\) RECOMPRESS CODEC\(ZSTD\(19\)\)/);
        expect(create.statement).not.toMatch(/`data` String CODEC/);
        expect(create.statement).toMatch(/`ts` DateTime64\(3, 'UTC'\) CODEC\(DoubleDelta, ZSTD\(1\)\)/);
        expect(create.statement).toMatch(/string_serialization_version = 'single_stream'/);
        // Codec and setting changes rewrite nothing that is stored.
        expect(await d.query(`SELECT 1 FROM system.mutations WHERE database = {db:String} AND table = 'events'`, { db })).toEqual([]);
        const codecs = async () => (await d.query<{ codec: string }>(
          `SELECT default_compression_codec AS codec FROM system.parts WHERE database = {db:String} AND table = 'events' AND active`, { db })).map((r) => r.codec);
        expect(await codecs()).toContain('ZSTD(3)');
        // A start with another delay moves the rule (0 here: every part is "an hour old"); the next merge applies it.
        await createStore(d, { database: db, recompressAfterMinutes: 0 }).migrate();
        await d.command(`OPTIMIZE TABLE ${db}.events FINAL`);
        expect(await codecs()).toEqual(['ZSTD(19)']);
        const [moved] = await d.query<{ statement: string }>(`SHOW CREATE TABLE ${db}.events`);
        expect(moved.statement).toMatch(/toIntervalMinute\(0\) RECOMPRESS CODEC\(ZSTD\(19\)\), received_at \+ toIntervalDay\(30\)/);
        expect(await collect(upgraded.streamEvents(p, 's'))).toEqual(lines([...before, ...after]));
        expect((await upgraded.getKeyframes(p, 's')).map((k) => k.seq)).toEqual([1]);
      } finally {
        await d.command(`DROP DATABASE IF EXISTS ${db}`);
      }
    });

    it('streams written events back as the exact JSON, ordered by tab then seq', async () => {
      const p = uid('p');
      const T = Date.now();
      // Text the drivers must not mangle: tabs, newlines, backslashes, quotes, non-BMP characters.
      const tricky = { type: 5, seq: 2, timestamp: T + 2, data: { tag: 'x', payload: 'a\tb\nc\\d"e\u2028🎉 é' } } as unknown as TandemEvent;
      const tabA = [meta(0, T, 'https://a.test/'), fullSnapshot(1, T + 1), tricky, click(3, T + 3)];
      const tabB = [meta(0, T + 5, 'https://a.test/other'), fullSnapshot(1, T + 6)];
      await store.startSession(start(p, 's', 'tab-b'));
      await Promise.all([
        store.writeBatch(batch(p, 's', 'tab-b', tabB)),
        store.writeBatch(batch(p, 's', 'tab-a', tabA.slice(0, 2))),
      ]);
      expect(await store.writeBatch(batch(p, 's', 'tab-a', tabA.slice(2)))).toBe(3);
      expect(await collect(store.streamEvents(p, 's'))).toEqual([...lines(tabA), ...lines(tabB)]);
      expect(await collect(store.streamEvents(p, 's', { tabId: 'tab-b' }))).toEqual(lines(tabB));
      expect(await collect(store.streamEvents(p, 's', { tabId: 'tab-a', fromTs: T + 1, toTs: T + 2 }))).toEqual(lines(tabA.slice(1, 3)));
      expect(await collect(store.streamEvents(p, 's', { tabId: 'tab-a', fromSeq: 2 }))).toEqual(lines(tabA.slice(2)));
    });

    it('serves seq ranges, limits and keyframes: what a seek asks for', async () => {
      const p = uid('p');
      const T = Date.now();
      // Two checkouts (Meta + FullSnapshot at 0/1 and 6/7) and one FullSnapshot without a Meta before it
      // in the second tab (an import may have that).
      const tabA = [meta(0, T, 'https://a.test/'), fullSnapshot(1, T + 10), ...moves(2, 4, T + 20), meta(6, T + 60, 'https://a.test/'), fullSnapshot(7, T + 70), ...moves(8, 4, T + 80)];
      const tabB = [fullSnapshot(0, T + 5), ...moves(1, 2, T + 15)];
      await store.writeBatch(batch(p, 's', 'tab-a', tabA));
      await store.writeBatch(batch(p, 's', 'tab-b', tabB));
      const seqs = async (opts: Parameters<TandemStore['streamEvents']>[2]) =>
        (await collect(store.streamEvents(p, 's', opts))).map((l) => JSON.parse(l).seq);
      expect(await seqs({ tabId: 'tab-a', fromSeq: 6, toSeq: 9 })).toEqual([6, 7, 8, 9]);
      expect(await seqs({ tabId: 'tab-a', fromSeq: 3, limit: 2 })).toEqual([3, 4]);
      expect(await seqs({ tabId: 'tab-a', fromSeq: 6, toTs: tabA[9].timestamp })).toEqual([6, 7, 8, 9]);
      // Without tabId, bounds and limit apply across tabs in (tab, seq) order.
      expect(await seqs({ toSeq: 1 })).toEqual([0, 1, 0, 1]);
      expect(await seqs({ limit: 13 })).toEqual([...tabA.map((e) => e.seq), 0]);
      expect(await seqs({ limit: 0 })).toEqual([]);
      const kfA = [
        { tabId: 'tab-a', seq: 1, ts: T + 10, metaSeq: 0, metaTs: T },
        { tabId: 'tab-a', seq: 7, ts: T + 70, metaSeq: 6, metaTs: T + 60 },
      ];
      const kfB = { tabId: 'tab-b', seq: 0, ts: T + 5, metaSeq: -1, metaTs: T + 5 };
      expect(await store.getKeyframes(p, 's', 'tab-a')).toEqual(kfA);
      expect(await store.getKeyframes(p, 's')).toEqual([kfB, ...kfA]);
      expect((await store.getSession(p, 's'))?.keyframes).toEqual([kfB, ...kfA]);
      expect(await store.getKeyframes(uid('other'), 's')).toEqual([]);
    });

    it('streams sessions longer than one read page completely and in order', async () => {
      const p = uid('p');
      const events = moves(0, 4_500, Date.now());
      expect(await store.writeBatch(batch(p, 's', 't', events))).toBe(4_499);
      const out = await collect(store.streamEvents(p, 's'));
      expect(out.length).toBe(4_500);
      expect(out.map((l) => JSON.parse(l).seq)).toEqual(events.map((e) => e.seq));
    });

    it('stores a retried or overlapping batch once and acks the highest stored seq', async () => {
      const p = uid('p');
      const T = Date.now();
      const first = [meta(0, T, 'https://d.test/'), ...moves(1, 8, T + 1), consoleLog(9, T + 9, 'warn', 'w')];
      const dropped = store.stats.eventsDropped;
      expect(await store.writeBatch(batch(p, 's', 't', first))).toBe(9);
      expect(await store.writeBatch(batch(p, 's', 't', first))).toBe(9);
      const overlap = [...first.slice(5), ...moves(10, 5, T + 10)];
      // The same retry twice at once: both wait for the one write and agree on the ack.
      expect(await Promise.all([
        store.writeBatch(batch(p, 's', 't', overlap)),
        store.writeBatch(batch(p, 's', 't', overlap)),
      ])).toEqual([14, 14]);
      expect(store.stats.eventsDropped - dropped).toBe(10 + 5 + 10); // retry, then 5 old of the overlap, then all 10
      expect(await store.getAckSeq(p, 's', 't')).toBe(14);
      const seqs = (await collect(store.streamEvents(p, 's'))).map((l) => JSON.parse(l).seq);
      expect(seqs).toEqual(Array.from({ length: 15 }, (_, i) => i));
      expect(await store.getConsole(p, 's')).toHaveLength(1);
      const detail = await store.getSession(p, 's');
      expect(detail?.eventCount).toBe(15);
      expect(detail?.tabs).toEqual([{ tabId: 't', startedAt: T, endedAt: T + 14, eventCount: 15 }]);
    });

    it('accepts a batch in any order and stores it ordered by seq', async () => {
      const p = uid('p');
      const T = Date.now();
      const events = [meta(0, T, 'https://d.test/'), ...moves(1, 6, T + 1)];
      const shuffled = [events[4], events[0], events[6], events[2], events[1], events[5], events[3]];
      expect(await store.writeBatch(batch(p, 's', 't', shuffled))).toBe(6);
      expect(await collect(store.streamEvents(p, 's'))).toEqual(lines(events));
    });

    it('derives panels, pages, keyframes and session counters from the events', async () => {
      const p = uid('p');
      const T = Date.now();
      await store.startSession(start(p, 's', 't1', { startedAt: T - 100, userId: 'guest-1' }));
      await store.startSession(start(p, 's', 't2', { userAgent: FIREFOX_UA }));
      await store.writeBatch(batch(p, 's', 't1', [
        meta(0, T, 'https://shop.test/'), fullSnapshot(1, T + 1), click(2, T + 2), mouseMove(3, T + 3),
        consoleLog(4, T + 4, 'error', 'boom', '{"a":1}'), consoleLog(5, T + 5, 'log', 'hi'),
        jsError(6, T + 6, 'x is undefined'), network(7, T + 7, 'https://api.test/cart', 500),
        identify(8, T + 8, 'alice'), page(9, T + 9, 'https://shop.test/cart', 'Cart'),
        meta(10, T + 10, 'https://shop.test/cart'), // a checkout repeats Meta on the same page: not a visit
      ]));
      // FullSnapshot in the next batch: its Meta (seq 10) came in the previous one.
      await store.writeBatch(batch(p, 's', 't1', [fullSnapshot(11, T + 11), click(12, T + 12)]));
      await store.writeBatch(batch(p, 's', 't2', [meta(0, T + 20, 'https://shop.test/help'), fullSnapshot(1, T + 21)]));

      expect(await store.getConsole(p, 's')).toEqual([
        { tabId: 't1', seq: 4, ts: T + 4, level: 'error', message: 'boom {"a":1}', trace: 'at f (app.js:1:2)' },
        { tabId: 't1', seq: 5, ts: T + 5, level: 'log', message: 'hi', trace: 'at f (app.js:1:2)' },
      ]);
      expect(await store.getErrors(p, 's')).toEqual([{
        tabId: 't1', seq: 6, ts: T + 6, kind: 'error', name: 'TypeError', message: 'x is undefined',
        stack: 'TypeError: x\n  at a.js:1:1', source: 'https://s/a.js', line: 1, column: 7,
      }]);
      expect(await store.getNetwork(p, 's')).toEqual([{
        tabId: 't1', seq: 7, ts: T + 2, kind: 'fetch', method: 'POST', url: 'https://api.test/cart', status: 500,
        durationMs: 42, requestBytes: 10, responseBytes: 200, error: '',
      }]);
      const s = await store.getSession(p, 's');
      expect(s).toMatchObject({
        sessionId: 's', projectId: p, userId: 'alice', visitorId: 'visitor-1', startedAt: T - 100, endedAt: T + 21,
        durationMs: 21, firstUrl: 'https://shop.test/', lastUrl: 'https://shop.test/help', pageCount: 3, eventCount: 15,
        errorCount: 1, consoleErrorCount: 1, clickCount: 2, tabCount: 2, browser: 'Chrome', browserVersion: '120.0.0.0',
        os: 'Windows 10', device: 'desktop', screen: '1280x720',
      });
      expect(s?.pages).toEqual([
        { tabId: 't1', ts: T, url: 'https://shop.test/', title: '' },
        { tabId: 't1', ts: T + 9, url: 'https://shop.test/cart', title: 'Cart' },
        { tabId: 't2', ts: T + 20, url: 'https://shop.test/help', title: '' },
      ]);
      expect(s?.keyframes).toEqual([
        { tabId: 't1', seq: 1, ts: T + 1, metaSeq: 0, metaTs: T },
        { tabId: 't1', seq: 11, ts: T + 11, metaSeq: 10, metaTs: T + 10 },
        { tabId: 't2', seq: 1, ts: T + 21, metaSeq: 0, metaTs: T + 20 },
      ]);
      expect(s?.tabs.map((t) => [t.tabId, t.eventCount])).toEqual([['t1', 13], ['t2', 2]]);
      // All of it in one storage call: a share link's open waits for the detail, and each call queues on
      // the driver's connection behind what other pages asked for meanwhile.
      const calls: string[] = [];
      const driver = store.driver;
      const query = driver.query;
      driver.query = function (this: unknown, ...args: Parameters<typeof query>) {
        calls.push(String(args[0]).slice(0, 60));
        return query.apply(this, args);
      } as typeof query;
      try {
        expect(await store.getSession(p, 's')).toEqual(s);
        expect(await store.getSession(p, 'no-such-session')).toBeNull();
      } finally {
        driver.query = query;
      }
      expect(calls).toHaveLength(2);
    });

    describe('listSessions', () => {
      const p = uid('p');
      const T = Date.now() - 3_600_000;
      beforeAll(async () => {
        // s1: alice, errors, 10 s. s2: started as 'temp', identified as bob later, visits /checkout in
        // the middle only. s3: Firefox, no events.
        await store.startSession(start(p, 's1', 't', { startedAt: T, userId: 'alice', url: 'https://shop.test/pricing' }));
        await store.startSession(start(p, 's2', 't', { startedAt: T + 1000, userId: 'temp', url: 'https://shop.test/home' }));
        await store.startSession(start(p, 's3', 't', { startedAt: T + 2000, userAgent: FIREFOX_UA, url: 'https://shop.test/blog' }));
        await store.writeBatch(batch(p, 's1', 't', [meta(0, T, 'https://shop.test/pricing'), jsError(1, T + 10_000, 'bad')]));
        await store.writeBatch(batch(p, 's2', 't', [
          meta(0, T + 1000, 'https://shop.test/home'), page(1, T + 2000, 'https://shop.test/checkout', 'Order confirmed'),
          page(2, T + 3000, 'https://shop.test/done'),
        ]));
        await store.writeBatch(batch(p, 's2', 't', [identify(3, T + 4000, 'bob')]));
        await store.writeBatch(batch(p, 's1', 't', [
          consoleLog(2, T + 10_001, 'warn', 'Payment declined by issuer', 'code 51'), jsError(3, T + 10_002, 'worse'),
        ]));
        await store.writeBatch(batch(p, 's2', 't', [
          consoleLog(4, T + 4001, 'log', 'issuer ready'), custom(5, T + 4002, 'tandem/custom@1', { name: 'coupon_applied', payload: { code: 'X' } }),
          custom(6, T + 4003, 'tandem/custom@1', { name: 'purchase', payload: null })
        ]));
      }, 60_000);
      const ids = async (q: Parameters<TandemStore['listSessions']>[1]) =>
        (await store.listSessions(p, q)).sessions.map((s) => s.sessionId);

      it('lists newest first and filters by time', async () => {
        expect(await ids({})).toEqual(['s3', 's2', 's1']);
        expect(await ids({ from: T + 500 })).toEqual(['s3', 's2']);
        expect(await ids({ to: T + 1500 })).toEqual(['s2', 's1']);
        expect(await ids({ from: T + 500, to: T + 1500 })).toEqual(['s2']);
      });
      it('filters by exact user id, on the newest version of the row only', async () => {
        expect(await ids({ userId: 'bob' })).toEqual(['s2']);
        expect(await ids({ userId: 'temp' })).toEqual([]);
        expect(await ids({ userId: 'ali' })).toEqual([]);
      });
      it('filters by URL substring over first/last URL and every page visit', async () => {
        expect(await ids({ url: 'PRICING' })).toEqual(['s1']);
        expect(await ids({ url: '/checkout' })).toEqual(['s2']);
        expect(await ids({ url: 'shop.test' })).toEqual(['s3', 's2', 's1']);
        expect(await ids({ url: "x' OR 1=1 --" })).toEqual([]);
      });
      it('filters by free text over user, URL and browser', async () => {
        expect(await ids({ q: 'firefox' })).toEqual(['s3']);
        expect(await ids({ q: 'ALI' })).toEqual(['s1']);
        expect(await ids({ q: '/done' })).toEqual(['s2']);
        expect(await ids({ q: 's2' })).toEqual(['s2']);
      });
      it('filters by errors and minimum duration', async () => {
        expect(await ids({ hasErrors: true })).toEqual(['s1']);
        expect(await ids({ minDuration: 3000 })).toEqual(['s2', 's1']);
        expect(await ids({ minDuration: 5000 })).toEqual(['s1']);
      });
      it('filters by browser, OS and device (any case, or the start of the name)', async () => {
        expect(await ids({ browser: 'FIREFOX' })).toEqual(['s3']);
        expect(await ids({ browser: 'chrome' })).toEqual(['s2', 's1']);
        expect(await ids({ os: 'windows' })).toEqual(['s2', 's1']);
        expect(await ids({ os: 'Linux', device: 'desktop' })).toEqual(['s3']);
        expect(await ids({ device: 'mobile' })).toEqual([]);
      });
      it('filters by a duration range', async () => {
        expect(await ids({ maxDuration: 5000 })).toEqual(['s3', 's2']);
        expect(await ids({ minDuration: 1, maxDuration: 5000 })).toEqual(['s2']);
      });
      it('filters by console text, custom event name and visited page', async () => {
        expect(await ids({ console: 'payment DECLINED' })).toEqual(['s1']);
        expect(await ids({ console: 'issuer' })).toEqual(['s2', 's1']);
        expect(await ids({ console: 'nothing like this' })).toEqual([]);
        expect(await ids({ event: 'Coupon_Applied' })).toEqual(['s2']);
        expect(await ids({ event: 'coupon' })).toEqual([]); // a name, not a substring
        expect(await ids({ page: '/checkout' })).toEqual(['s2']);
        expect(await ids({ page: 'order confirmed' })).toEqual(['s2']); // by title
        expect(await ids({ page: '/pricing' })).toEqual(['s1']);
        expect(await ids({ page: "x' OR 1=1 --" })).toEqual([]);
      });
      it('combines filters (all must hold)', async () => {
        expect(await ids({ console: 'issuer', hasErrors: true })).toEqual(['s1']);
        expect(await ids({ console: 'issuer', event: 'coupon_applied', browser: 'chrome' })).toEqual(['s2']);
        expect(await ids({ page: '/checkout', userId: 'alice' })).toEqual([]);
      });
      it('counts sessions, sessions with errors and errors per day, with the same filters', async () => {
        const all = await store.sessionStats(p, {});
        const sum = (r: typeof all, k: 'sessions' | 'sessionsWithErrors' | 'errors') => r.days.reduce((a, d) => a + d[k], 0);
        expect(all.tz).toBe('UTC');
        expect(all.days.at(-1)?.day).toBe(new Date().toISOString().slice(0, 10));
        expect([sum(all, 'sessions'), sum(all, 'sessionsWithErrors'), sum(all, 'errors')]).toEqual([3, 1, 2]);
        expect(sum(await store.sessionStats(p, { browser: 'firefox' }), 'sessions')).toBe(1);
        expect(sum(await store.sessionStats(p, { console: 'issuer' }), 'sessions')).toBe(2);
        // Every day of the range is there, the empty ones as zeros.
        const week = await store.sessionStats(p, { from: Date.now() - 6 * 86_400_000, tz: 'Pacific/Kiritimati' });
        expect(week.days).toHaveLength(7);
        expect(week.days.filter((d) => d.sessions === 0).length).toBeGreaterThanOrEqual(5);
        expect(sum(week, 'sessions')).toBe(3);
      });
      it('finds old sessions past the first windows and pages through them in order', async () => {
        const old = uid('p');
        const now = Date.now();
        const ages = [0, 0.5, 3, 20, 50].map((d) => now - d * 86_400_000); // spans every window the reader widens through
        await Promise.all(ages.map((t, i) => store.startSession(start(old, `o${i}`, 't', { startedAt: t }))));
        expect((await store.listSessions(old, {})).sessions.map((x) => x.sessionId)).toEqual(['o0', 'o1', 'o2', 'o3', 'o4']);
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listSessions(old, { limit: 2, cursor });
          seen.push(...page.sessions.map((x) => x.sessionId));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        expect(seen).toEqual(['o0', 'o1', 'o2', 'o3', 'o4']);
        expect((await store.listSessions(old, { to: now - 86_400_000 * 2 })).sessions.map((x) => x.sessionId)).toEqual(['o2', 'o3', 'o4']);
        expect((await store.listSessions(old, { from: now - 86_400_000 * 30 })).sessions.map((x) => x.sessionId)).toEqual(['o0', 'o1', 'o2', 'o3']);
      });
      it('pages with an opaque cursor', async () => {
        const first = await store.listSessions(p, { limit: 2 });
        expect(first.sessions.map((s) => s.sessionId)).toEqual(['s3', 's2']);
        expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
        const second = await store.listSessions(p, { limit: 2, cursor: first.nextCursor! });
        expect(second.sessions.map((s) => s.sessionId)).toEqual(['s1']);
        expect(second.nextCursor).toBeNull();
        expect((await store.listSessions(p, { limit: 2, cursor: first.nextCursor!, url: 'pricing' })).sessions.map((s) => s.sessionId)).toEqual(['s1']);
        await expect(store.listSessions(p, { cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'bad_request' });
      });
      it('clamps the page size to 1..200', async () => {
        expect((await store.listSessions(p, { limit: 0 })).sessions).toHaveLength(1);
        const many = uid('p');
        await Promise.all(Array.from({ length: 205 }, (_, i) => store.startSession(start(many, `s${i}`, 't'))));
        const page = await store.listSessions(many, { limit: 1000 });
        expect(page.sessions).toHaveLength(200);
        expect(page.nextCursor).not.toBeNull();
        expect((await store.listSessions(many, {})).sessions).toHaveLength(50);
      });
    });

    it('keeps projects apart', async () => {
      const a = uid('p');
      const b = uid('p');
      const T = Date.now();
      await store.startSession(start(a, 's', 't'));
      await store.writeBatch(batch(a, 's', 't', [meta(0, T, 'https://a.test/'), consoleLog(1, T, 'error', 'e'), jsError(2, T, 'x'),
        network(3, T, 'https://a.test/x', 200), fullSnapshot(4, T)]));
      expect((await store.listSessions(b, {})).sessions).toEqual([]);
      expect((await store.listSessions(b, { q: 's' })).sessions).toEqual([]);
      expect(await store.getSession(b, 's')).toBeNull();
      expect(await collect(store.streamEvents(b, 's'))).toEqual([]);
      expect(await store.getConsole(b, 's')).toEqual([]);
      expect(await store.getNetwork(b, 's')).toEqual([]);
      expect(await store.getErrors(b, 's')).toEqual([]);
      expect(await store.getAckSeq(b, 's', 't')).toBe(-1);
      // Same session and tab ids in B start from scratch and leave A alone.
      expect(await store.writeBatch(batch(b, 's', 't', [meta(0, T, 'https://b.test/')]))).toBe(0);
      expect(await collect(store.streamEvents(a, 's'))).toHaveLength(5);
      expect((await store.getSession(a, 's'))?.eventCount).toBe(5);
      expect((await store.getSession(b, 's'))?.eventCount).toBe(1);
    });

    it('groups concurrent calls for many tabs into few INSERTs', async () => {
      const p = uid('p');
      const T = Date.now();
      const before = { ...store.stats };
      const calls = [];
      for (let tab = 0; tab < 40; tab++) {
        for (let b = 0; b < 3; b++) calls.push(store.writeBatch(batch(p, `s${tab % 8}`, `t${tab}`, moves(b * 10, 10, T + b * 10))));
      }
      const acks = await Promise.all(calls);
      // A call acks at least its own last seq (more when a later batch of its tab shared the flush).
      acks.forEach((ack, i) => expect(ack).toBeGreaterThanOrEqual((i % 3) * 10 + 9));
      expect(Math.max(...acks)).toBe(29);
      const calledNow = store.stats.calls - before.calls;
      const inserts = store.stats.inserts - before.inserts;
      expect(calledNow).toBe(120);
      expect(inserts).toBeLessThan(calledNow / 4);
      expect(store.stats.eventsWritten - before.eventsWritten).toBe(1200);
      for (let tab = 0; tab < 40; tab += 13) expect(await store.getAckSeq(p, `s${tab % 8}`, `t${tab}`)).toBe(29);
      expect((await store.getSession(p, 's0'))?.eventCount).toBe(5 * 30);
    });

    it('writes groups one after another, so acks only move forward', async () => {
      // A second Store on the same driver with tiny groups: 30 pipelined batches make many flushes.
      const small = createStore(store.driver, { database: h.database, maxPendingEvents: 5, maxDelayMs: 1 });
      const p = uid('p');
      const T = Date.now();
      const pending: Promise<number>[] = [];
      for (let b = 0; b < 30; b++) {
        pending.push(small.writeBatch(batch(p, 's', 't', moves(b * 5, 5, T + b * 5))));
        // Spread the calls so flushes overlap with new calls, and every 10 calls wait for a flush to have
        // started: on a loaded machine one slow flush could otherwise swallow every call into one group.
        if (b % 10 === 9) {
          const flushes = small.stats.flushes;
          for (let i = 0; i < 500 && small.stats.flushes === flushes; i++) await new Promise((r) => setTimeout(r, 10));
        } else {
          await new Promise((r) => setTimeout(r, 3));
        }
      }
      const acks = await Promise.all(pending);
      acks.forEach((ack, b) => expect(ack).toBeGreaterThanOrEqual(b * 5 + 4));
      expect(acks).toEqual([...acks].sort((x, y) => x - y));
      expect(small.stats.flushes).toBeGreaterThanOrEqual(3);
      expect((await collect(small.streamEvents(p, 's'))).map((l) => JSON.parse(l).seq)).toEqual(Array.from({ length: 150 }, (_, i) => i));
      expect((await small.getSession(p, 's'))?.eventCount).toBe(150);
    });

    it('rejects every call of a failed flush and acks nothing of it', async () => {
      const p = uid('p');
      const T = Date.now();
      const errorsTable = `${h.database}.errors`;
      // Warm the caches so both calls below join the open group in the same tick.
      await store.startSession(start(p, 's', 'ta'));
      expect(await store.getAckSeq(p, 's', 'ta')).toBe(-1);
      expect(await store.getAckSeq(p, 's', 'tb')).toBe(-1);
      await store.driver.command(`RENAME TABLE ${errorsTable} TO ${h.database}.errors_offline`);
      const failed = store.stats.failedFlushes;
      const a = [meta(0, T, 'https://f.test/'), jsError(1, T + 1, 'x'), click(2, T + 2)];
      const b = moves(0, 3, T); // nothing wrong with these rows: they fail with their group
      try {
        const results = await Promise.allSettled([
          store.writeBatch(batch(p, 's', 'ta', a)),
          store.writeBatch(batch(p, 's', 'tb', b)),
        ]);
        expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
        expect(store.stats.failedFlushes).toBeGreaterThan(failed);
        expect(await store.getAckSeq(p, 's', 'ta')).toBe(-1);
        expect(await store.getAckSeq(p, 's', 'tb')).toBe(-1);
        expect(await collect(store.streamEvents(p, 's'))).toEqual([]);
      } finally {
        await store.driver.command(`RENAME TABLE ${h.database}.errors_offline TO ${errorsTable}`);
      }
      // The tracker retries: everything is written once, counters count it once.
      expect(await store.writeBatch(batch(p, 's', 'ta', a))).toBe(2);
      expect(await store.writeBatch(batch(p, 's', 'tb', b))).toBe(2);
      expect(await store.getErrors(p, 's')).toHaveLength(1);
      expect(await collect(store.streamEvents(p, 's'))).toHaveLength(6);
      expect(await store.getSession(p, 's')).toMatchObject({ eventCount: 6, errorCount: 1, clickCount: 1, tabCount: 2 });
      // The page visit was stored by the failed flush and again by the retry: reads show it once.
      expect((await store.getSession(p, 's'))?.pages).toHaveLength(1);
    });

    it('reads collapse duplicate rows that slip past the writer', async () => {
      const p = uid('p');
      const T = Date.now();
      const events = [meta(0, T, 'https://dup.test/'), fullSnapshot(1, T + 1), consoleLog(2, T + 2, 'log', 'once'),
        network(3, T + 3, 'https://dup.test/api', 200), jsError(4, T + 4, 'once')];
      expect(await store.writeBatch(batch(p, 's', 't', events))).toBe(4);
      // What a second backend process with its own cache could do: store the same rows again. Merges are
      // stopped so the copies really sit side by side while we read.
      const tables = ['events', 'keyframes', 'console_logs', 'network_requests', 'errors', 'page_visits'];
      for (const t of tables) await store.driver.command(`SYSTEM STOP MERGES ${h.database}.${t}`);
      try {
        for (const t of tables) {
          await store.driver.command(`INSERT INTO ${h.database}.${t} SELECT * FROM ${h.database}.${t} WHERE project_id = {p:String}`, { p });
        }
        const [raw] = await store.driver.query<{ n: string | number }>(
          `SELECT count() AS n FROM ${h.database}.events WHERE project_id = {p:String}`, { p });
        expect(Number(raw.n)).toBe(10);
        expect(await collect(store.streamEvents(p, 's'))).toEqual(lines(events));
        expect(await store.getConsole(p, 's')).toHaveLength(1);
        expect(await store.getNetwork(p, 's')).toHaveLength(1);
        expect(await store.getErrors(p, 's')).toHaveLength(1);
        const s = await store.getSession(p, 's');
        expect(s?.keyframes).toHaveLength(1);
        expect(s?.pages).toHaveLength(1);
        expect(s?.tabs.map((t) => t.eventCount)).toEqual([5]);
      } finally {
        for (const t of tables) await store.driver.command(`SYSTEM START MERGES ${h.database}.${t}`);
      }
    });

    it('refuses writes with `unavailable` when too much is queued', async () => {
      const small = createStore(store.driver, { database: h.database, maxQueuedEvents: 10 });
      await expect(small.writeBatch(batch(uid('p'), 's', 't', moves(0, 11, Date.now())))).rejects.toMatchObject({ code: 'unavailable' });
      expect(await small.writeBatch(batch(uid('p'), 's', 't', moves(0, 10, Date.now())))).toBe(9);
    });

    it('creates, updates and finds projects and agents', async () => {
      const id = uid('proj');
      const key = uid('key');
      await store.createProject({ id, name: 'Shop', key, allowedOrigins: ['https://shop.test'], createdAt: 1_700_000_000_000 });
      expect(await store.getProjectByKey(key)).toEqual({
        id, name: 'Shop', key, allowedOrigins: ['https://shop.test'], createdAt: 1_700_000_000_000, requireConsent: false, canvasRecording: 'off',
      });
      await store.createProject({ id, name: 'Shop 2', key, allowedOrigins: [], createdAt: 1_700_000_000_000 });
      expect((await store.getProject(id))?.name).toBe('Shop 2');
      expect((await store.listProjects()).filter((x) => x.id === id)).toHaveLength(1);
      expect(await store.getProjectByKey(uid('nokey'))).toBeNull();

      const agentId = uid('agent');
      const email = `${agentId}@Example.test`;
      const agent = { id: agentId, projectId: id, email, name: 'Ann', role: 'admin' as const, passwordHash: 'scrypt$x$y$z', createdAt: 1_700_000_000_000, disabled: false };
      await store.createAgent(agent);
      expect(await store.getAgentByEmail(email.toLowerCase())).toEqual(agent);
      await store.createAgent({ ...agent, disabled: true, passwordHash: 'scrypt$new' });
      expect(await store.getAgent(agentId)).toMatchObject({ disabled: true, passwordHash: 'scrypt$new' });
      expect(await store.getAgent(uid('none'))).toBeNull();
    });

    it('stores the consent setting of a project and keeps it on later updates that set it', async () => {
      const id = uid('proj');
      const key = uid('key');
      const base = { id, name: 'Consent', key, allowedOrigins: [], createdAt: 1_700_000_000_000 };
      await store.createProject({ ...base, requireConsent: true });
      expect((await store.getProject(id))?.requireConsent).toBe(true);
      expect((await store.getProjectByKey(key))?.requireConsent).toBe(true);
      await store.createProject({ ...base, allowedOrigins: ['https://a.test', 'https://b.test'], requireConsent: true });
      expect(await store.getProject(id)).toMatchObject({ requireConsent: true, allowedOrigins: ['https://a.test', 'https://b.test'] });
      await store.createProject({ ...base, requireConsent: false });
      expect((await store.getProject(id))?.requireConsent).toBe(false);
      // Omitted means false (callers that predate the setting).
      await store.createProject({ ...base, requireConsent: true });
      await store.createProject(base);
      expect((await store.getProject(id))?.requireConsent).toBe(false);
    });

    it('stores the canvas recording level of a project (off when omitted)', async () => {
      const id = uid('proj');
      const base = { id, name: 'Canvas', key: uid('key'), allowedOrigins: [], createdAt: 1_700_000_000_000 };
      await store.createProject(base);
      expect((await store.getProject(id))?.canvasRecording).toBe('off');
      await store.createProject({ ...base, canvasRecording: 'low' });
      expect((await store.getProjectByKey(base.key))?.canvasRecording).toBe('low');
      await store.createProject({ ...base, canvasRecording: 'high' });
      expect((await store.getProject(id))?.canvasRecording).toBe('high');
    });

    it('lists, disables and removes agents within their project only', async () => {
      const p = uid('proj');
      const other = uid('proj');
      const mk = (name: string, projectId = p, createdAt = 1_700_000_000_000) => {
        const id = uid('agent');
        return { id, projectId, email: `${id}@Team.test`, name, role: 'agent' as const, passwordHash: 'scrypt$h', createdAt, disabled: false };
      };
      const ann = mk('Ann', p, 1_700_000_000_000);
      const bob = mk('Bob', p, 1_700_000_000_001);
      const eve = mk('Eve', other);
      for (const a of [ann, bob, eve]) await store.createAgent(a);
      expect(await store.listAgents(p)).toEqual([ann, bob]);
      expect(await store.listAgents(uid('proj'))).toEqual([]);

      // Another project's agent is out of reach.
      expect(await store.setAgentDisabled(p, eve.id, true)).toBe(false);
      expect(await store.removeAgent(p, eve.id)).toBe(false);
      expect((await store.getAgent(eve.id))?.disabled).toBe(false);

      expect(await store.setAgentDisabled(p, bob.id, true)).toBe(true);
      expect(await store.getAgent(bob.id)).toMatchObject({ disabled: true });
      expect((await store.listAgents(p)).map((a) => [a.name, a.disabled])).toEqual([['Ann', false], ['Bob', true]]);
      expect(await store.setAgentDisabled(p, bob.id, false)).toBe(true);
      expect((await store.getAgent(bob.id))?.disabled).toBe(false);

      expect(await store.removeAgent(p, bob.id)).toBe(true);
      expect(await store.getAgent(bob.id)).toBeNull();
      expect(await store.getAgentByEmail(bob.email)).toBeNull();
      expect(await store.listAgents(p)).toEqual([ann]);
      expect(await store.removeAgent(p, bob.id)).toBe(false);
      expect(await store.setAgentDisabled(p, bob.id, false)).toBe(false);

      // The email is free again for a new agent.
      const bob2 = { ...mk('Bob again', p, 1_700_000_000_002), email: bob.email };
      await store.createAgent(bob2);
      expect(await store.getAgentByEmail(bob.email.toUpperCase())).toEqual(bob2);
      expect((await store.listAgents(p)).map((a) => a.name)).toEqual(['Ann', 'Bob again']);
    });

    it('creates, lists, finds, touches and revokes API keys per project', async () => {
      const p = uid('proj');
      const other = uid('proj');
      const mk = (name: string, projectId = p, createdAt = 1_700_000_000_000) => ({
        id: uid('key'), projectId, name, prefix: 'tk_abcd', secretHash: uid('hash'), createdAt, createdBy: 'agent-1',
      });
      const k1 = mk('CRM', p, 1_700_000_000_000);
      const k2 = mk('Helpdesk', p, 1_700_000_000_500);
      const k3 = mk('Other', other);
      for (const k of [k1, k2, k3]) await store.createApiKey(k);

      expect(await store.listApiKeys(p)).toEqual([
        { ...k2, lastUsedAt: null, revoked: false },
        { ...k1, lastUsedAt: null, revoked: false },
      ]);
      expect(await store.findApiKeyByHash(k1.secretHash)).toEqual({ ...k1, lastUsedAt: null, revoked: false });
      expect(await store.findApiKeyByHash(uid('hash'))).toBeNull();

      const T = Date.now();
      await store.touchApiKey(p, k1.id, T - 5_000);
      await store.touchApiKey(p, k1.id, T);
      await store.touchApiKey(p, k1.id, T - 1_000); // out of order: the latest use wins
      expect((await store.findApiKeyByHash(k1.secretHash))?.lastUsedAt).toBe(T);
      expect((await store.listApiKeys(p)).map((k) => [k.name, k.lastUsedAt])).toEqual([['Helpdesk', null], ['CRM', T]]);

      // Another project cannot revoke it; revoking twice is a no-op.
      expect(await store.revokeApiKey(other, k1.id)).toBe(false);
      expect(await store.revokeApiKey(p, k1.id)).toBe(true);
      expect(await store.revokeApiKey(p, k1.id)).toBe(false);
      expect(await store.findApiKeyByHash(k1.secretHash)).toBeNull();
      expect((await store.listApiKeys(p)).map((k) => k.name)).toEqual(['Helpdesk']);
      // A use recorded after the revoke does not bring it back.
      await store.touchApiKey(p, k1.id, T + 1);
      expect(await store.findApiKeyByHash(k1.secretHash)).toBeNull();
      expect((await store.listApiKeys(other)).map((k) => k.name)).toEqual(['Other']);
    });

    it("finds a visitor's most recent session in the project", async () => {
      const p = uid('p');
      const T = Date.now() - 60_000;
      await store.startSession(start(p, 's-old', 't', { visitorId: 'visitor-a', startedAt: T }));
      await store.startSession(start(p, 's-new', 't', { visitorId: 'visitor-a', startedAt: T + 1000 }));
      await store.startSession(start(p, 's-other', 't', { visitorId: 'visitor-b', startedAt: T + 2000 }));
      // A later tab in the old session does not make it the newest.
      await store.startSession(start(p, 's-old', 't2', { visitorId: 'visitor-a', startedAt: T + 3000 }));
      await store.writeBatch(batch(p, 's-old', 't2', [meta(0, T + 3000, 'https://v.test/')]));
      expect(await store.latestSessionOfVisitor(p, 'visitor-a')).toBe('s-new');
      expect(await store.latestSessionOfVisitor(p, 'visitor-b')).toBe('s-other');
      expect(await store.latestSessionOfVisitor(p, 'visitor-c')).toBeNull();
      expect(await store.latestSessionOfVisitor(uid('p'), 'visitor-a')).toBeNull();
    });

    it('keeps everything across close and reopen, and carries on from it', async () => {
      const p = uid('p');
      const T = Date.now();
      await store.startSession(start(p, 's', 't', { startedAt: T }));
      await store.writeBatch(batch(p, 's', 't', [meta(0, T, 'https://r.test/'), fullSnapshot(1, T + 1), click(2, T + 2), meta(3, T + 3, 'https://r.test/')]));
      // Settings too: a project's consent, a removed agent, a revoked and a used API key.
      const proj = { id: uid('proj'), name: 'R', key: uid('key'), allowedOrigins: ['https://r.test'], createdAt: T, requireConsent: true, canvasRecording: 'low' as const };
      await store.createProject(proj);
      const agent = { id: uid('agent'), projectId: proj.id, email: `${uid('a')}@r.test`, name: 'Gone', role: 'agent' as const, passwordHash: 'h', createdAt: T, disabled: false };
      await store.createAgent(agent);
      await store.removeAgent(proj.id, agent.id);
      const kept = { id: uid('key'), projectId: proj.id, name: 'kept', prefix: 'tk_1', secretHash: uid('h'), createdAt: T, createdBy: 'x' };
      const revoked = { ...kept, id: uid('key'), name: 'revoked', secretHash: uid('h') };
      await store.createApiKey(kept);
      await store.createApiKey(revoked);
      await store.revokeApiKey(proj.id, revoked.id);
      await store.touchApiKey(proj.id, kept.id, T + 7);
      await store.close();
      store = await h.open();
      expect(await store.getProject(proj.id)).toEqual(proj);
      expect(await store.getAgent(agent.id)).toBeNull();
      expect(await store.listApiKeys(proj.id)).toEqual([{ ...kept, lastUsedAt: T + 7, revoked: false }]);
      expect(await store.findApiKeyByHash(revoked.secretHash)).toBeNull();
      expect(await store.getAckSeq(p, 's', 't')).toBe(3);
      // After the restart: a duplicate is still dropped, the FullSnapshot finds its Meta from before,
      // and counters continue from the stored row.
      expect(await store.writeBatch(batch(p, 's', 't', [click(2, T + 2), fullSnapshot(4, T + 4), click(5, T + 5)]))).toBe(5);
      expect((await collect(store.streamEvents(p, 's'))).map((l) => JSON.parse(l).seq)).toEqual([0, 1, 2, 3, 4, 5]);
      const s = await store.getSession(p, 's');
      expect(s).toMatchObject({ eventCount: 6, clickCount: 2, pageCount: 1, startedAt: T, durationMs: 5 });
      expect(s?.keyframes.map((k) => [k.seq, (k as { metaSeq?: number }).metaSeq])).toEqual([[1, 0], [4, 3]]);
    });

    describe('call recordings', () => {
      const rec = (projectId: string, sessionId: string, over: Partial<StoredCallRecording> = {}): StoredCallRecording => ({
        projectId, sessionId, recordingId: uid('rec'), agentId: 'agent-1', agentName: 'Ann', startedAt: 1_700_000_000_123,
        durationMs: 0, bytes: 0, mimeType: 'video/webm', complete: false, ...over,
      });

      it('the newest version of a recording wins; lists are per session, oldest first, and never cross projects', async () => {
        const p = uid('proj');
        const first = rec(p, 's1');
        await store.saveCallRecording(first);
        expect(await store.getCallRecording(p, first.recordingId)).toEqual(first);
        // Chunks arrive: each rewrite carries the new size and duration; finish marks it complete.
        await store.saveCallRecording({ ...first, bytes: 1000, durationMs: 1000 });
        await store.saveCallRecording({ ...first, bytes: 2500, durationMs: 2000 });
        await store.saveCallRecording({ ...first, bytes: 2500, durationMs: 2345, complete: true });
        expect(await store.getCallRecording(p, first.recordingId)).toEqual({ ...first, bytes: 2500, durationMs: 2345, complete: true });
        const later = rec(p, 's1', { startedAt: first.startedAt + 60_000, agentName: 'Bo' });
        const otherSession = rec(p, 's2');
        await store.saveCallRecording(later);
        await store.saveCallRecording(otherSession);
        expect((await store.listCallRecordings(p, 's1')).map((r) => [r.recordingId, r.agentName, r.complete]))
          .toEqual([[first.recordingId, 'Ann', true], [later.recordingId, 'Bo', false]]);
        // Another project sees nothing of these, by list or by id.
        const q = uid('proj');
        expect(await store.listCallRecordings(q, 's1')).toEqual([]);
        expect(await store.getCallRecording(q, first.recordingId)).toBeNull();
        expect(await store.getCallRecording(p, 'no-such-recording')).toBeNull();
      });

      it('survive a restart and expire with the retention of every other table', async () => {
        const p = uid('proj');
        const r = rec(p, 's', { bytes: 42, durationMs: 7, complete: true });
        await store.saveCallRecording(r);
        await store.close();
        store = await h.open();
        expect(await store.getCallRecording(p, r.recordingId)).toEqual(r);
        const ddl = await store.driver.query<{ statement: string }>(`SHOW CREATE TABLE ${h.database}.call_recordings`);
        expect(ddl[0].statement).toMatch(/TTL toDateTime\(received_at\) \+ (toIntervalDay\(\d+\)|INTERVAL \d+ DAY)/);
      });
    });
  });
}
