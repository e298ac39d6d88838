import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClickHouseError, createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouseClientDriver } from '../src/index.js';
import { spawnChdbHttpServer, type SpawnedChdbHttpServer } from '../testing/index.js';

// The ClickHouse-HTTP stand-in in its own process, spoken to by the real @clickhouse/client over real HTTP.
const dir = mkdtempSync(join(tmpdir(), 'tandem-standin-'));
let server: SpawnedChdbHttpServer;
let client: ClickHouseClient;
const clients: ClickHouseClient[] = [];
const open = (extra: Parameters<typeof createClient>[0] = {}) => {
  const c = createClient({ url: server.url, ...extra });
  clients.push(c);
  return c;
};

beforeAll(async () => {
  server = await spawnChdbHttpServer({ dataDir: join(dir, 'data') });
  client = open();
  await client.command({ query: 'CREATE DATABASE IF NOT EXISTS standin' });
  await client.command({ query: 'CREATE TABLE IF NOT EXISTS standin.t (id UInt32, name String, tags Array(String)) ENGINE = MergeTree ORDER BY id' });
}, 60_000); // starting a process that loads chDB takes >10 s on a loaded machine

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

const tricky = "tab\there, newline\nthere, quote ' backslash \\ and \\N, émoji 🎉";

describe('ClickHouse-HTTP stand-in over chDB', () => {
  it('answers ping, and a query in the URL', async () => {
    expect((await client.ping()).success).toBe(true);
    const res = await fetch(`${server.url}/?query=${encodeURIComponent('SELECT 40 + 2')}`);
    expect(await res.text()).toBe('42\n');
  });

  it('binds query_params with the engine (strings with escapes, arrays, numbers)', async () => {
    const rs = await client.query({
      query: 'SELECT {s:String} AS s, length({s:String}) AS n, {a:Array(String)} AS a, {u:UInt64} + 1 AS u',
      query_params: { s: tricky, a: [tricky, "it's", ''], u: 41 },
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ s: tricky, n: String(Buffer.byteLength(tricky)), a: [tricky, "it's", ''], u: '42' }]);
  });

  it('inserts rows sent in the body (INSERT ... FORMAT in the URL) and reads them back', async () => {
    await client.insert({ table: 'standin.t', values: [{ id: 1, name: tricky, tags: ['a', "b'c"] }, { id: 2, name: 'two', tags: [] }], format: 'JSONEachRow' });
    const rs = await client.query({ query: 'SELECT * FROM standin.t WHERE id IN {ids:Array(UInt32)} ORDER BY id', query_params: { ids: [1, 2] }, format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ id: 1, name: tricky, tags: ['a', "b'c"] }, { id: 2, name: 'two', tags: [] }]);
  });

  it('uses the client database for unqualified names', async () => {
    const scoped = open({ database: 'standin' });
    const rs = await scoped.query({ query: 'SELECT currentDatabase() AS db, count() AS n FROM t WHERE id = 2', format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ db: 'standin', n: '1' }]);
  });

  it('reads gzip request bodies and gzips responses when asked', async () => {
    const gz = open({ compression: { request: true, response: true } });
    await gz.insert({ table: 'standin.t', values: [{ id: 3, name: 'x'.repeat(10_000), tags: ['gz'] }], format: 'JSONEachRow' });
    const rs = await gz.query({ query: 'SELECT name FROM standin.t WHERE id = 3', format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ name: 'x'.repeat(10_000) }]);
    // The wire itself: a gzip response to a client that asks for one.
    const res = await fetch(`${server.url}/?enable_http_compression=1`, { method: 'POST', body: 'SELECT 1', headers: { 'Accept-Encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(await res.text()).toBe('1\n'); // fetch decodes it
  });

  it('takes parameters from a multipart body', async () => {
    const mp = open({ use_multipart_params: true });
    const rs = await mp.query({ query: 'SELECT {s:String} AS s, {a:Array(String)} AS a', query_params: { s: tricky, a: ['x', tricky] }, format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ s: tricky, a: ['x', tricky] }]);
  });

  it('returns errors the way ClickHouse does: 500, Code text and exception-code header', async () => {
    const err = await client.query({ query: 'SELECT * FROM standin.missing', format: 'JSONEachRow' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClickHouseError);
    expect((err as ClickHouseError).code).toBe('60');
    expect((err as ClickHouseError).type).toBe('UNKNOWN_TABLE');
    const res = await fetch(server.url, { method: 'POST', body: 'SELEC 1' });
    expect(res.status).toBe(500);
    expect(res.headers.get('x-clickhouse-exception-code')).toBe('62');
    expect(await res.text()).toMatch(/^Code: 62\. DB::Exception: .*SYNTAX_ERROR/s);
  });

  it('applies settings per request and resets them for the next one', async () => {
    const read = async (settings?: Record<string, number>) => {
      const rs = await client.query({ query: "SELECT getSetting('max_threads') AS v", format: 'JSONEachRow', clickhouse_settings: settings });
      return Number(((await rs.json()) as { v: number }[])[0].v);
    };
    const before = await read();
    expect(await read({ max_threads: 3 })).toBe(3);
    expect(await read()).toBe(before);
  });

  it('keeps concurrent requests apart (each sees its own parameters and database)', async () => {
    const scoped = open({ database: 'standin' });
    const results = await Promise.all(Array.from({ length: 24 }, async (_, i) => {
      const c = i % 2 ? scoped : client;
      const rs = await c.query({ query: 'SELECT {i:UInt32} AS i, currentDatabase() AS db', query_params: { i }, format: 'JSONEachRow' });
      return (await rs.json<{ i: number; db: string }>())[0];
    }));
    results.forEach((r, i) => expect(r).toEqual({ i, db: i % 2 ? 'standin' : 'default' }));
  });

  it('streams rows to the remote driver', async () => {
    const driver = createClickHouseClientDriver(open());
    let n = 0;
    for await (const line of driver.queryLines('SELECT number AS n FROM numbers(20000) WHERE n >= {from:UInt32}', { from: 5 })) {
      expect(JSON.parse(line)).toEqual({ n: String(n + 5) });
      n++;
    }
    expect(n).toBe(19_995);
  });

  it('exits on SIGTERM, and the data is there for the next process on the same directory', async () => {
    await server.close();
    expect(server.child.exitCode).toBe(0);
    server = await spawnChdbHttpServer({ dataDir: join(dir, 'data') });
    const again = open();
    const rs = await again.query({ query: 'SELECT count() AS n FROM standin.t', format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ n: '3' }]);
  });
});
