import { chTime, checkIdentifier } from './encode.js';
import { BY_SESSION, Ddl, alter, run, sql, table, view, type DdlTarget, type Step } from './ddl.js';
import { SEARCH_BLOCKS_STEPS, SEARCH_GRANULE_BLOCKS_STEPS, SEARCH_GRANULES_STEPS } from './search-granules.js';
import { EVENT_SESSIONS_STEPS, SESSION_ATTRS_STEPS, SESSION_ATTRS_TEXT_STEPS } from './session-attrs.js';
import { SEARCH_KEYS_STEPS, URL_KEYS_STEPS } from './search-keys.js';
import { SESSION_FACETS_STEPS } from './session-facets.js';
import { ATTR_KEYS_STEPS } from './search-attr-keys.js';
import { SESSION_TOTALS_STEPS } from './session-totals.js';
import { TAB_SPANS_STEPS } from './tab-spans.js';
import { DELTA_DEDUP_STEPS } from './writer-deltas.js';
import type { Driver } from './types.js';

/**
 * Numbered migrations, applied once each and recorded in `schema_migrations`. Append only: never
 * edit an applied one, add the next number. Every step is idempotent (IF NOT EXISTS, or a `run` step that
 * looks before it acts) so a crash between a step and its record only repeats harmless work. Steps are
 * written with the builders of ddl.ts, which render them for one server or for a cluster
 * (`CLICKHOUSE_CLUSTER`): see the comment at the top of ddl.ts before adding one.
 * Times are DateTime64(3, 'UTC') so text written by the drivers means the same whatever the server's
 * timezone. `$db` is the database, `$days` the retention; both are checked values, never user input.
 *
 * Session-data tables share one shape: ReplacingMergeTree ordered by (project_id, session_id, tab_id,
 * seq), so a retried batch that slips past the writer's ackSeq check collapses (reads also dedup with
 * `LIMIT 1 BY tab_id, seq` because merges are eventual). They expire by `received_at` (server clock:
 * a visitor's wrong clock must not delete or keep data), partitioned by day so expiry drops whole parts.
 */

const dataTable = (name: string, columns: string) => table(name, `project_id LowCardinality(String),
  session_id String,
  tab_id String,
  seq UInt32 CODEC(Delta, ZSTD(1)),
  ts DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
  ${columns},
  received_at DateTime('UTC') DEFAULT now() CODEC(Delta, ZSTD(1))`, 'ReplacingMergeTree', `PARTITION BY toYYYYMMDD(received_at)
ORDER BY (project_id, session_id, tab_id, seq)
TTL received_at + INTERVAL $days DAY
SETTINGS ttl_only_drop_parts = 1`, BY_SESSION);

/** Tables whose TTL follows retentionDays, with their TTL expression. */
export const TTL_TABLES: Record<string, string> = {
  sessions: 'toDateTime(updated_at) + INTERVAL $days DAY',
  // Migration 8: event JSON is recompressed with ZSTD(19) once it is $recompress minutes old (see EVENTS_AT_REST).
  events: 'received_at + INTERVAL $recompress MINUTE RECOMPRESS CODEC(ZSTD(19)), received_at + INTERVAL $days DAY',
  keyframes: 'received_at + INTERVAL $days DAY',
  console_logs: 'received_at + INTERVAL $days DAY',
  network_requests: 'received_at + INTERVAL $days DAY',
  errors: 'received_at + INTERVAL $days DAY',
  page_visits: 'received_at + INTERVAL $days DAY',
  call_recordings: 'toDateTime(received_at) + INTERVAL $days DAY',
  custom_events: 'received_at + INTERVAL $days DAY',
  session_search: 'toDateTime(updated_at) + INTERVAL $days DAY',
  session_attrs: 'toDateTime(updated_at) + INTERVAL $days DAY',
  page_texts: 'last_seen + INTERVAL $days DAY',
  page_sessions: 'received_at + INTERVAL $days DAY',
  event_sessions: 'received_at + INTERVAL $days DAY',
  page_keys: 'toDateTime(started_at) + INTERVAL $days DAY',
  event_keys: 'toDateTime(started_at) + INTERVAL $days DAY',
  url_keys: 'toDateTime(started_at) + INTERVAL $days DAY',
  tab_spans: 'received_at + INTERVAL $days DAY',
  session_facets: 'toDateTime(updated_at) + INTERVAL $days DAY',
  attr_texts: 'last_seen + INTERVAL $days DAY',
  attr_keys: 'toDateTime(started_at) + INTERVAL $days DAY',
};

