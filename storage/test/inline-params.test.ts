import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChdbDriver } from '../src/index.js';
import { inlineParams, stringLiteral } from '../src/inline-params.js';
import type { Driver } from '../src/types.js';

/** Values a user could send as an id, a search term or a tag: each must come back byte for byte. */
const HOSTILE = [
  "'", "\\", "\\'", "''", "a' OR 1=1 --", "x'); DROP TABLE t; --", "\\' OR '1'='1", "'\\\\'", '"', '`',
  '{p:String}', '{p:String}\'', '/* */', '-- comment', '\n\r\t\0\b\f', 'tab\there', 'nul\u0000byte',
  'é€😀', '\u2028\u2029', "x\\x27", "\\x27", '%27', "unhex('41')", '?', '$1', ';', '',
  'a'.repeat(5000),
];

describe('inlineParams (pure)', () => {
  it('writes strings with nothing but letters, digits and \\xHH escapes between the quotes', () => {
    for (const value of HOSTILE) {
      const lit = stringLiteral(value);
      expect(lit).toMatch(/^'(?:[A-Za-z0-9]|\\x[0-9a-f]{2})*'$/);
    }
  });

  it('writes integers within their type and refuses others (the caller binds them)', () => {
    expect(inlineParams('SELECT {n:UInt32}', { n: 5 })).toBe('SELECT CAST(5 AS UInt32)');
    expect(inlineParams('SELECT {n:Int64}', { n: -1 })).toBe('SELECT CAST(-1 AS Int64)');
    expect(inlineParams('SELECT {n:UInt32}', { n: -1 })).toBeNull();
    expect(inlineParams('SELECT {n:UInt8}', { n: 256 })).toBeNull();
    expect(inlineParams('SELECT {n:UInt32}', { n: 1.5 })).toBeNull();
    expect(inlineParams('SELECT {n:Int64}', { n: Number.MAX_SAFE_INTEGER + 2 })).toBeNull();
    expect(inlineParams('SELECT {n:UInt32}', { n: '5' })).toBeNull();
    expect(inlineParams('SELECT {n:UInt32}', { n: '5 OR 1' })).toBeNull();
    expect(inlineParams('SELECT {s:String}', { s: 5 })).toBeNull();
    expect(inlineParams('SELECT {f:Float64}', { f: 1 })).toBeNull();
    expect(inlineParams('SELECT {n:UInt32}', {})).toBeNull();
    expect(inlineParams('SELECT {a:Array(String)}', { a: ['x', 1] })).toBeNull();
    expect(inlineParams('SELECT {a:Array(String)}', { a: 'x' })).toBeNull();
    expect(inlineParams('SELECT {a:Array(Float64)}', { a: [1] })).toBeNull();
  });

  it('leaves placeholders inside quoted strings and comments alone, as ClickHouse does', () => {
    const sql = `SELECT '{p:String}', "{p:String}", \`{p:String}\`, 'it''s {p:String}', 'a\\'{p:String}' /* {p:String} */, {p:String} -- {p:String}`;
    expect(inlineParams(sql, { p: 'v' })).toBe(
      `SELECT '{p:String}', "{p:String}", \`{p:String}\`, 'it''s {p:String}', 'a\\'{p:String}' /* {p:String} */, 'v' -- {p:String}`,
    );
  });
});

