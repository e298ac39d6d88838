import { describe, expect, it } from 'vitest';
import { migrate } from '../src/migrations.js';
import type { Driver } from '../src/types.js';

/**
 * The DDL a cluster gets (CLICKHOUSE_CLUSTER). No ClickHouse cluster can run here (Debian's server is
 * 18.16), so the generated SQL is pinned by a snapshot a reviewer can read (cluster-ddl.sql next to this
 * file) and checked for the rules that make a cluster correct; the single-node form of the same steps is
 * what every chDB and stand-in test runs.
 */

/**
 * A driver that records what migrate() sends to a fresh database. It answers that the server knows the
 * MergeTree settings migration 8 looks up (a current ClickHouse), so its statements are in the snapshot.
 */
function recorder(): { driver: Driver; statements: string[] } {
  const statements: string[] = [];
  const driver: Driver = {
    kind: 'remote',
    async query<T>(sql: string) {
      const known = [{ name: 'auto_statistics_types' }, { name: 'default_compression_codec' }, { name: 'string_serialization_version' }];
      if (sql.includes('system.merge_tree_settings')) return known as T[];
      // events.data still has the CODEC(ZSTD(3)) migration 1 gave it.
      if (sql.includes('compression_codec')) return [{ codec: 'CODEC(ZSTD(3))' }] as T[];
      return [];
    },
    async *queryLines() {},
    async command(sql: string) { statements.push(sql); },
    async insert(table: string, rows: Record<string, unknown>[]) { statements.push(`-- INSERT INTO ${table}: ${rows.length} row(s)`); },
    async close() {},
  };
  return { driver, statements };
}

async function generate(cluster?: string): Promise<string[]> {
  const { driver, statements } = recorder();
  await migrate(driver, { db: 'tandem', retentionDays: 30, cluster });
  return statements;
}

