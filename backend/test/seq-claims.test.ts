import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TandemEvent } from '@tandem/protocol';
import { createRemoteDriver, createStore, type Driver, type TandemStore } from '@tandem/storage';
import { spawnChdbHttpServer, type SpawnedChdbHttpServer } from '@tandem/storage/testing';
import { createRedisSeqClaimer, seqClaimKey, SEQ_CLAIM_TTL_S } from '../src/ingest/seq-claims.js';
import { startTestRedis } from './redis-server.js';

/**
 * Two backends store the same tab's same seqs at the same moment (a killed node's in-flight INSERT lands
 * while the tab re-sends the batch through another node). Both writers' `events` lookups run before either
 * INSERT lands (a barrier in their drivers makes the race happen every time); the claim in a real Redis
 * makes exactly one of them count each seq. Two stores on the ClickHouse-HTTP stand-in, as two processes.
 */
const dir = mkdtempSync(join(tmpdir(), 'tandem-claims-'));
const database = `tandem_claims_${Date.now()}`;
let server: SpawnedChdbHttpServer;
let redis: { child: ChildProcess; port: number };
const closers: (() => Promise<void> | void)[] = [];

/** Both writers' stored-seq lookups resolve only once both have run: neither sees the other's INSERT. */
let barrier: { waiting: number; release: () => void; all: Promise<void> } | null = null;
function arm(n: number): void {
  let release!: () => void;
  const all = new Promise<void>((r) => (release = r));
  barrier = { waiting: n, release, all };
}
function racing(real: Driver): Driver {
  return {
    kind: real.kind,
    async query(sql, params) {
      const rows = await real.query(sql, params);
      const b = barrier;
      if (b && sql.includes('SELECT DISTINCT project_id, session_id, tab_id, seq FROM')) {
        if (--b.waiting === 0) b.release();
        await b.all;
      }
      return rows as never;
    },
    queryLines: (sql, params, format) => real.queryLines(sql, params, format),
    command: (sql, params) => real.command(sql, params),
    insert: (table, rows, o) => real.insert(table, rows, o),
    close: () => real.close(),
  };
}

async function twoWriters(withClaims: boolean): Promise<[TandemStore, TandemStore]> {
  const stores: TandemStore[] = [];
  for (let i = 0; i < 2; i++) {
    const store = createStore(racing(createRemoteDriver(server.url)), { database, maxDelayMs: 5 });
    await store.migrate();
    closers.push(() => store.close());
    if (withClaims) {
      const claimer = createRedisSeqClaimer(`redis://127.0.0.1:${redis.port}`, () => {});
      closers.push(() => claimer.close());
      store.setSeqClaimer(claimer.claim);
    }
    stores.push(store);
  }
  return stores as [TandemStore, TandemStore];
}

const ev = (type: number, seq: number, timestamp: number, data: unknown) => ({ type, seq, timestamp, data }) as unknown as TandemEvent;
/** Seqs lo..hi of one tab: every 5th a click, every 7th a JS error, the rest mouse moves; seq 0 is Meta. */
function events(lo: number, hi: number, T: number): TandemEvent[] {
  const out: TandemEvent[] = [];
  for (let seq = lo; seq <= hi; seq++) {
    const ts = T + seq;
    if (seq === 0) out.push(ev(4, seq, ts, { href: 'https://shop.test/', width: 1280, height: 720 }));
    else if (seq % 5 === 0) out.push(ev(3, seq, ts, { source: 2, type: 2, id: 5, x: 1, y: 2 }));
    else if (seq % 7 === 0) out.push(ev(5, seq, ts, { tag: 'tandem/error@1', payload: { kind: 'error', name: 'TypeError', message: `boom ${seq}`, stack: '', source: 'https://s/a.js', line: 1, column: 1 } }));
    else out.push(ev(3, seq, ts, { source: 1, positions: [{ x: seq, y: 1, id: 1, timeOffset: 0 }] }));
  }
  return out;
}

/** What one tab's seqs 0..last count, once each. */
const expected = (last: number) => ({
  eventCount: last + 1,
  clickCount: Array.from({ length: last + 1 }, (_, s) => s).filter((s) => s > 0 && s % 5 === 0).length,
  errorCount: Array.from({ length: last + 1 }, (_, s) => s).filter((s) => s > 0 && s % 5 !== 0 && s % 7 === 0).length,
});

/** Both writers store the same rounds of one tab at the same moment; round 3 overlaps only in part. */
async function race(a: TandemStore, b: TandemStore, sessionId: string): Promise<number> {
  const p = 'proj-claims';
  const T = Date.now() - 60_000;
  const tab = { projectId: p, sessionId, tabId: 't1' };
  const start = { ...tab, visitorId: 'v', userId: '', startedAt: T, url: 'https://shop.test/', referrer: '', userAgent: 'x', screen: '1x1', language: 'en', timezone: 'UTC', ip: '127.0.0.1' };
  await a.startSession(start);
  await a.flush();
  const rounds: [[number, number], [number, number]][] = [[[0, 19], [0, 19]], [[20, 39], [20, 39]], [[40, 49], [45, 59]], [[60, 79], [60, 79]]];
  for (const [ra, rb] of rounds) {
    arm(2);
    await Promise.all([
      a.writeBatch({ ...tab, events: events(ra[0], ra[1], T) }),
      b.writeBatch({ ...tab, events: events(rb[0], rb[1], T) }),
    ]);
    barrier = null;
  }
  await Promise.all([a.flush(), b.flush()]);
  return 79;
}