/** The `sessions` columns the list shows or filters on, copied into `session_search` (migration 4). */
const SEARCH_COLUMNS = `project_id, session_id, version, updated_at, visitor_id, user_id, started_at, ended_at, duration_ms,
  first_url, last_url, page_count, event_count, error_count, console_error_count, click_count, tab_count,
  user_agent, browser, browser_version, os, device, screen, country`;

/**
 * Migration 8 (issue 8, bytes on disk ≤ 0.10× raw JSON): the events table at rest. Measured on the bytes
 * bench's minute (one session alone in the table, one part; docs/decisions.md "Bytes on disk"):
 * - `auto_statistics_types = ''`: ClickHouse 25+ writes column statistics (`basic, uniq_v2`) into every
 *   part, 3.5 KB per part here (0.028× of the session's JSON) that no events query uses (they all read by
 *   primary key).
 * - inserts keep ZSTD(3) (`default_compression_codec`: ZSTD(19) compresses at a few MB/s, far below what
 *   ingest writes); parts `$recompress` minutes old are recompressed with ZSTD(19) at their next merge
 *   (TTL … RECOMPRESS; it only applies to columns without a CODEC of their own, hence REMOVE CODEC on `data`).
 * Both settings are recent: on a server that lacks one, its part is skipped (looked up first), and `data`
 * keeps its own CODEC(ZSTD(3)) unless inserts can get ZSTD(3) another way.
 */
const EVENTS_AT_REST: Step = run(async (driver, ddl) => {
  const known = new Set((await driver.query<{ name: string }>(
    `SELECT name FROM system.merge_tree_settings WHERE name IN ('auto_statistics_types', 'default_compression_codec', 'string_serialization_version')`,
  )).map((r) => r.name));
  const apply = async (step: Step) => {
    for (const statement of ddl.render(step)) await driver.command(statement);
  };
  if (known.has('auto_statistics_types')) await apply(alter('events', "MODIFY SETTING auto_statistics_types = ''"));
  // String lengths inline with the text (the format before ClickHouse 25.x) rather than in a stream of
  // their own: 0.2 KB less for the bench's minute at ZSTD(19), and every events read takes the text anyway.
  if (known.has('string_serialization_version')) await apply(alter('events', "MODIFY SETTING string_serialization_version = 'single_stream'"));
  // Timestamps grow steadily within a tab: DoubleDelta stores them smaller than Delta (a codec change
  // applies to new and merged parts, it rewrites nothing).
  await apply(alter('events', "MODIFY COLUMN ts DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1))"));
  if (known.has('default_compression_codec')) {
    await apply(alter('events', "MODIFY SETTING default_compression_codec = 'ZSTD(3)'"));
    // REMOVE CODEC fails on a column without one: look first, and again after a failure (another
    // instance migrating at the same moment may have removed it in between).
    const dataCodec = async () => (await driver.query<{ codec: string }>(
      `SELECT compression_codec AS codec FROM system.columns WHERE database = {db:String} AND table = {t:String} AND name = 'data'`,
      { db: ddl.target.db, t: ddl.local('events') },
    ))[0]?.codec ?? '';
    if (await dataCodec()) {
      try {
        await apply(alter('events', 'MODIFY COLUMN data REMOVE CODEC'));
      } catch (err) {
        if (await dataCodec()) throw err;
      }
    }
  }
  // Not materialized: rewriting every stored part at ZSTD(19) at once would stall a big install's start;
  // each part takes the rule at its next merge (merges compute TTLs anew).
  await apply(alter('events', `MODIFY TTL ${TTL_TABLES.events} SETTINGS materialize_ttl_after_modify = 0`));
});

