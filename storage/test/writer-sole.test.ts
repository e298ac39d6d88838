import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createChdbDriver, createStore, type TandemStore } from '../src/index.js';
import { batch, click, jsError, meta, start, uid, wrapDriver } from './fixtures.js';

/**
 * A store whose process is its only writer (embedded chDB, StoreOptions.soleWriter) asks nothing before a
 * flush: the already-stored lookup (writer-uncount.ts) exists for other backends writing the same tabs, and
 * its query per flush cost the ingest bench a third of its events per CPU-second. A shared store still asks.
 * A restarted sole writer counts a re-sent batch once all the same: it starts a tab from its stored max(seq).
 */
const dir = mkdtempSync(join(tmpdir(), 'tandem-sole-'));
const real = createChdbDriver(join(dir, 'data'));
const lookups: string[] = [];
const driver = wrapDriver(real, {
  query: (sql, params) => {
    if (/SELECT DISTINCT project_id, session_id, tab_id, seq FROM/.test(sql)) lookups.push(sql);
    return real.query(sql, params);
  },
  close: async () => {},
});
const stores: TandemStore[] = [];
async function open(soleWriter: boolean): Promise<TandemStore> {
  const s = createStore(driver, { database: 'tandem_sole', maxDelayMs: 5, soleWriter });
  await s.migrate();
  stores.push(s);
  return s;
}
afterAll(async () => {
  for (const s of stores) await s.flush().catch(() => {});
  await real.close();
  rmSync(dir, { recursive: true, force: true });
});

async function writeTwo(store: TandemStore, p: string, T: number): Promise<void> {
  await store.startSession(start(p, 's', 't', { startedAt: T }));
  await store.writeBatch(batch(p, 's', 't', [meta(0, T, 'https://c.test/'), click(1, T + 1)]));
  await store.writeBatch(batch(p, 's', 't', [jsError(2, T + 2, 'x'), click(3, T + 3)]));
}

describe('the already-stored lookup', () => {
  it('is not made by a sole writer, and is by a shared one', async () => {
    const T = Date.now();
    const sole = await open(true);
    await writeTwo(sole, uid('p'), T);
    expect(lookups).toHaveLength(0);
    const shared = await open(false);
    await writeTwo(shared, uid('p'), T);
    expect(lookups.length).toBeGreaterThanOrEqual(2);
  });

  it('is not needed by a restarted sole writer: a re-sent batch is counted once', async () => {
    const p = uid('p');
    const T = Date.now();
    const first = await open(true);
    await writeTwo(first, p, T);
    // A new process on the same data (its caches empty) gets the second batch again (its ack was lost).
    const again = await open(true);
    expect(await again.writeBatch(batch(p, 's', 't', [jsError(2, T + 2, 'x'), click(3, T + 3), click(4, T + 4)]))).toBe(4);
    expect(await again.getSession(p, 's')).toMatchObject({ eventCount: 5, clickCount: 3, errorCount: 1 });
  });
});