beforeAll(async () => {
  [server, redis] = await Promise.all([spawnChdbHttpServer({ dataDir: join(dir, 'data') }), startTestRedis()]);
}, 60_000);
afterAll(async () => {
  for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {});
  const d = createRemoteDriver(server.url);
  await d.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
  await d.close();
  await server?.close();
  redis?.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('two writers storing the same seq at the same moment', () => {
  it('count it twice without a claimer (the race this guards against is real)', async () => {
    const [a, b] = await twoWriters(false);
    const last = await race(a, b, 'race-alone');
    const got = await a.getSession('proj-claims', 'race-alone');
    // Every seq both wrote (0..39, 45..49, 60..79) counted by each writer.
    expect(got!.eventCount).toBe(expected(last).eventCount + 40 + 5 + 20);
  });

  it('count it once with the Redis claim: counters exact on both instances', async () => {
    const [a, b] = await twoWriters(true);
    const last = await race(a, b, 'race-claimed');
    for (const s of [a, b]) expect(await s.getSession('proj-claims', 'race-claimed')).toMatchObject(expected(last));
    // Exactly the seqs both stored were given back by whichever writer lost each claim.
    expect(a.stats.eventsClaimedElsewhere + b.stats.eventsClaimedElsewhere).toBe(40 + 5 + 20);
    expect(a.stats.seqClaimFailures + b.stats.seqClaimFailures).toBe(0);
    // What the stored events say (they collapse on (tab, seq) as before) agrees.
    const got = await a.getSession('proj-claims', 'race-claimed');
    expect(got!.tabs.reduce((n, t) => n + t.eventCount, 0)).toBe(expected(last).eventCount);
  });
});

describe('the claim script', () => {
  it('grants only the seqs nobody held, keeps the rest as ranges, and expires', async () => {
    const claimer = createRedisSeqClaimer(`redis://127.0.0.1:${redis.port}`, () => {});
    closers.push(() => claimer.close());
    const tab = { projectId: 'p', sessionId: 's-script', tabId: 't' };
    const claim = async (ranges: [number, number][]) => (await claimer.claim([{ ...tab, ranges }]))[0];
    expect(await claim([[1, 5]])).toEqual([[1, 5]]);
    expect(await claim([[3, 8]])).toEqual([[6, 8]]);
    expect(await claim([[10, 12]])).toEqual([[10, 12]]);
    expect(await claim([[0, 15]])).toEqual([[0, 0], [9, 9], [13, 15]]);
    expect(await claim([[0, 15], [20, 21]])).toEqual([[20, 21]]);
    const r = new Redis(redis.port, '127.0.0.1');
    r.on('error', () => {}); // Redis is stopped by the last test while this client may still be open
    closers.push(() => void r.disconnect());
    expect(await r.get(seqClaimKey(tab))).toBe('0-15,20-21');
    const ttl = await r.ttl(seqClaimKey(tab));
    expect(ttl).toBeGreaterThan(SEQ_CLAIM_TTL_S - 10);
    // Two claimers at once on one tab: disjoint grants that cover the request exactly once.
    const other = createRedisSeqClaimer(`redis://127.0.0.1:${redis.port}`, () => {});
    closers.push(() => other.close());
    const t2 = { ...tab, sessionId: 's-two' };
    const [x, y] = await Promise.all([claimer.claim([{ ...t2, ranges: [[0, 999]] }]), other.claim([{ ...t2, ranges: [[0, 999]] }])]);
    const size = (rs: [number, number][]) => rs.reduce((n, [lo, hi]) => n + hi - lo + 1, 0);
    expect(size(x[0]) + size(y[0])).toBe(1000);
  });

  // Last: it stops Redis.
  it('a claim that fails (Redis gone) counts the seqs anyway, without holding the batch long (claims time out after 1 s)', async () => {
    const [a] = await twoWriters(true);
    redis.child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const p = 'proj-claims';
    const T = Date.now();
    await a.startSession({ projectId: p, sessionId: 'no-redis', tabId: 't1', visitorId: 'v', userId: '', startedAt: T, url: 'https://shop.test/', referrer: '', userAgent: 'x', screen: '1x1', language: 'en', timezone: 'UTC', ip: '127.0.0.1' });
    const t0 = Date.now();
    expect(await a.writeBatch({ projectId: p, sessionId: 'no-redis', tabId: 't1', events: events(0, 9, T) })).toBe(9);
    expect(Date.now() - t0).toBeLessThan(8_000);
    expect(a.stats.seqClaimFailures).toBeGreaterThan(0);
    expect(await a.getSession(p, 'no-redis')).toMatchObject(expected(9));
  });
});