export interface Migration {
  version: number;
  name: string;
  steps: Step[];
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    steps: [
      table('store_settings', `name String, value String, updated_at DateTime64(3, 'UTC')`,
        'ReplacingMergeTree(updated_at)', 'ORDER BY name', 'cityHash64(name)'),
      table('projects', `id String, name String, key String, allowed_origins Array(String),
        created_at DateTime64(3, 'UTC'), version UInt64`, 'ReplacingMergeTree(version)', 'ORDER BY id', 'cityHash64(id)'),
      table('agents', `id String, project_id String, email String, name String, role LowCardinality(String),
        password_hash String, created_at DateTime64(3, 'UTC'), disabled UInt8, version UInt64`,
        'ReplacingMergeTree(version)', 'ORDER BY id', 'cityHash64(id)'),
      // One row per session, rewritten (new version) by every flush that touches it; reads use FINAL.
      table('sessions', `project_id LowCardinality(String), session_id String, version UInt64, updated_at DateTime64(3, 'UTC'),
        visitor_id String, user_id String,
        started_at DateTime64(3, 'UTC'), first_event_at DateTime64(3, 'UTC'), ended_at DateTime64(3, 'UTC'), duration_ms UInt64,
        first_url String, last_url String, referrer String,
        page_count UInt32, event_count UInt32, error_count UInt32, console_error_count UInt32, click_count UInt32,
        tab_ids Array(String), tab_count UInt16,
        user_agent String, browser LowCardinality(String), browser_version LowCardinality(String),
        os LowCardinality(String), device LowCardinality(String), screen LowCardinality(String),
        language LowCardinality(String), timezone LowCardinality(String), country LowCardinality(String)`,
        'ReplacingMergeTree(version)', `ORDER BY (project_id, session_id)
      TTL toDateTime(updated_at) + INTERVAL $days DAY`, BY_SESSION),
      // `type` lets a restarted writer find the tab's last Meta event without parsing `data`.
      dataTable('events', 'type UInt8, data String CODEC(ZSTD(3))'),
      dataTable('keyframes', "meta_seq Int64, meta_ts DateTime64(3, 'UTC')"),
      dataTable('console_logs', 'level LowCardinality(String), message String CODEC(ZSTD(1)), trace String CODEC(ZSTD(1))'),
      dataTable('network_requests', `kind LowCardinality(String), method LowCardinality(String), url String CODEC(ZSTD(1)),
        status UInt16, duration_ms UInt32, request_bytes UInt64, response_bytes UInt64, error String`),
      dataTable('errors', `kind LowCardinality(String), name String, message String, stack String CODEC(ZSTD(1)),
        source String, line UInt32, column UInt32`),
      dataTable('page_visits', 'url String, title String, referrer String, via LowCardinality(String)'),
    ],
  },
  {
    version: 2,
    name: 'settings: consent, removable agents, API keys',
    steps: [
      alter('projects', 'ADD COLUMN IF NOT EXISTS require_consent UInt8 DEFAULT 0', { both: true }),
      // Removing an agent writes a new version with removed = 1 (reads skip it), which frees the email.
      alter('agents', 'ADD COLUMN IF NOT EXISTS removed UInt8 DEFAULT 0', { both: true }),
      table('api_keys', `id String, project_id String, name String, prefix String, secret_hash String,
        created_at DateTime64(3, 'UTC'), created_by String, revoked UInt8, version UInt64`,
        'ReplacingMergeTree(version)', 'ORDER BY id', 'cityHash64(id)'),
      // Uses live in their own table: a "touch" never rewrites the key row, so it cannot race a revoke.
      table('api_key_usage', `project_id String, key_id String, last_used_at DateTime64(3, 'UTC')`,
        'ReplacingMergeTree(last_used_at)', 'ORDER BY key_id', 'cityHash64(key_id)'),
    ],
  },
  {
    version: 3,
    name: 'call recordings',
    steps: [
      // One row per recording, a new version per chunk/finish (bytes and duration grow). Expires by
      // the server's receive time of its newest version, like the session it belongs to.
      table('call_recordings', `project_id LowCardinality(String), session_id String, recording_id String,
        agent_id String, agent_name String, started_at DateTime64(3, 'UTC'),
        duration_ms UInt64, bytes UInt64, mime_type LowCardinality(String), complete UInt8,
        received_at DateTime64(3, 'UTC'), version UInt64`, 'ReplacingMergeTree(version)',
        `ORDER BY (project_id, session_id, recording_id)
      TTL toDateTime(received_at) + INTERVAL $days DAY`, BY_SESSION),
    ],
  },
  {
    version: 4,
    name: 'search: session_search ordered by start, custom_events, filter indexes',
    steps: [
      // The list shows the newest sessions first, but `sessions` is ordered by session id (the writer and
      // the session page look sessions up by id), so every list query read and FINAL-merged the whole
      // project. This copy is ordered by start: a query reads only the time window it needs (the reader
      // widens the window until the page is full). A materialized view keeps it, so the writer is
      // untouched. Measured in bench/src/search.ts; the alternatives tried are in docs/decisions.md.
      table('session_search', `project_id LowCardinality(String), session_id String, version UInt64, updated_at DateTime64(3, 'UTC'),
        visitor_id String, user_id String,
        started_at DateTime64(3, 'UTC'), ended_at DateTime64(3, 'UTC'), duration_ms UInt64,
        first_url String, last_url String,
        page_count UInt32, event_count UInt32, error_count UInt32, console_error_count UInt32, click_count UInt32, tab_count UInt16,
        user_agent String, browser LowCardinality(String), browser_version LowCardinality(String),
        os LowCardinality(String), device LowCardinality(String), screen LowCardinality(String), country LowCardinality(String),
        INDEX user_bf user_id TYPE bloom_filter(0.01) GRANULARITY 1,
        INDEX visitor_bf visitor_id TYPE bloom_filter(0.01) GRANULARITY 1,
        INDEX session_bf session_id TYPE bloom_filter(0.01) GRANULARITY 1`, 'ReplacingMergeTree(version)',
        `ORDER BY (project_id, started_at, session_id)
      TTL toDateTime(updated_at) + INTERVAL $days DAY`, BY_SESSION),
      // Created before the backfill: a row written in between reaches the copy twice and collapses
      // (same key, same version), never zero times.
      view('session_search_mv', 'session_search', `SELECT ${SEARCH_COLUMNS} FROM $db.sessions`),
      sql(`INSERT INTO $db.session_search (${SEARCH_COLUMNS}) SELECT ${SEARCH_COLUMNS} FROM $db.sessions`),
      // `Tandem.track(name, payload)` events were kept in `events` only: the name filter reads them here.
      dataTable('custom_events', 'name String, payload String CODEC(ZSTD(1))'),
      alter('custom_events', 'ADD INDEX IF NOT EXISTS name_bf lower(name) TYPE bloom_filter(0.01) GRANULARITY 1'),
    ],
  },
  {
    // Numbered 5: versions 3 and 4 were taken by work landing in parallel (issue 10); gaps are fine,
    // each version is applied once whatever the order it lands in.
    version: 5,
    name: 'projects: canvas recording level',
    steps: [
      alter('projects', "ADD COLUMN IF NOT EXISTS canvas_recording LowCardinality(String) DEFAULT 'off'", { both: true }),
    ],
  },
  {
    // Counters summed by ClickHouse from each flush's delta row, so several backends writing one
    // session's tabs agree (was: a per-process cache writing whole rows). See session-totals.ts.
    version: 6,
    name: 'sessions: counters aggregated in ClickHouse',
    steps: SESSION_TOTALS_STEPS,
  },
  {
    version: 8,
    name: 'events at rest: no column statistics, inline string sizes, DoubleDelta ts, ZSTD(19) recompression after an hour',
    steps: [EVENTS_AT_REST],
  },
  {
    // One row per session for the searched attributes, and visited pages by text: see session-attrs.ts.
    version: 10,
    name: 'search: session_attrs (one row per session), page_texts and page_sessions',
    steps: SESSION_ATTRS_STEPS,
  },
  {
    // Smaller granules for the list's re-check of candidate keys: see search-granules.ts.
    version: 11,
    name: 'search: session_search rebuilt with 256-row granules',
    steps: SEARCH_GRANULES_STEPS,
  },
  {
    // A free-text needle no session holds skips session_attrs' granules: see session-attrs.ts.
    version: 12,
    name: 'search: n-gram indexes on session_attrs text columns',
    steps: SESSION_ATTRS_TEXT_STEPS,
  },
  {
    // The re-check decompresses less per candidate key: see search-granules.ts.
    version: 13,
    name: 'search: session_search with 8 KB compressed blocks',
    steps: SEARCH_BLOCKS_STEPS,
  },
  {
    // The custom event filter reads a name's sessions by primary key: see session-attrs.ts.
    version: 14,
    name: 'search: event_sessions (sessions per custom event name)',
    steps: EVENT_SESSIONS_STEPS,
  },
  {
    // A rare page, URL or event gives its sessions' keys by primary key, no session_attrs read: see search-keys.ts.
    version: 15,
    name: 'search: page_keys and event_keys (list keys per page text and event name)',
    steps: SEARCH_KEYS_STEPS,
  },
  {
    // A browser/OS/device with errors or a duration is one pruned read of the deltas' facts: see session-facets.ts.
    version: 16,
    name: 'search: session_facets (delta facts by browser, OS and device)',
    steps: SESSION_FACETS_STEPS,
  },
  {
    // The re-check decompresses only the granules it reads: see search-granules.ts.
    version: 17,
    name: 'search: session_search starts a compressed block at every granule',
    steps: SEARCH_GRANULE_BLOCKS_STEPS,
  },
  {
    // The URL filter's keys apart from titles, so its re-check reads no page_visits: see search-keys.ts.
    version: 18,
    name: 'search: url_keys (list keys per visited and landing URL)',
    steps: URL_KEYS_STEPS,
  },
  {
    // Each tab's first/last event and count kept at ingest, so the open reads no events for them: see tab-spans.ts.
    version: 19,
    name: 'sessions: tab_spans (per-tab span and distinct seqs, from an events view)',
    steps: TAB_SPANS_STEPS,
  },
  {
    // Free text matches user ids, browsers, OSes and devices by their distinct values, then keys by primary key: see
    // search-attr-keys.ts.
    version: 20,
    name: 'search: attr_texts and attr_keys (list keys per user id, browser, OS and device)',
    steps: ATTR_KEYS_STEPS,
  },
  {
    // A session delta INSERT sent again (a retry, a restart after a kill) counts once; two writers' equal ones both
    // count: deduplication by each INSERT's token, see writer-deltas.ts.
    version: 21,
    name: 'sessions: delta INSERTs deduplicated by token (a window on sessions, session_search, session_facets)',
    steps: DELTA_DEDUP_STEPS,
  },
];

