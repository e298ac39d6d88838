import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ddl, MIGRATIONS, createChdbDriver, createStore, type Driver, type TandemStore } from '../src/index.js';
import { CHROME_UA, batch, custom, meta, start } from './fixtures.js';

/**
 * Migration 14: `event_sessions` (which sessions sent each custom event name) on an install that has custom events.
 * The upgrade backfills it from `custom_events`, the view keeps it for new events, and the event filter (which reads
 * it) finds the same sessions as before, in any case, by name and not by substring.
 */

const dir = mkdtempSync(join(tmpdir(), 'tandem-search-events-'));
const DB = 'tandem';
const P = 'p-events';
const ddl = new Ddl({ db: DB, days: 30 });
let driver: Driver;
let old: TandemStore;

/** The install as it was before migration 14: migrations 1–13 applied, as migrate() applied them then. */
async function migrateUpTo13(): Promise<void> {
  await driver.command(ddl.createDatabase());
  await driver.command(`CREATE TABLE ${DB}.schema_migrations (version UInt32, name String, applied_at DateTime64(3, 'UTC'))
    ENGINE = ReplacingMergeTree ORDER BY version`);
  for (const m of MIGRATIONS.filter((x) => x.version <= 13)) {
    for (const step of m.steps) {
      if (step.kind === 'run') await step.fn(driver, ddl);
      else for (const statement of ddl.render(step)) await driver.command(statement);
    }
    await driver.command(`INSERT INTO ${DB}.schema_migrations VALUES (${m.version}, 'm', now64(3))`);
  }
  // Today's writer (record() below) also writes migration 15's and 18's key tables, which migrate() creates before any writer
  // of today starts: the tables only, their backfills stay the migrations'.
  for (const step of MIGRATIONS.filter((x) => x.version === 15 || x.version === 18).flatMap((x) => x.steps)) {
    if (step.kind === 'table') for (const statement of ddl.render(step)) await driver.command(statement);
  }
}

/** A session that tracked `names` (Tandem.track), one flush. */
async function record(store: TandemStore, sessionId: string, startedAt: number, names: string[]) {
  await store.startSession(start(P, sessionId, 'tab', { startedAt, userAgent: CHROME_UA, url: 'https://shop.test/' }));
  await store.writeBatch(batch(P, sessionId, 'tab', [meta(0, startedAt, 'https://shop.test/'),
    ...names.map((name, i) => custom(i + 1, startedAt + 1000 + i, 'tandem/custom@1', { name, payload: { i } }))]));
  await store.flush();
}

const ids = async (store: TandemStore, event: string) => (await store.listSessions(P, { event })).sessions.map((s) => s.sessionId);
const eventSessions = async () => driver.query<{ name: string; session_id: string }>(
  `SELECT name, session_id FROM ${DB}.event_sessions FINAL WHERE project_id = {p:String} ORDER BY name, session_id`, { p: P });

beforeAll(async () => {
  driver = createChdbDriver(dir);
  await migrateUpTo13();
  old = createStore(driver, { database: DB });
  const now = Date.now();
  await record(old, 's-1', now - 3 * 86_400_000, ['Coupon_Applied', 'purchase']);
  await record(old, 's-2', now - 2 * 3_600_000, ['purchase']);
  await record(old, 's-3', now - 60_000, ['coupon_applied_v2']);
}, 120_000);

afterAll(async () => {
  await driver?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('migration 14 on an existing install', () => {
  it('backfills event_sessions from custom_events; the event filter reads it and answers as the old one did', async () => {
    const [before] = await driver.query<{ n: string }>(
      `SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = 'event_sessions'`, { db: DB });
    expect(Number(before.n)).toBe(0);
    const store = createStore(driver, { database: DB });
    await store.migrate();
    expect(await eventSessions()).toEqual([
      { name: 'coupon_applied', session_id: 's-1' }, { name: 'coupon_applied_v2', session_id: 's-3' },
      { name: 'purchase', session_id: 's-1' }, { name: 'purchase', session_id: 's-2' },
    ]);
    expect(await ids(store, 'coupon_applied')).toEqual(['s-1']);
    expect(await ids(store, 'COUPON_APPLIED')).toEqual(['s-1']);
    expect(await ids(store, 'coupon')).toEqual([]); // a name, not a substring
    expect(await ids(store, 'Purchase')).toEqual(['s-2', 's-1']);
    await store.migrate(); // applied once: nothing copied twice
    expect((await eventSessions()).length).toBe(4);
  }, 120_000);

  it('events written after the upgrade reach event_sessions through the view', async () => {
    const store = createStore(driver, { database: DB });
    await record(store, 's-4', Date.now() - 30_000, ['Purchase', 'signup']);
    expect(await ids(store, 'purchase')).toEqual(['s-4', 's-2', 's-1']);
    expect(await ids(store, 'SignUp')).toEqual(['s-4']);
  }, 60_000);
});
