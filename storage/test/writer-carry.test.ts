import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChdbDriver, createStore, type TandemStore } from '../src/index.js';
import { batch, click, jsError, meta, mouseMove, start, uid, wrapDriver } from './fixtures.js';

/**
 * Only the session delta INSERT fails (the last of a flush): the events are stored, so the batch is
 * acknowledged and its counts are carried to a later flush instead of being lost. Before, the group
 * failed, the tracker re-sent the batch, the writer found its events stored and counted nothing.
 */
const dir = mkdtempSync(join(tmpdir(), 'tandem-carry-'));
let failSessions = 0; // session delta INSERTs still to fail
let sessionInserts = 0;
let store: TandemStore;

beforeAll(async () => {
  const real = createChdbDriver(join(dir, 'data'));
  const driver = wrapDriver(real, {
    async insert(table, rows, o) {
      if (table.endsWith('.sessions')) {
        sessionInserts++;
        if (failSessions > 0) {
          failSessions--;
          throw new Error('sessions insert refused (test)');
        }
      }
      return real.insert(table, rows, o);
    },
  });
  store = createStore(driver, { database: 'tandem_carry', maxDelayMs: 5 });
  await store.migrate();
}, 60_000);
afterAll(async () => {
  await store?.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe('a failed session delta insert', () => {
  it('retries within the flush: a blip loses nothing and the batch succeeds', async () => {
    const p = uid('p');
    const T = Date.now();
    await store.startSession(start(p, 's', 't', { startedAt: T }));
    failSessions = 2; // the in-flush retries cover two failures
    const before = sessionInserts;
    expect(await store.writeBatch(batch(p, 's', 't', [meta(0, T, 'https://c.test/'), click(1, T + 1), jsError(2, T + 2, 'x')]))).toBe(2);
    expect(sessionInserts - before).toBe(3);
    expect(store.stats.deltaRowsCarried).toBe(0);
    expect(await store.getSession(p, 's')).toMatchObject({ eventCount: 3, clickCount: 1, errorCount: 1 });
  });

  it('carries the counts to a later flush when the retries fail too, and a re-sent batch counts nothing twice', async () => {
    const p = uid('p');
    const T = Date.now();
    await store.startSession(start(p, 's', 't', { startedAt: T }));
    await store.writeBatch(batch(p, 's', 't', [meta(0, T, 'https://c.test/')]));
    failSessions = 3; // the flush's three attempts
    const events = [click(1, T + 1), click(2, T + 2), jsError(3, T + 3, 'boom'), mouseMove(4, T + 4)];
    // The events are stored, so the batch is acknowledged.
    expect(await store.writeBatch(batch(p, 's', 't', events))).toBe(4);
    expect(store.stats.deltaRowsCarried).toBe(1);
    expect(await store.getAckSeq(p, 's', 't')).toBe(4);
    // A tracker that re-sends anyway (its ack was lost) adds nothing.
    expect(await store.writeBatch(batch(p, 's', 't', events))).toBe(4);
    // The carried row goes with the flush scheduled for it (about a second later), not lost.
    const deadline = Date.now() + 10_000;
    let session = await store.getSession(p, 's');
    while (session?.eventCount !== 5 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      session = await store.getSession(p, 's');
    }
    expect(session).toMatchObject({ eventCount: 5, clickCount: 2, errorCount: 1 });
    // And once only: the next batch adds just its own.
    expect(await store.writeBatch(batch(p, 's', 't', [click(5, T + 5)]))).toBe(5);
    expect(await store.getSession(p, 's')).toMatchObject({ eventCount: 6, clickCount: 3, errorCount: 1 });
  });

  it('flush (and so close) says when carried counts still cannot be written', async () => {
    const p = uid('p');
    const T = Date.now();
    await store.startSession(start(p, 's', 't', { startedAt: T }));
    await store.writeBatch(batch(p, 's', 't', [meta(0, T, 'https://c.test/')]));
    failSessions = 3;
    expect(await store.writeBatch(batch(p, 's', 't', [click(1, T + 1)]))).toBe(1);
    failSessions = 3; // the flush's own attempts fail too
    await expect(store.flush()).rejects.toThrow(/could not be written/);
    failSessions = 0;
    await store.flush();
    expect(await store.getSession(p, 's')).toMatchObject({ eventCount: 2, clickCount: 1 });
  });

  // Last: it closes the store.
  it('a closed store schedules no more flushes of carried rows on its closed driver', async () => {
    const p = uid('p');
    const T = Date.now();
    await store.startSession(start(p, 's', 't', { startedAt: T }));
    failSessions = 1_000;
    expect(await store.writeBatch(batch(p, 's', 't', [meta(0, T, 'https://c.test/')]))).toBe(0);
    await expect(store.close()).rejects.toThrow(/could not be written/);
    const attempts = sessionInserts;
    await new Promise((r) => setTimeout(r, 2_500)); // past the carried rows' scheduled flush (1 s)
    expect(sessionInserts).toBe(attempts);
  });
});