describe('cluster DDL', () => {
  it('matches the reviewed snapshot (cluster and single node)', async () => {
    const join = (s: string[]) => `${s.join(';\n\n')};\n`;
    await expect(join(await generate('tandem_cluster'))).toMatchFileSnapshot('./__snapshots__/cluster-ddl.sql');
    await expect(join(await generate())).toMatchFileSnapshot('./__snapshots__/single-node-ddl.sql');
  });

  it('puts every table on the cluster: replicated local tables, Distributed tables under the usual names', async () => {
    const sql = await generate('c1');
    // The migration locks (6, 11) are plain tables on purpose: their CREATE must fail for every caller but one.
    const creates = sql.filter((s) => s.startsWith('CREATE TABLE') && !/migration_\d+_lock/.test(s));
    const locals = creates.filter((s) => /^CREATE TABLE IF NOT EXISTS tandem\.\w+_local ON CLUSTER c1 \(/.test(s));
    const dists = creates.filter((s) => / ENGINE = Distributed\(/.test(s));
    expect(locals.length).toBeGreaterThanOrEqual(14);
    expect(locals.length + dists.length).toBe(creates.length);
    for (const local of locals) {
      const name = /tandem\.(\w+)_local/.exec(local)![1];
      expect(local).toMatch(new RegExp(`ENGINE = Replicated\\w*MergeTree\\('/clickhouse/tables/\\{shard\\}/tandem/${name}_local', '\\{replica\\}'`));
      // Its Distributed table, named as the single-node table, over this local table (made again by migration 6
      // for the session tables).
      expect(dists.filter((d) => d.startsWith(`CREATE TABLE IF NOT EXISTS tandem.${name} ON CLUSTER c1 AS tandem.${name}_local`)).length).toBeGreaterThanOrEqual(1);
    }
    for (const s of sql.filter((x) => !x.startsWith('--') && !x.startsWith('INSERT'))) expect(s).toContain(' ON CLUSTER c1');
    expect(sql.join('\n')).not.toMatch(/ENGINE = (?!Replicated|Distributed)\w*MergeTree/);
  });

  it('shards every session table by session, so FINAL and the list copy see all of a session on one shard', async () => {
    const sql = await generate('c1');
    const sessionTables = ['sessions', 'events', 'keyframes', 'console_logs', 'network_requests', 'errors', 'page_visits',
      'custom_events', 'call_recordings', 'session_search'];
    for (const t of sessionTables) {
      expect(sql).toContain(`CREATE TABLE IF NOT EXISTS tandem.${t} ON CLUSTER c1 AS tandem.${t}_local\n  ENGINE = Distributed(c1, tandem, ${t}_local, cityHash64(project_id, session_id))`);
    }
    // session_facets has no session id: its sid is the same sharding value (a session's facet rows share its shard).
    expect(sql).toContain('CREATE TABLE IF NOT EXISTS tandem.session_facets ON CLUSTER c1 AS tandem.session_facets_local\n  ENGINE = Distributed(c1, tandem, session_facets_local, sid)');
    expect(sql.find((s) => s.startsWith('CREATE MATERIALIZED VIEW IF NOT EXISTS tandem.session_facets_mv'))).toMatch(/cityHash64\(project_id, session_id\) AS sid[^;]* FROM tandem\.sessions_local$/);
    // The list copy is kept on each shard from that shard's own sessions.
    expect(sql.find((s) => s.startsWith('CREATE MATERIALIZED VIEW'))).toMatch(/TO tandem\.session_search_local\n {2}AS SELECT [^;]* FROM tandem\.sessions_local$/);
  });

  it('adds columns to both tables of a pair, indexes and TTL to the local table only', async () => {
    const sql = await generate('c1');
    expect(sql).toContain('ALTER TABLE tandem.projects_local ON CLUSTER c1 ADD COLUMN IF NOT EXISTS require_consent UInt8 DEFAULT 0');
    expect(sql).toContain('ALTER TABLE tandem.projects ON CLUSTER c1 ADD COLUMN IF NOT EXISTS require_consent UInt8 DEFAULT 0');
    expect(sql.filter((s) => s.includes('ADD INDEX'))).toEqual([
      'ALTER TABLE tandem.custom_events_local ON CLUSTER c1 ADD INDEX IF NOT EXISTS name_bf lower(name) TYPE bloom_filter(0.01) GRANULARITY 1',
      ...['user_ng lowerUTF8(user_id) TYPE ngrambf_v1(3, 8192', 'first_url_ng lowerUTF8(first_url) TYPE ngrambf_v1(3, 32768',
        'browser_ng lowerUTF8(browser) TYPE ngrambf_v1(3, 256', 'os_ng lowerUTF8(os) TYPE ngrambf_v1(3, 256', 'device_ng lowerUTF8(device) TYPE ngrambf_v1(3, 256']
        .map((i) => `ALTER TABLE tandem.session_attrs_local ON CLUSTER c1 ADD INDEX IF NOT EXISTS ${i}, 2, 0) GRANULARITY 1`),
    ]);
  });

  it('swaps in the aggregating session tables on every node and re-creates their Distributed tables (migration 6)', async () => {
    const sql = await generate('c1');
    const at = (prefix: string) => sql.findIndex((s) => s.startsWith(prefix));
    const rename = sql.find((s) => s.startsWith('RENAME TABLE'))!;
    expect(rename.replace(/\s+/g, ' ')).toBe('RENAME TABLE tandem.sessions_local TO tandem.sessions_v5_local, tandem.sessions_v6_local TO tandem.sessions_local, '
      + 'tandem.session_search_local TO tandem.session_search_v5_local, tandem.session_search_v6_local TO tandem.session_search_local ON CLUSTER c1');
    expect(sql.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS tandem.sessions_v6_local'))).toMatch(/ENGINE = ReplicatedAggregatingMergeTree\('\/clickhouse\/tables\/\{shard\}\/tandem\/sessions_v6_local', '\{replica\}'\)/);
    // After the swap the old Distributed table (old columns) is dropped and made again over the new local table.
    const recreate = sql.findIndex((s, i) => i > at('RENAME TABLE') && s.startsWith('CREATE TABLE IF NOT EXISTS tandem.sessions ON CLUSTER c1 AS tandem.sessions_local'));
    expect(sql.findIndex((s, i) => i > at('RENAME TABLE') && s === 'DROP TABLE IF EXISTS tandem.sessions ON CLUSTER c1 SYNC')).toBeLessThan(recreate);
    expect(at('CREATE MATERIALIZED VIEW IF NOT EXISTS tandem.session_search_mv ON CLUSTER c1 TO tandem.session_search_local\n  AS SELECT project_id, session_id, version, updated_at, visitor_id, user_id, started_at, first_event_at'))
      .toBeGreaterThan(recreate);
  });

  it('keeps event data small at rest on the local tables (migration 8)', async () => {
    const sql = await generate('c1');
    const at = sql.findIndex((s) => s.includes('auto_statistics_types'));
    expect(sql.slice(at, at + 6)).toEqual([
      "ALTER TABLE tandem.events_local ON CLUSTER c1 MODIFY SETTING auto_statistics_types = ''",
      "ALTER TABLE tandem.events_local ON CLUSTER c1 MODIFY SETTING string_serialization_version = 'single_stream'",
      "ALTER TABLE tandem.events_local ON CLUSTER c1 MODIFY COLUMN ts DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1))",
      "ALTER TABLE tandem.events_local ON CLUSTER c1 MODIFY SETTING default_compression_codec = 'ZSTD(3)'",
      'ALTER TABLE tandem.events_local ON CLUSTER c1 MODIFY COLUMN data REMOVE CODEC',
      'ALTER TABLE tandem.events_local ON CLUSTER c1 MODIFY TTL received_at + INTERVAL 60 MINUTE RECOMPRESS CODEC(ZSTD(19)), received_at + INTERVAL 30 DAY SETTINGS materialize_ttl_after_modify = 0',
    ]);
  });

  it('renders the single-node form without any cluster clause', async () => {
    const sql = (await generate()).join('\n');
    expect(sql).not.toMatch(/ON CLUSTER|_local|Replicated|Distributed/);
    expect(sql).toContain('CREATE TABLE IF NOT EXISTS tandem.sessions (');
  });
});