/** Every statement migrate() would send for `m`, in order (run steps excluded): tests and snapshots. */
export function renderMigration(m: Migration, target: DdlTarget): string[] {
  const ddl = new Ddl(target);
  return m.steps.flatMap((step) => ddl.render(step));
}

/** The bookkeeping table, created before any migration. */
const SCHEMA_MIGRATIONS = table('schema_migrations', `version UInt32, name String, applied_at DateTime64(3, 'UTC')`,
  'ReplacingMergeTree', 'ORDER BY version', 'version');

export interface MigrateOptions {
  db: string;
  retentionDays: number;
  /** Cluster name (CLICKHOUSE_CLUSTER): replicated local tables + Distributed tables, DDL ON CLUSTER. */
  cluster?: string;
  /** Minutes before event data is recompressed at rest (StoreOptions.recompressAfterMinutes; default 60). */
  recompressAfterMinutes?: number;
}

export async function migrate(driver: Driver, opts: MigrateOptions): Promise<void> {
  const db = checkIdentifier(opts.db);
  if (opts.cluster !== undefined) checkIdentifier(opts.cluster);
  const days = Math.floor(opts.retentionDays);
  if (!(days >= 1 && days <= 36500)) throw new Error(`retentionDays must be 1..36500, got ${opts.retentionDays}`);
  const recompress = Math.floor(opts.recompressAfterMinutes ?? 60);
  if (!(recompress >= 0 && recompress <= 525_600)) throw new Error(`recompressAfterMinutes must be 0..525600, got ${opts.recompressAfterMinutes}`);
  const ddl = new Ddl({ db, days, cluster: opts.cluster || undefined, recompressAfterMinutes: recompress });
  await driver.command(ddl.createDatabase());
  for (const statement of ddl.render(SCHEMA_MIGRATIONS)) await driver.command(statement);
  const done = new Set(
    (await driver.query<{ version: number }>(`SELECT version FROM ${db}.schema_migrations`)).map((r) => Number(r.version)),
  );
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    for (const step of m.steps) {
      if (step.kind === 'run') await step.fn(driver, ddl);
      else for (const statement of ddl.render(step)) await driver.command(statement);
    }
    await driver.insert(`${db}.schema_migrations`, [{ version: m.version, name: m.name, applied_at: chTime(Date.now()) }]);
  }
  await applyRetention(driver, ddl);
}

