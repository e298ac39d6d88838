import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createChdbDriver, createRemoteDriver, createStore, type Driver, type TandemStore } from '../src/index.js';
import { loadCarried } from '../src/writer-carry-file.js';
import { spawnChdbHttpServer, type SpawnedChdbHttpServer } from '../testing/index.js';
import { batch, click, meta, mouseMove, uid, wrapDriver } from './fixtures.js';

/**
 * Session delta INSERTs are deduplicated by a token of their own (writer-deltas.ts, migration 21):
 * - the writer removes its carry file after the delta INSERT holding the file's rows succeeded; a process killed
 *   between the two leaves rows that are already counted. The next process sends them again with the token sealed
 *   with them in the file, and ClickHouse drops that INSERT: `sessions` and the list's copy (`session_search`, a view)
 *   count them once. On embedded chDB and through the ClickHouse-HTTP stand-in (the remote driver's settings).
 * - two writers on one ClickHouse whose delta rows are byte-identical (same millisecond, same counts: what made
 *   backend `seq-claims` count 125 events for 145 when the deltas were deduplicated by content) both count.
 */
const dir = mkdtempSync(join(tmpdir(), 'tandem-delta-dedup-'));
const stores: TandemStore[] = [];
let server: SpawnedChdbHttpServer;
beforeAll(async () => {
  server = await spawnChdbHttpServer({ dataDir: join(dir, 'standin') });
}, 60_000);
afterAll(async () => {
  for (const s of stores) await s.close().catch(() => {});
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

interface Opened {
  store: TandemStore;
  driver: Driver;
  /** The token of every `sessions` INSERT sent, in order. */
  tokens: (string | undefined)[];
  /** The rows of every `sessions` INSERT sent, in order. */
  sessionRows: Record<string, unknown>[][];
}

/**
 * A store on real ClickHouse (embedded chDB in this test process's directory, or the stand-in) whose driver copies
 * the carry file right after each `sessions` INSERT succeeded: what a process killed at that moment leaves.
 */
function open(kind: 'chdb' | 'stand-in', opts: { database: string; carryFile?: string; copyTo?: string; soleWriter?: boolean; real?: Driver }): Opened {
  const real = opts.real ?? (kind === 'chdb' ? createChdbDriver(join(dir, 'data')) : createRemoteDriver(server.url));
  const tokens: (string | undefined)[] = [];
  const sessionRows: Record<string, unknown>[][] = [];
  const driver = wrapDriver(real, {
    insert: async (table, rows, o) => {
      const isSessions = table.endsWith('.sessions');
      if (isSessions) (tokens.push(o?.dedupToken), sessionRows.push(rows.map((r) => ({ ...r }))));
      await real.insert(table, rows, o);
      if (isSessions && opts.copyTo && opts.carryFile && existsSync(opts.carryFile)) copyFileSync(opts.carryFile, opts.copyTo);
    },
  });
  const store = createStore(driver, { database: opts.database, maxDelayMs: 5, carryFile: opts.carryFile, soleWriter: opts.soleWriter });
  stores.push(store);
  return { store, driver, tokens, sessionRows };
}

async function listed(driver: Driver, db: string, p: string, s: string): Promise<{ rows: number; events: number; clicks: number }> {
  const [r] = await driver.query<{ rows: string; events: string; clicks: string }>(
    `SELECT count() AS rows, sum(event_count) AS events, sum(click_count) AS clicks FROM ${db}.session_search WHERE project_id = {p:String} AND session_id = {s:String}`, { p, s });
  return { rows: Number(r.rows), events: Number(r.events), clicks: Number(r.clicks) };
}
const deltaRows = async (driver: Driver, db: string, p: string, s: string) => Number((await driver.query<{ n: string }>(
  `SELECT count() AS n FROM ${db}.sessions WHERE project_id = {p:String} AND session_id = {s:String}`, { p, s }))[0].n);

describe.each(['chdb', 'stand-in'] as const)('a session delta INSERT sent again (%s)', (kind) => {
  it('counts once when a process died after the delta INSERT and before removing the carry file', async () => {
    const carryFile = join(dir, `${kind}-carried.json`);
    const atInsert = join(dir, `${kind}-carried-at-insert.json`);
    const db = `tandem_delta_dedup_${kind === 'chdb' ? 'chdb' : 'http'}`;
    const p = uid('p');
    const T = Date.now();
    // A fresh install: its first delta INSERT comes right after migration 21's ALTERs.
    const first = open(kind, { database: db, carryFile, copyTo: atInsert });
    await first.store.migrate();
    expect(await first.store.writeBatch(batch(p, 'sA', 't', [meta(0, T, 'https://d.test/a'), click(1, T + 1), click(2, T + 2)]))).toBe(2);
    await first.store.flush();
    expect(existsSync(carryFile)).toBe(false);
    // At the INSERT's success the file held A's rows sealed with that INSERT's token.
    const left = loadCarried(atInsert);
    expect(left.open).toEqual([]);
    expect(left.sealed.map((s) => [s.token, s.rows.map((r) => r.session_id)])).toEqual([[first.tokens[0], ['sA']]]);
    expect(first.tokens[0]).toMatch(/^[0-9a-f-]{36}$/);
    await first.store.close();

    // The next process starts with the file as the killed one left it, and sends its rows again, with their token.
    copyFileSync(atInsert, carryFile);
    const next = open(kind, { database: db, carryFile });
    await next.store.migrate();
    await next.store.flush();
    expect(next.tokens).toEqual([first.tokens[0]]);
    expect(existsSync(carryFile)).toBe(false);
    expect(await deltaRows(next.driver, db, p, 'sA')).toBe(1);
    expect(await next.store.getSession(p, 'sA')).toMatchObject({ eventCount: 3, clickCount: 2 });
    expect(await listed(next.driver, db, p, 'sA')).toEqual({ rows: 1, events: 3, clicks: 2 });
    // A new batch after the restart still counts, with a new token.
    expect(await next.store.writeBatch(batch(p, 'sA', 't', [click(3, T + 3)]))).toBe(3);
    await next.store.flush();
    expect(next.tokens).toHaveLength(2);
    expect(next.tokens[1]).not.toBe(first.tokens[0]);
    expect(await next.store.getSession(p, 'sA')).toMatchObject({ eventCount: 4, clickCount: 3 });
    expect(await listed(next.driver, db, p, 'sA')).toMatchObject({ events: 4, clicks: 3 });
    await next.store.close();
  });
});

describe('a delta INSERT that landed but reported a failure (a lost answer)', () => {
  it('is tried again with its token and counts once', async () => {
    const db = 'tandem_delta_lost_answer';
    const real = createChdbDriver(join(dir, 'data'));
    let loseNext = false;
    const losing: Driver = {
      ...real,
      kind: real.kind,
      insert: async (table, rows, o) => {
        await real.insert(table, rows, o);
        if (table.endsWith('.sessions') && loseNext) {
          loseNext = false;
          throw new Error('answer lost (test)');
        }
      },
    };
    const w = open('chdb', { database: db, real: losing });
    await w.store.migrate();
    const p = uid('p');
    const T = Date.now();
    await w.store.writeBatch(batch(p, 'warm', 't', [meta(0, T, 'https://d.test/w')]));
    loseNext = true;
    expect(await w.store.writeBatch(batch(p, 'sL', 't', [meta(0, T, 'https://d.test/l'), click(1, T + 1)]))).toBe(1);
    await w.store.flush();
    // Sent twice (the retry within the flush), with one token: stored once.
    expect(w.tokens.slice(1)).toEqual([w.tokens[1], w.tokens[1]]);
    expect(w.store.stats.deltaRowsCarried).toBe(0);
    expect(await deltaRows(real, db, p, 'sL')).toBe(1);
    expect(await w.store.getSession(p, 'sL')).toMatchObject({ eventCount: 2, clickCount: 1 });
    expect(await listed(real, db, p, 'sL')).toMatchObject({ rows: 1, events: 2 });
    await w.store.close();
  });
});

describe('two writers on one ClickHouse', () => {
  it('both count byte-identical delta blocks (the same millisecond, the same counts)', async () => {
    const db = 'tandem_delta_twins';
    const real = createChdbDriver(join(dir, 'data'));
    // Two writers, as two backends on one server; the events INSERTs wait until both have queued their batch, so
    // neither sees the other's events (the race backend seq-claims provokes, here without a claimer).
    let waiting: (() => void)[] = [];
    const gated: Driver = {
      ...real,
      kind: real.kind,
      insert: async (table, rows, o) => {
        if (table.endsWith('.events')) {
          await new Promise<void>((r) => {
            waiting.push(r);
            if (waiting.length === 2) (waiting.forEach((go) => go()), (waiting = []));
          });
        }
        return real.insert(table, rows, o);
      },
    };
    const a = open('chdb', { database: db, real: gated, soleWriter: true });
    const b = open('chdb', { database: db, real: gated, soleWriter: true });
    await a.store.migrate();
    const p = uid('p');
    const T = Date.now() - 60_000;
    // Not the first delta INSERT after migration 21: with deltas deduplicated by content (no token), chDB 26.7 did not
    // drop a copy of that first one, and this test passed without guarding anything (with tokens it fails then).
    await Promise.all([a.store.writeBatch(batch(p, 'warm-a', 't', [meta(0, T, 'https://d.test/a')])), b.store.writeBatch(batch(p, 'warm-b', 't', [meta(0, T, 'https://d.test/b')]))]);
    await Promise.all([a.store.flush(), b.store.flush()]);
    a.tokens.length = b.tokens.length = a.sessionRows.length = b.sessionRows.length = 0;
    const events = [meta(0, T, 'https://d.test/twins'), click(1, T + 1), mouseMove(2, T + 2), click(3, T + 3)];
    // One clock for both, ahead of the warm-up's: the rows' version is now × 1000, their updated_at now.
    const now = vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 60_000);
    try {
      await Promise.all([a.store.writeBatch(batch(p, 'twin', 't', events)), b.store.writeBatch(batch(p, 'twin', 't', events))]);
      await Promise.all([a.store.flush(), b.store.flush()]);
    } finally {
      now.mockRestore();
    }
    expect(a.sessionRows).toHaveLength(1);
    expect(b.sessionRows).toHaveLength(1);
    expect(JSON.stringify(b.sessionRows[0])).toBe(JSON.stringify(a.sessionRows[0]));
    expect(a.tokens[0]).not.toBe(b.tokens[0]);
    // Each writer counted the batch (no claimer): twice, as ClickHouse got it twice.
    expect(await deltaRows(real, db, p, 'twin')).toBe(2);
    expect(await a.store.getSession(p, 'twin')).toMatchObject({ eventCount: 8, clickCount: 4 });
    expect(await listed(real, db, p, 'twin')).toEqual({ rows: 2, events: 8, clicks: 4 });
    await a.store.close();
    await b.store.close().catch(() => {}); // the same driver, closed by a
  });
});

describe('the carry file', () => {
  it('keeps each sealed INSERT apart from the rows after it; a torn seal seals nothing (its INSERT was never sent)', () => {
    const file = join(dir, 'format.json');
    const r = (s: string) => ({ session_id: s });
    writeFileSync(file, [JSON.stringify([r('a')]), JSON.stringify([r('b')]), JSON.stringify({ token: 't1' }), JSON.stringify([r('c')]),
      '{"token": "t2', JSON.stringify([r('d')]), JSON.stringify({ token: 't3' }), JSON.stringify({ token: 't4' }), '[{"session_id": "e"}, {"sess',
      JSON.stringify([r('f')])].join('\n'));
    expect(loadCarried(file)).toEqual({ sealed: [{ token: 't1', rows: [r('a'), r('b')] }, { token: 't3', rows: [r('c'), r('d')] }], open: [r('f')] });
    expect(loadCarried(join(dir, 'no-such-file.json'))).toEqual({ sealed: [], open: [] });
  });
});
