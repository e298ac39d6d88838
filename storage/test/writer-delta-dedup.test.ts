import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createChdbDriver, createStore, type Driver, type TandemStore } from '../src/index.js';
import { batch, click, meta, uid } from './fixtures.js';

/**
 * Migration 21 (session-totals.ts): the writer removes its carry file only after the delta INSERT that held the
 * file's rows succeeded, so a process killed between the two leaves rows that are already counted. The next
 * process sends them again, as the same block, and ClickHouse drops it: `sessions` and the list's copy
 * (`session_search`, filled by a view) count them once.
 */
const dir = mkdtempSync(join(tmpdir(), 'tandem-delta-dedup-'));
const stores: TandemStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

/** A store on real chDB whose driver copies the carry file right after each `sessions` INSERT succeeded. */
function open(carryFile: string, database: string, copyTo: string): { store: TandemStore; driver: Driver } {
  const real = createChdbDriver(join(dir, 'data'));
  const driver: Driver = {
    kind: real.kind,
    query: (sql, params, o) => real.query(sql, params, o),
    queryLines: (sql, params, format) => real.queryLines(sql, params, format),
    command: (sql, params) => real.command(sql, params),
    insert: async (table, rows, opts) => {
      await real.insert(table, rows, opts);
      // What a process killed at this moment leaves on disk: the INSERT is done, the file not yet removed.
      if (table.endsWith('.sessions') && existsSync(carryFile)) copyFileSync(carryFile, copyTo);
    },
    close: () => real.close(),
  };
  const store = createStore(driver, { database, maxDelayMs: 5, carryFile });
  stores.push(store);
  return { store, driver };
}

describe('session delta INSERTs sent again', () => {
  it('count once when a process died after the delta INSERT and before removing the carry file', async () => {
    const carryFile = join(dir, 'carried.json');
    const atInsert = join(dir, 'carried-at-insert.json');
    const db = 'tandem_delta_dedup';
    const p = uid('p');
    const T = Date.now();
    // An install that has been running (migrated, sessions written) before the process below starts.
    const earlier = open(carryFile, db, join(dir, 'unused.json'));
    await earlier.store.migrate();
    await earlier.store.writeBatch(batch(p, 'sEarlier', 't', [meta(0, T, 'https://d.test/0')]));
    await earlier.store.close();

    const first = open(carryFile, db, atInsert);
    await first.store.migrate();
    expect(await first.store.writeBatch(batch(p, 'sA', 't', [meta(0, T, 'https://d.test/a'), click(1, T + 1), click(2, T + 2)]))).toBe(2);
    await first.store.flush();
    expect(existsSync(carryFile)).toBe(false);
    expect(readFileSync(atInsert, 'utf8')).toContain('"sA"');
    await first.store.close();

    // The next process starts with the file as the killed one left it, and sends its rows again.
    copyFileSync(atInsert, carryFile);
    const next = open(carryFile, db, join(dir, 'unused.json'));
    await next.store.migrate();
    await next.store.flush();
    expect(existsSync(carryFile)).toBe(false);
    expect(await next.store.getSession(p, 'sA')).toMatchObject({ eventCount: 3, clickCount: 2 });
    const listed = await next.driver.query<{ events: string }>(
      `SELECT sum(event_count) AS events FROM ${db}.session_search WHERE project_id = {p:String} AND session_id = 'sA'`, { p });
    expect(Number(listed[0].events)).toBe(3);
    // A new batch after the restart still counts.
    expect(await next.store.writeBatch(batch(p, 'sA', 't', [click(3, T + 3)]))).toBe(3);
    await next.store.flush();
    expect(await next.store.getSession(p, 'sA')).toMatchObject({ eventCount: 4, clickCount: 3 });
    await next.store.close();
  });
});