/**
 * Tables are created with the retention (and events' recompression delay) of their first run; a changed
 * setting is applied with MODIFY TTL.
 */
async function applyRetention(driver: Driver, ddl: Ddl): Promise<void> {
  const { db, days } = ddl.target;
  const recompress = ddl.target.recompressAfterMinutes ?? 60;
  const rows = await driver.query<{ name: string; value: string }>(
    `SELECT name, argMax(value, updated_at) AS value FROM ${db}.store_settings
     WHERE name IN ('retention_days', 'recompress_after_minutes') GROUP BY name`,
  );
  const stored = (name: string) => {
    const row = rows.find((r) => r.name === name);
    return row ? Number(row.value) : null;
  };
  const current = stored('retention_days');
  // Null: migration 8 has just written the events TTL with today's delay (or this is a new install).
  const currentRecompress = stored('recompress_after_minutes');
  const settings = [];
  if (current !== days) {
    if (current !== null) {
      for (const [name, ttl] of Object.entries(TTL_TABLES)) {
        for (const statement of ddl.render(alter(name, `MODIFY TTL ${ttl}`))) await driver.command(statement);
      }
    }
    settings.push({ name: 'retention_days', value: String(days), updated_at: chTime(Date.now()) });
  }
  if (currentRecompress !== recompress) {
    if (currentRecompress !== null && current === days) {
      for (const statement of ddl.render(alter('events', `MODIFY TTL ${TTL_TABLES.events}`))) await driver.command(statement);
    }
    settings.push({ name: 'recompress_after_minutes', value: String(recompress), updated_at: chTime(Date.now()) });
  }
  if (settings.length) await driver.insert(`${db}.store_settings`, settings);
}
