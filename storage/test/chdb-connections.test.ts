import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChdbDriver } from '../src/index.js';
import type { Driver } from '../src/types.js';

/**
 * The chDB driver keeps several connections to its directory: libchdb runs one query at a time per
 * connection, and with one an open's reads waited for the previous page's heavy scan (issue 10). And it
 * never has more calls in flight than connections: each holds one of libuv's 4 pool threads, which the
 * server's file reads need too.
 */
let dir: string;
let driver: Driver;

/**
 * Holds its connection 3 s whatever the machine's load (a CPU-bound query finished before the short
 * reads under the full suite's load, which failed the test without the driver being wrong).
 */
const SLOW = 'SELECT sleep(3) AS s';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-conn-'));
  driver = createChdbDriver(dir, { connections: 3 }); // the several-connections mode (TANDEM_CHDB_CONNECTIONS)
  await driver.command('CREATE DATABASE IF NOT EXISTS conn');
  await driver.command('CREATE TABLE IF NOT EXISTS conn.t (k String, n UInt64) ENGINE = MergeTree ORDER BY (k, n)');
  await driver.insert('conn.t', Array.from({ length: 3000 }, (_, n) => ({ k: 'a', n })));
});

afterAll(async () => {
  await driver.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('chDB driver connections', () => {
  it('answers short reads while a slow query runs, without waiting for it', async () => {
    const order: string[] = [];
    const slow = driver.query(SLOW).then(() => order.push('slow'));
    await new Promise((r) => setTimeout(r, 30));
    const lines: string[] = [];
    const short = Promise.all([
      driver.query<{ c: string }>('SELECT count() AS c FROM conn.t WHERE k = {k:String}', { k: 'a' }).then((rows) => (order.push('query'), rows)),
      (async () => {
        for await (const line of driver.queryLines('SELECT n FROM conn.t WHERE k = {k:String} ORDER BY n', { k: 'a' }, 'TabSeparatedRaw')) lines.push(line);
        order.push('lines');
      })(),
    ]);
    const [[rows]] = await Promise.all([short, slow]);
    expect(Number(rows[0].c)).toBe(3000);
    expect(lines).toEqual(Array.from({ length: 3000 }, (_, n) => String(n)));
    // Both short reads finished before the slow one: with one connection they queued behind it.
    expect(order.indexOf('slow')).toBe(2);
  });

  it("leaves libuv's pool a thread for file reads while slow queries queue", async () => {
    const order: string[] = [];
    const slow = Array.from({ length: 6 }, () => driver.query(SLOW).then(() => order.push('slow')));
    await new Promise((r) => setTimeout(r, 30));
    await stat(dir).then(() => order.push('stat'));
    await Promise.all(slow);
    // Six chDB calls in flight held all 4 pool threads: the stat waited for a query to finish.
    expect(order[0]).toBe('stat');
  });

  it('runs a background read after the calls queued behind it, and drops one whose page is gone before it ran', async () => {
    const one = createChdbDriver(dir, { connections: 1 }); // the default: every call queues on one connection
    try {
      const order: string[] = [];
      const busy = one.query('SELECT sleep(1) AS s').then(() => order.push('busy'));
      await new Promise((r) => setTimeout(r, 30));
      const gone = new AbortController();
      const dropped = one.query("INSERT INTO conn.t SELECT 'dropped', 1", undefined, { background: true, signal: gone.signal });
      const background = one.query('SELECT 1 AS x', undefined, { background: true }).then(() => order.push('background'));
      const open = one.query('SELECT 2 AS x').then(() => order.push('open'));
      gone.abort(new Error('page closed'));
      await expect(dropped).rejects.toThrow('page closed');
      await Promise.all([busy, background, open]);
      // The open's read was asked after the background one and ran before it; the dropped INSERT never ran.
      expect(order).toEqual(['busy', 'open', 'background']);
      const [{ c }] = await one.query<{ c: string }>("SELECT count() AS c FROM conn.t WHERE k = 'dropped'");
      expect(Number(c)).toBe(0);
    } finally {
      await one.close();
    }
  });
});