describe('chDB driver with written-in parameters', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-inline-'));
  let driver: Driver;
  beforeAll(async () => {
    driver = createChdbDriver(dir);
    await driver.command('CREATE DATABASE IF NOT EXISTS inl');
    await driver.command('CREATE TABLE IF NOT EXISTS inl.t (k String, n UInt32) ENGINE = MergeTree ORDER BY (k, n)');
    await driver.insert('inl.t', HOSTILE.map((k, n) => ({ k, n })));
  });
  afterAll(async () => {
    await driver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns every hostile string byte for byte, many queries at once', async () => {
    const results = await Promise.all(HOSTILE.map((s, i) =>
      driver.query<{ v: string; n: number; same: number }>('SELECT {s:String} AS v, {n:UInt32} AS n, {s:String} = {t:String} AS same', { s, n: i, t: s })));
    results.forEach((rows, i) => {
      expect(rows).toEqual([{ v: HOSTILE[i].replace(/\u0000/g, '\u0000'), n: i, same: 1 }]);
    });
  });

  it('finds rows by hostile keys (and only those), arrays included, streams included', async () => {
    const found = await Promise.all(HOSTILE.map((k) =>
      driver.query<{ n: number }>('SELECT n FROM inl.t WHERE k = {k:String} ORDER BY n', { k })));
    found.forEach((rows, i) => expect(rows.map((r) => r.n)).toEqual([i]));
    const some = HOSTILE.slice(0, 10);
    const inList = await driver.query<{ c: string }>('SELECT count() AS c FROM inl.t WHERE k IN {ks:Array(String)}', { ks: some });
    expect(Number(inList[0].c)).toBe(some.length);
    const none = await driver.query<{ c: string }>('SELECT count() AS c FROM inl.t WHERE k IN {ks:Array(String)}', { ks: [] });
    expect(Number(none[0].c)).toBe(0);
    const lines: string[] = [];
    for await (const line of driver.queryLines('SELECT n FROM inl.t WHERE k IN {ks:Array(String)} ORDER BY n', { ks: ["a' OR 1=1 --", '\\'] })) lines.push(line);
    expect(lines.map((l) => JSON.parse(l).n)).toEqual([HOSTILE.indexOf('\\'), HOSTILE.indexOf("a' OR 1=1 --")]);
    // the table is still whole (a DROP in a value did nothing)
    const all = await driver.query<{ c: string }>('SELECT count() AS c FROM inl.t');
    expect(Number(all[0].c)).toBe(HOSTILE.length);
  });

  it('keeps a stream whole while queries run at the same time (a query on the connection would end it)', async () => {
    const queries = Array.from({ length: 40 }, (_, i) => driver.query<{ v: string }>('SELECT {s:String} AS v', { s: HOSTILE[i % HOSTILE.length] }));
    let n = 0;
    let sum = 0;
    // Small blocks: many fetches, each a chance for a concurrent query to land between them.
    for await (const line of driver.queryLines('SELECT number AS x FROM numbers(200000) SETTINGS max_block_size = 1000', { unused: 1 })) {
      n++;
      sum += Number(JSON.parse(line).x);
      if (n % 20000 === 0) queries.push(driver.query('SELECT {n:UInt32} AS n', { n }));
    }
    expect(n).toBe(200000);
    expect(sum).toBe((199999 * 200000) / 2);
    const answers = await Promise.all(queries);
    answers.slice(0, 40).forEach((rows, i) => expect((rows as { v: string }[])[0].v).toBe(HOSTILE[i % HOSTILE.length]));
  });

  it('keeps a stream whole while rows are inserted at the same time (an insert would end it too)', async () => {
    await driver.command('CREATE TABLE IF NOT EXISTS inl.ins (n UInt64) ENGINE = MergeTree ORDER BY n');
    const inserts: Promise<void>[] = [];
    let n = 0;
    for await (const line of driver.queryLines('SELECT number AS x FROM numbers(100000) SETTINGS max_block_size = 1000')) {
      n++;
      if (n % 10000 === 0) inserts.push(driver.insert('inl.ins', [{ n }]));
      void line;
    }
    expect(n).toBe(100000);
    await Promise.all(inserts);
    const rows = await driver.query<{ c: string }>('SELECT count() AS c FROM inl.ins');
    expect(Number(rows[0].c)).toBe(10);
  });

  it('still binds what it cannot write in (a Float64, an out-of-range integer)', async () => {
    const rows = await driver.query<{ f: number; s: string }>('SELECT {f:Float64} AS f, {s:String} AS s', { f: 1.5, s: "'" });
    expect(rows).toEqual([{ f: 1.5, s: "'" }]);
    // Out of range: bound as before, so the answer is ClickHouse's own for a bound 300 (it wraps to 44).
    expect(await driver.query('SELECT {n:UInt8} AS n', { n: 300 })).toEqual([{ n: 44 }]);
  });
});
