import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCarried } from '../src/writer-carry-file.js';
import { createChdbDriver, createStore, type TandemStore } from '../src/index.js';
import { batch, click, meta, uid, wrapDriver } from './fixtures.js';

/**
 * Deferred deltas (writer.ts): with a carry file, a group is acknowledged once its events are stored and its
 * session delta rows are appended to the file; while another group waits, the rows wait too and go with a
 * later flush's one `sessions` INSERT. A process killed between the ack and that INSERT leaves the rows in
 * the file, and the next process writes them: no count lost, and a re-sent batch (its events stored) counts
 * nothing. Each `events` INSERT is held here until the test lets it go, so which group waits is certain.
 */
const dir = mkdtempSync(join(tmpdir(), 'tandem-deferred-deltas-'));
const stores: TandemStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

interface Gated {
  store: TandemStore;
  /** `events` INSERTs waiting to be let go. */
  held: (() => void)[];
  /** Table names of every INSERT tried, in order. */
  inserts: string[];
  set: (o: { hold?: boolean; refuseEvents?: boolean; refuseSessions?: boolean }) => void;
}

/** One chDB data directory for every store here (one per process): each test closes its stores. */
function open(carryFile: string, database: string): Gated {
  const real = createChdbDriver(join(dir, 'data'));
  const held: (() => void)[] = [];
  const inserts: string[] = [];
  const flags = { hold: false, refuseEvents: false, refuseSessions: false };
  const driver = wrapDriver(real, {
    insert: async (table, rows, o) => {
      const name = table.slice(table.lastIndexOf('.') + 1);
      inserts.push(name);
      // Decided when the INSERT is sent (a held one keeps the flags of its time).
      const refuse = (name === 'events' && flags.refuseEvents) || (name === 'sessions' && flags.refuseSessions);
      if (name === 'events' && flags.hold) await new Promise<void>((r) => held.push(r));
      if (refuse) throw new Error(`${name} insert refused (test)`);
      return real.insert(table, rows, o);
    },
  });
  const store = createStore(driver, { database, maxDelayMs: 5, carryFile });
  stores.push(store);
  return { store, held, inserts, set: (o) => Object.assign(flags, o) };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
/** Long enough for a writeBatch call to load its tab and session and join the open group. */
const settle = () => new Promise((r) => setTimeout(r, 400));
const sessionInserts = (g: Gated) => g.inserts.filter((t) => t === 'sessions').length;

describe('deferred session deltas', () => {
  it('write several groups\' deltas in one INSERT under load, and before the ack when nothing waits', async () => {
    const carryFile = join(dir, 'load-carried.json');
    const g = open(carryFile, 'tandem_deferred_load');
    await g.store.migrate();
    g.inserts.length = 0;
    const p = uid('p');
    const T = Date.now();
    g.set({ hold: true });
    const a = g.store.writeBatch(batch(p, 'sA', 't', [meta(0, T, 'https://d.test/a'), click(1, T + 1)]));
    await until(() => g.held.length === 1, "A's events INSERT");
    const b = g.store.writeBatch(batch(p, 'sB', 't', [meta(0, T, 'https://d.test/b'), click(1, T + 1), click(2, T + 2)]));
    await settle();
    g.held.shift()!();
    expect(await a).toBe(1);
    // Acknowledged with its delta rows in the file, none in `sessions` yet: B's group waited.
    expect(sessionInserts(g)).toBe(0);
    expect(loadCarried(carryFile)).toMatchObject({ sealed: [], open: [{ session_id: 'sA', event_count: 2 }] });

    await until(() => g.held.length === 1, "B's events INSERT");
    const c = g.store.writeBatch(batch(p, 'sC', 't', [meta(0, T, 'https://d.test/c')]));
    await settle();
    g.held.shift()!();
    expect(await b).toBe(2);
    expect(sessionInserts(g)).toBe(0);

    await until(() => g.held.length === 1, "C's events INSERT");
    g.set({ hold: false });
    g.held.shift()!();
    expect(await c).toBe(0);
    // Nothing waited behind C: the three groups' rows went in one INSERT, before C's ack (no flush here).
    expect(sessionInserts(g)).toBe(1);
    expect(existsSync(carryFile)).toBe(false);
    expect(await g.store.getSession(p, 'sA')).toMatchObject({ eventCount: 2, clickCount: 1 });
    expect(await g.store.getSession(p, 'sB')).toMatchObject({ eventCount: 3, clickCount: 2 });
    expect(await g.store.getSession(p, 'sC')).toMatchObject({ eventCount: 1, clickCount: 0 });
    await g.store.close();
  });

  it('lose no count when the process dies between the ack and the delta INSERT, and count a re-sent batch once', async () => {
    const carryFile = join(dir, 'kill-carried.json');
    const atAck = join(dir, 'kill-carried-at-ack.json');
    const first = open(carryFile, 'tandem_deferred_kill');
    await first.store.migrate();
    first.inserts.length = 0;
    const p = uid('p');
    const T = Date.now();
    const batchA = batch(p, 'sA', 't', [meta(0, T, 'https://d.test/a'), click(1, T + 1), click(2, T + 2)]);
    // This process never gets a delta row into `sessions`: it "dies" before.
    first.set({ hold: true, refuseSessions: true });
    const a = first.store.writeBatch(batchA);
    await until(() => first.held.length === 1, "A's events INSERT");
    const b = first.store.writeBatch(batch(p, 'sB', 't', [meta(0, T, 'https://d.test/b')]));
    await settle();
    first.set({ hold: false, refuseEvents: true }); // B's events are not stored: its tracker will re-send it
    first.held.shift()!();
    expect(await a).toBe(2);
    // What a kill right after A's ack leaves on disk.
    copyFileSync(carryFile, atAck);
    expect(sessionInserts(first)).toBe(0);
    await expect(b).rejects.toThrow(/refused/);
    await expect(first.store.close()).rejects.toThrow(/could not be written/);

    copyFileSync(atAck, carryFile);
    const next = open(carryFile, 'tandem_deferred_kill');
    await next.store.migrate();
    // The tracker had A's ack: it does not re-send A; B was not acknowledged: re-sent. A re-sent A counts nothing.
    expect(await next.store.writeBatch(batchA)).toBe(2);
    expect(await next.store.writeBatch(batch(p, 'sB', 't', [meta(0, T, 'https://d.test/b')]))).toBe(0);
    await next.store.flush();
    expect(await next.store.getSession(p, 'sA')).toMatchObject({ eventCount: 3, clickCount: 2 });
    expect(await next.store.getSession(p, 'sB')).toMatchObject({ eventCount: 1 });
    expect(existsSync(carryFile)).toBe(false);
    expect(readFileSync(atAck, 'utf8')).toContain('"sA"');
    await next.store.close();
  });
});
