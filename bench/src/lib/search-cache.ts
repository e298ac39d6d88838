/**
 * The search bench's data (bench/src/search.ts, whose top comment says what it holds): both databases generated into
 * chDB, or found in the cache (bench/.tmp/search-cache, reused the same day), upgraded by migrations added since, and
 * `search_new`'s sessions written as unmerged delta rows the way writers send them.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MIGRATIONS, createStore, renderMigration, type Driver } from '@tandem/storage';
import { BENCH_ROOT } from './report.js';
import {
  DELTAS_PER_SESSION, attrsStatements, customEventStatement, deltaStatements, generationStatements, type SearchDataShape,
} from './search-data.js';

export const CACHE_DIR = resolve(BENCH_ROOT, '.tmp/search-cache');
/** Bumped when the generator changes, so a stale cache is rebuilt. */
const GENERATOR_VERSION = 3;

export interface CacheMeta {
  generator: number;
  sessions: number;
  now: number;
  day: string;
  migrateMs: number;
  generateMs: number;
}

/**
 * `search_new`'s sessions as unmerged delta rows (see the top comment). Merges are stopped first (they are
 * per process: stopped again at every run); when an earlier process merged some, the deltas are written anew.
 */
async function deltaRows(driver: Driver, sessions: number, rewrite: boolean): Promise<void> {
  for (const table of SESSION_TABLES) await driver.command(`SYSTEM STOP MERGES search_new.${table}`);
  const [row] = await driver.query<{ n: number | string; attrs: number | string; parts: number | string }>(
    `SELECT (SELECT count() FROM search_new.session_search) AS n, (SELECT count() FROM search_new.session_attrs) AS attrs,
       (SELECT count() FROM system.parts WHERE database = 'search_new' AND table = 'session_attrs' AND active) AS parts`);
  if (!rewrite && Number(row?.n) === sessions * DELTAS_PER_SESSION && Number(row?.parts) >= 2 && Number(row?.attrs) > sessions) return;
  console.log(`search: writing the sessions as ${DELTAS_PER_SESSION} delta rows each and their session_attrs rows (merges stopped)…`);
  for (const table of SESSION_TABLES) await driver.command(`TRUNCATE TABLE search_new.${table}`);
  for (const sql of deltaStatements('search_base', 'search_new')) await driver.command(sql); // session_search_mv copies them
  for (const sql of attrsStatements('search_base', 'search_new')) await driver.command(sql);
}
/**
 * The events are copied into search_new after migrate(), so its event_keys backfill (migration 15) found none: the
 * writer writes these rows with each event, here the backfill's join fills them (without them the event filter found
 * no session on a freshly generated cache). Only when the table is empty.
 */
async function eventKeys(driver: Driver): Promise<void> {
  const [row] = await driver.query<{ n: number | string }>('SELECT count() AS n FROM search_new.event_keys');
  if (Number(row?.n) > 0) return;
  await driver.command(`INSERT INTO search_new.event_keys (project_id, name, started_at, session_id)
    SELECT es.project_id, es.name, a.started_at, es.session_id FROM search_new.event_sessions AS es
    INNER JOIN (SELECT DISTINCT project_id, session_id, started_at FROM search_new.session_attrs) AS a
      ON es.project_id = a.project_id AND es.session_id = a.session_id`);
}
/**
 * The tables the writer writes per session (and the list's copies: session_facets since migration 16, attr_keys since 20): merges stopped
 * while measuring unmerged, truncated and filled again (through the views on `sessions`) when the deltas are rewritten.
 */
export const SESSION_TABLES = ['sessions', 'session_search', 'session_attrs', 'session_facets', 'attr_keys'];

