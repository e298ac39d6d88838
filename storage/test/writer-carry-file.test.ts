import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createChdbDriver, createStore, type TandemStore } from '../src/index.js';
import { loadCarried } from '../src/writer-carry-file.js';
import { batch, click, jsError, meta, start, uid, wrapDriver } from './fixtures.js';

/**
 * Carried session counter rows (their events stored, their delta INSERT refused) are kept in a file, so a
 * process that dies holding them loses no count: the next store started with the same file writes them.
 * The "death" here is a close while ClickHouse still refuses the rows (the file stays, as after kill -9:
 * it is written when the rows are carried, not at exit); the next store opens the same chDB directory.
 */
const dir = mkdtempSync(join(tmpdir(), 'tandem-carry-file-'));
const carryFile = join(dir, 'storage-carried-deltas.json');
const stores: TandemStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

function open(refuseSessions: boolean): TandemStore {
  const real = createChdbDriver(join(dir, 'data'));
  const driver = wrapDriver(real, {
    insert: (table, rows, o) => (refuseSessions && table.endsWith('.sessions') ? Promise.reject(new Error('sessions insert refused (test)')) : real.insert(table, rows, o)),
  });
  const store = createStore(driver, { database: 'tandem_carry_file', maxDelayMs: 5, carryFile });
  stores.push(store);
  return store;
}

describe('carried counter rows in a file', () => {
  it('are written by the next process when the one holding them died', async () => {
    const first = open(true);
    await first.migrate();
    const p = uid('p');
    const T = Date.now();
    await first.startSession(start(p, 's', 't', { startedAt: T }));
    expect(await first.writeBatch(batch(p, 's', 't', [meta(0, T, 'https://c.test/'), click(1, T + 1), jsError(2, T + 2, 'x')]))).toBe(2);
    expect(first.stats.deltaRowsCarried).toBeGreaterThan(0);
    // Kept on disk as soon as they were carried.
    const kept = loadCarried(carryFile);
    expect(kept.open).toEqual([]);
    expect(kept.sealed.flatMap((s) => s.rows).map((r) => [r.session_id, Number(r.event_count)])).toContainEqual(['s', 3]);
    await expect(first.close()).rejects.toThrow(/could not be written/);
    expect(existsSync(carryFile)).toBe(true);

    // The next process: its first flush (scheduled at start) writes them, then the file goes.
    const next = open(false);
    await next.migrate();
    const deadline = Date.now() + 15_000;
    let session = await next.getSession(p, 's');
    while (session?.eventCount !== 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      session = await next.getSession(p, 's');
    }
    expect(session).toMatchObject({ eventCount: 3, clickCount: 1, errorCount: 1 });
    await next.flush();
    expect(existsSync(carryFile)).toBe(false);
    // Once only: another batch adds just its own.
    expect(await next.writeBatch(batch(p, 's', 't', [click(3, T + 3)]))).toBe(3);
    await next.flush();
    expect(await next.getSession(p, 's')).toMatchObject({ eventCount: 4, clickCount: 2, errorCount: 1 });
  });
});