/** Creates both databases (or finds them cached), returns the shape of the data. */
export async function prepare(driver: Driver, sessions: number): Promise<CacheMeta> {
  const metaFile = resolve(CACHE_DIR, 'meta.json');
  const today = new Date().toISOString().slice(0, 10);
  if (existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as CacheMeta;
    const ok = meta.generator === GENERATOR_VERSION && meta.sessions === sessions && meta.day === today && !process.env.SEARCH_FRESH;
    const tables = await driver.query<{ n: number }>(
      `SELECT count() AS n FROM system.tables WHERE database IN ('search_base', 'search_new') AND name IN ('sessions', 'session_search')`);
    if (ok && Number(tables[0]?.n) === 3) {
      console.log(`search: reusing the cached data of ${meta.day} (${CACHE_DIR})`);
      // Migrations added since the cache was made (their backfills are then replaced by writer-like rows).
      const before = await driver.query<{ n: number | string }>('SELECT count() AS n FROM search_new.schema_migrations');
      await createStore(driver, { database: 'search_new' }).migrate();
      const after = await driver.query<{ n: number | string }>('SELECT count() AS n FROM search_new.schema_migrations');
      await deltaRows(driver, sessions, Number(after[0]?.n) !== Number(before[0]?.n));
      await eventKeys(driver); // a cache generated before this was filled lacks them
      return meta;
    }
  }
  await driver.command('DROP DATABASE IF EXISTS search_base');
  await driver.command('DROP DATABASE IF EXISTS search_new');
  const now = Date.now();
  const shape: SearchDataShape = { sessions, days: 29, now, projectId: 'p' };
  const oldSchema = async (db: string) => {
    await driver.command(`CREATE DATABASE ${db}`);
    await driver.command(`CREATE TABLE ${db}.schema_migrations (version UInt32, name String, applied_at DateTime64(3, 'UTC'))
      ENGINE = ReplacingMergeTree ORDER BY version`);
    for (const m of MIGRATIONS.filter((x) => x.version <= 2)) {
      for (const sql of renderMigration(m, { db, days: 30 })) await driver.command(sql);
      await driver.command(`INSERT INTO ${db}.schema_migrations VALUES (${m.version}, '${m.name.replace(/'/g, '')}', now64(3))`);
    }
  };
  console.log(`search: generating ${sessions.toLocaleString('en-US')} sessions with child rows into chDB…`);
  let t = performance.now();
  await oldSchema('search_base');
  // The old schema had no custom_events table; the baseline gets one without the name index.
  await driver.command(`CREATE TABLE search_base.custom_events (project_id LowCardinality(String), session_id String, tab_id String,
    seq UInt32, ts DateTime64(3, 'UTC'), name String, payload String, received_at DateTime('UTC'))
    ENGINE = ReplacingMergeTree PARTITION BY toYYYYMMDD(received_at) ORDER BY (project_id, session_id, tab_id, seq)`);
  for (const sql of generationStatements('search_base', shape)) await driver.command(sql);
  await driver.command(customEventStatement('search_base', shape));
  const generateMs = performance.now() - t;
  console.log(`search: generated in ${(generateMs / 1000).toFixed(1)} s; copying into search_new and migrating it…`);
  await oldSchema('search_new');
  for (const table of ['sessions', 'page_visits', 'console_logs', 'errors']) {
    await driver.command(`INSERT INTO search_new.${table} SELECT * FROM search_base.${table}`);
  }
  t = performance.now();
  await createStore(driver, { database: 'search_new' }).migrate(); // an existing install upgraded: 3, 4, 5…
  const migrateMs = performance.now() - t;
  await driver.command(`INSERT INTO search_new.custom_events (project_id, session_id, tab_id, seq, ts, name, payload, received_at)
    SELECT project_id, session_id, tab_id, seq, ts, name, payload, received_at FROM search_base.custom_events`);
  await eventKeys(driver);
  console.log(`search: migrate() on the 1M-session install took ${(migrateMs / 1000).toFixed(1)} s`);
  await deltaRows(driver, sessions, true);
  const meta: CacheMeta = { generator: GENERATOR_VERSION, sessions, now, day: today, migrateMs, generateMs };
  writeFileSync(metaFile, JSON.stringify(meta));
  return meta;
}
