CREATE DATABASE IF NOT EXISTS tandem ON CLUSTER tandem_cluster;

CREATE TABLE IF NOT EXISTS tandem.schema_migrations_local ON CLUSTER tandem_cluster (
  version UInt32, name String, applied_at DateTime64(3, 'UTC')
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/schema_migrations_local', '{replica}')
ORDER BY version;

CREATE TABLE IF NOT EXISTS tandem.schema_migrations ON CLUSTER tandem_cluster AS tandem.schema_migrations_local
  ENGINE = Distributed(tandem_cluster, tandem, schema_migrations_local, version);

CREATE TABLE IF NOT EXISTS tandem.store_settings_local ON CLUSTER tandem_cluster (
  name String, value String, updated_at DateTime64(3, 'UTC')
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/store_settings_local', '{replica}', updated_at)
ORDER BY name;

CREATE TABLE IF NOT EXISTS tandem.store_settings ON CLUSTER tandem_cluster AS tandem.store_settings_local
  ENGINE = Distributed(tandem_cluster, tandem, store_settings_local, cityHash64(name));

CREATE TABLE IF NOT EXISTS tandem.projects_local ON CLUSTER tandem_cluster (
  id String, name String, key String, allowed_origins Array(String),
        created_at DateTime64(3, 'UTC'), version UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/projects_local', '{replica}', version)
ORDER BY id;

CREATE TABLE IF NOT EXISTS tandem.projects ON CLUSTER tandem_cluster AS tandem.projects_local
  ENGINE = Distributed(tandem_cluster, tandem, projects_local, cityHash64(id));

CREATE TABLE IF NOT EXISTS tandem.agents_local ON CLUSTER tandem_cluster (
  id String, project_id String, email String, name String, role LowCardinality(String),
        password_hash String, created_at DateTime64(3, 'UTC'), disabled UInt8, version UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/agents_local', '{replica}', version)
ORDER BY id;

CREATE TABLE IF NOT EXISTS tandem.agents ON CLUSTER tandem_cluster AS tandem.agents_local
  ENGINE = Distributed(tandem_cluster, tandem, agents_local, cityHash64(id));

CREATE TABLE IF NOT EXISTS tandem.sessions_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String), session_id String, version UInt64, updated_at DateTime64(3, 'UTC'),
        visitor_id String, user_id String,
        started_at DateTime64(3, 'UTC'), first_event_at DateTime64(3, 'UTC'), ended_at DateTime64(3, 'UTC'), duration_ms UInt64,
        first_url String, last_url String, referrer String,
        page_count UInt32, event_count UInt32, error_count UInt32, console_error_count UInt32, click_count UInt32,
        tab_ids Array(String), tab_count UInt16,
        user_agent String, browser LowCardinality(String), browser_version LowCardinality(String),
        os LowCardinality(String), device LowCardinality(String), screen LowCardinality(String),
        language LowCardinality(String), timezone LowCardinality(String), country LowCardinality(String)
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/sessions_local', '{replica}', version)
ORDER BY (project_id, session_id)
      TTL toDateTime(updated_at) + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS tandem.sessions ON CLUSTER tandem_cluster AS tandem.sessions_local
  ENGINE = Distributed(tandem_cluster, tandem, sessions_local, cityHash64(project_id, session_id));

CREATE TABLE IF NOT EXISTS tandem.events_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String),
  session_id String,
  tab_id String,
  seq UInt32 CODEC(Delta, ZSTD(1)),
  ts DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
  type UInt8, data String CODEC(ZSTD(3)),
  received_at DateTime('UTC') DEFAULT now() CODEC(Delta, ZSTD(1))
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/events_local', '{replica}')
PARTITION BY toYYYYMMDD(received_at)
ORDER BY (project_id, session_id, tab_id, seq)
TTL received_at + INTERVAL 30 DAY
SETTINGS ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS tandem.events ON CLUSTER tandem_cluster AS tandem.events_local
  ENGINE = Distributed(tandem_cluster, tandem, events_local, cityHash64(project_id, session_id));

CREATE TABLE IF NOT EXISTS tandem.keyframes_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String),
  session_id String,
  tab_id String,
  seq UInt32 CODEC(Delta, ZSTD(1)),
  ts DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
  meta_seq Int64, meta_ts DateTime64(3, 'UTC'),
  received_at DateTime('UTC') DEFAULT now() CODEC(Delta, ZSTD(1))
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/keyframes_local', '{replica}')
PARTITION BY toYYYYMMDD(received_at)
ORDER BY (project_id, session_id, tab_id, seq)
TTL received_at + INTERVAL 30 DAY
SETTINGS ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS tandem.keyframes ON CLUSTER tandem_cluster AS tandem.keyframes_local
  ENGINE = Distributed(tandem_cluster, tandem, keyframes_local, cityHash64(project_id, session_id));

CREATE TABLE IF NOT EXISTS tandem.console_logs_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String),
  session_id String,
  tab_id String,
  seq UInt32 CODEC(Delta, ZSTD(1)),
  ts DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
  level LowCardinality(String), message String CODEC(ZSTD(1)), trace String CODEC(ZSTD(1)),
  received_at DateTime('UTC') DEFAULT now() CODEC(Delta, ZSTD(1))
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/console_logs_local', '{replica}')
PARTITION BY toYYYYMMDD(received_at)
ORDER BY (project_id, session_id, tab_id, seq)
TTL received_at + INTERVAL 30 DAY
SETTINGS ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS tandem.console_logs ON CLUSTER tandem_cluster AS tandem.console_logs_local
  ENGINE = Distributed(tandem_cluster, tandem, console_logs_local, cityHash64(project_id, session_id));

CREATE TABLE IF NOT EXISTS tandem.network_requests_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String),
  session_id String,
  tab_id String,
  seq UInt32 CODEC(Delta, ZSTD(1)),
  ts DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
  kind LowCardinality(String), method LowCardinality(String), url String CODEC(ZSTD(1)),
        status UInt16, duration_ms UInt32, request_bytes UInt64, response_bytes UInt64, error String,
  received_at DateTime('UTC') DEFAULT now() CODEC(Delta, ZSTD(1))
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/network_requests_local', '{replica}')
PARTITION BY toYYYYMMDD(received_at)
ORDER BY (project_id, session_id, tab_id, seq)
TTL received_at + INTERVAL 30 DAY
SETTINGS ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS tandem.network_requests ON CLUSTER tandem_cluster AS tandem.network_requests_local
  ENGINE = Distributed(tandem_cluster, tandem, network_requests_local, cityHash64(project_id, session_id));

CREATE TABLE IF NOT EXISTS tandem.errors_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String),
  session_id String,
  tab_id String,
  seq UInt32 CODEC(Delta, ZSTD(1)),
  ts DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
  kind LowCardinality(String), name String, message String, stack String CODEC(ZSTD(1)),
        source String, line UInt32, column UInt32,
  received_at DateTime('UTC') DEFAULT now() CODEC(Delta, ZSTD(1))
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/errors_local', '{replica}')
PARTITION BY toYYYYMMDD(received_at)
ORDER BY (project_id, session_id, tab_id, seq)
TTL received_at + INTERVAL 30 DAY
SETTINGS ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS tandem.errors ON CLUSTER tandem_cluster AS tandem.errors_local
  ENGINE = Distributed(tandem_cluster, tandem, errors_local, cityHash64(project_id, session_id));

CREATE TABLE IF NOT EXISTS tandem.page_visits_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String),
  session_id String,
  tab_id String,
  seq UInt32 CODEC(Delta, ZSTD(1)),
  ts DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
  url String, title String, referrer String, via LowCardinality(String),
  received_at DateTime('UTC') DEFAULT now() CODEC(Delta, ZSTD(1))
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/page_visits_local', '{replica}')
PARTITION BY toYYYYMMDD(received_at)
ORDER BY (project_id, session_id, tab_id, seq)
TTL received_at + INTERVAL 30 DAY
SETTINGS ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS tandem.page_visits ON CLUSTER tandem_cluster AS tandem.page_visits_local
  ENGINE = Distributed(tandem_cluster, tandem, page_visits_local, cityHash64(project_id, session_id));

-- INSERT INTO tandem.schema_migrations: 1 row(s);

ALTER TABLE tandem.projects_local ON CLUSTER tandem_cluster ADD COLUMN IF NOT EXISTS require_consent UInt8 DEFAULT 0;

ALTER TABLE tandem.projects ON CLUSTER tandem_cluster ADD COLUMN IF NOT EXISTS require_consent UInt8 DEFAULT 0;

ALTER TABLE tandem.agents_local ON CLUSTER tandem_cluster ADD COLUMN IF NOT EXISTS removed UInt8 DEFAULT 0;

ALTER TABLE tandem.agents ON CLUSTER tandem_cluster ADD COLUMN IF NOT EXISTS removed UInt8 DEFAULT 0;

CREATE TABLE IF NOT EXISTS tandem.api_keys_local ON CLUSTER tandem_cluster (
  id String, project_id String, name String, prefix String, secret_hash String,
        created_at DateTime64(3, 'UTC'), created_by String, revoked UInt8, version UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/api_keys_local', '{replica}', version)
ORDER BY id;

CREATE TABLE IF NOT EXISTS tandem.api_keys ON CLUSTER tandem_cluster AS tandem.api_keys_local
  ENGINE = Distributed(tandem_cluster, tandem, api_keys_local, cityHash64(id));

CREATE TABLE IF NOT EXISTS tandem.api_key_usage_local ON CLUSTER tandem_cluster (
  project_id String, key_id String, last_used_at DateTime64(3, 'UTC')
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/api_key_usage_local', '{replica}', last_used_at)
ORDER BY key_id;

CREATE TABLE IF NOT EXISTS tandem.api_key_usage ON CLUSTER tandem_cluster AS tandem.api_key_usage_local
  ENGINE = Distributed(tandem_cluster, tandem, api_key_usage_local, cityHash64(key_id));

-- INSERT INTO tandem.schema_migrations: 1 row(s);

CREATE TABLE IF NOT EXISTS tandem.call_recordings_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String), session_id String, recording_id String,
        agent_id String, agent_name String, started_at DateTime64(3, 'UTC'),
        duration_ms UInt64, bytes UInt64, mime_type LowCardinality(String), complete UInt8,
        received_at DateTime64(3, 'UTC'), version UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/call_recordings_local', '{replica}', version)
ORDER BY (project_id, session_id, recording_id)
      TTL toDateTime(received_at) + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS tandem.call_recordings ON CLUSTER tandem_cluster AS tandem.call_recordings_local
  ENGINE = Distributed(tandem_cluster, tandem, call_recordings_local, cityHash64(project_id, session_id));

-- INSERT INTO tandem.schema_migrations: 1 row(s);

CREATE TABLE IF NOT EXISTS tandem.session_search_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String), session_id String, version UInt64, updated_at DateTime64(3, 'UTC'),
        visitor_id String, user_id String,
        started_at DateTime64(3, 'UTC'), ended_at DateTime64(3, 'UTC'), duration_ms UInt64,
        first_url String, last_url String,
        page_count UInt32, event_count UInt32, error_count UInt32, console_error_count UInt32, click_count UInt32, tab_count UInt16,
        user_agent String, browser LowCardinality(String), browser_version LowCardinality(String),
        os LowCardinality(String), device LowCardinality(String), screen LowCardinality(String), country LowCardinality(String),
        INDEX user_bf user_id TYPE bloom_filter(0.01) GRANULARITY 1,
        INDEX visitor_bf visitor_id TYPE bloom_filter(0.01) GRANULARITY 1,
        INDEX session_bf session_id TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/session_search_local', '{replica}', version)
ORDER BY (project_id, started_at, session_id)
      TTL toDateTime(updated_at) + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS tandem.session_search ON CLUSTER tandem_cluster AS tandem.session_search_local
  ENGINE = Distributed(tandem_cluster, tandem, session_search_local, cityHash64(project_id, session_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS tandem.session_search_mv ON CLUSTER tandem_cluster TO tandem.session_search_local
  AS SELECT project_id, session_id, version, updated_at, visitor_id, user_id, started_at, ended_at, duration_ms,
  first_url, last_url, page_count, event_count, error_count, console_error_count, click_count, tab_count,
  user_agent, browser, browser_version, os, device, screen, country FROM tandem.sessions_local;

INSERT INTO tandem.session_search (project_id, session_id, version, updated_at, visitor_id, user_id, started_at, ended_at, duration_ms,
  first_url, last_url, page_count, event_count, error_count, console_error_count, click_count, tab_count,
  user_agent, browser, browser_version, os, device, screen, country) SELECT project_id, session_id, version, updated_at, visitor_id, user_id, started_at, ended_at, duration_ms,
  first_url, last_url, page_count, event_count, error_count, console_error_count, click_count, tab_count,
  user_agent, browser, browser_version, os, device, screen, country FROM tandem.sessions;

CREATE TABLE IF NOT EXISTS tandem.custom_events_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String),
  session_id String,
  tab_id String,
  seq UInt32 CODEC(Delta, ZSTD(1)),
  ts DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
  name String, payload String CODEC(ZSTD(1)),
  received_at DateTime('UTC') DEFAULT now() CODEC(Delta, ZSTD(1))
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/custom_events_local', '{replica}')
PARTITION BY toYYYYMMDD(received_at)
ORDER BY (project_id, session_id, tab_id, seq)
TTL received_at + INTERVAL 30 DAY
SETTINGS ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS tandem.custom_events ON CLUSTER tandem_cluster AS tandem.custom_events_local
  ENGINE = Distributed(tandem_cluster, tandem, custom_events_local, cityHash64(project_id, session_id));

ALTER TABLE tandem.custom_events_local ON CLUSTER tandem_cluster ADD INDEX IF NOT EXISTS name_bf lower(name) TYPE bloom_filter(0.01) GRANULARITY 1;

-- INSERT INTO tandem.schema_migrations: 1 row(s);

ALTER TABLE tandem.projects_local ON CLUSTER tandem_cluster ADD COLUMN IF NOT EXISTS canvas_recording LowCardinality(String) DEFAULT 'off';

ALTER TABLE tandem.projects ON CLUSTER tandem_cluster ADD COLUMN IF NOT EXISTS canvas_recording LowCardinality(String) DEFAULT 'off';

-- INSERT INTO tandem.schema_migrations: 1 row(s);

CREATE TABLE tandem.migration_6_lock ON CLUSTER tandem_cluster (taken_at DateTime) ENGINE = Log;

CREATE TABLE IF NOT EXISTS tandem.sessions_v6_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String), session_id String,
  version SimpleAggregateFunction(max, UInt64), updated_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
  visitor_id SimpleAggregateFunction(max, String), user_id SimpleAggregateFunction(anyLast, Nullable(String)),
  started_at SimpleAggregateFunction(min, DateTime64(3, 'UTC')), first_event_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))), last_event_at SimpleAggregateFunction(max, Nullable(DateTime64(3, 'UTC'))),
  first_url SimpleAggregateFunction(max, String), last_url SimpleAggregateFunction(anyLast, Nullable(String)), referrer SimpleAggregateFunction(max, String),
  page_count SimpleAggregateFunction(sum, UInt64), event_count SimpleAggregateFunction(sum, UInt64), error_count SimpleAggregateFunction(sum, UInt64), console_error_count SimpleAggregateFunction(sum, UInt64), click_count SimpleAggregateFunction(sum, UInt64),
  tab_ids SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
  user_agent SimpleAggregateFunction(max, String), browser SimpleAggregateFunction(max, LowCardinality(String)), browser_version SimpleAggregateFunction(max, LowCardinality(String)),
  os SimpleAggregateFunction(max, LowCardinality(String)), device SimpleAggregateFunction(max, LowCardinality(String)), screen SimpleAggregateFunction(max, LowCardinality(String)),
  language SimpleAggregateFunction(max, LowCardinality(String)), timezone SimpleAggregateFunction(max, LowCardinality(String)), country SimpleAggregateFunction(max, LowCardinality(String)),
  ended_at DateTime64(3, 'UTC') ALIAS ifNull(last_event_at, started_at),
  duration_ms UInt64 ALIAS if(isNull(first_event_at) OR isNull(last_event_at), 0,
    toUInt64(greatest(0, toUnixTimestamp64Milli(assumeNotNull(last_event_at)) - toUnixTimestamp64Milli(assumeNotNull(first_event_at))))),
  tab_count UInt16 ALIAS toUInt16(least(length(tab_ids), 65535))
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/tandem/sessions_v6_local', '{replica}')
ORDER BY (project_id, session_id)
TTL toDateTime(updated_at) + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS tandem.sessions_v6 ON CLUSTER tandem_cluster AS tandem.sessions_v6_local
  ENGINE = Distributed(tandem_cluster, tandem, sessions_v6_local, cityHash64(project_id, session_id));

CREATE TABLE IF NOT EXISTS tandem.session_search_v6_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String), session_id String,
  version SimpleAggregateFunction(max, UInt64), updated_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
  visitor_id SimpleAggregateFunction(max, String), user_id SimpleAggregateFunction(anyLast, Nullable(String)),
  started_at DateTime64(3, 'UTC'), first_event_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))), last_event_at SimpleAggregateFunction(max, Nullable(DateTime64(3, 'UTC'))),
  first_url SimpleAggregateFunction(max, String), last_url SimpleAggregateFunction(anyLast, Nullable(String)),
  page_count SimpleAggregateFunction(sum, UInt64), event_count SimpleAggregateFunction(sum, UInt64), error_count SimpleAggregateFunction(sum, UInt64), console_error_count SimpleAggregateFunction(sum, UInt64), click_count SimpleAggregateFunction(sum, UInt64),
  tab_ids SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
  user_agent SimpleAggregateFunction(max, String), browser SimpleAggregateFunction(max, LowCardinality(String)), browser_version SimpleAggregateFunction(max, LowCardinality(String)),
  os SimpleAggregateFunction(max, LowCardinality(String)), device SimpleAggregateFunction(max, LowCardinality(String)), screen SimpleAggregateFunction(max, LowCardinality(String)), country SimpleAggregateFunction(max, LowCardinality(String)),
  ended_at DateTime64(3, 'UTC') ALIAS ifNull(last_event_at, started_at),
  duration_ms UInt64 ALIAS if(isNull(first_event_at) OR isNull(last_event_at), 0,
    toUInt64(greatest(0, toUnixTimestamp64Milli(assumeNotNull(last_event_at)) - toUnixTimestamp64Milli(assumeNotNull(first_event_at))))),
  tab_count UInt16 ALIAS toUInt16(least(length(tab_ids), 65535)),
  INDEX user_bf user_id TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX visitor_bf visitor_id TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX session_bf session_id TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/tandem/session_search_v6_local', '{replica}')
ORDER BY (project_id, started_at, session_id)
TTL toDateTime(updated_at) + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS tandem.session_search_v6 ON CLUSTER tandem_cluster AS tandem.session_search_v6_local
  ENGINE = Distributed(tandem_cluster, tandem, session_search_v6_local, cityHash64(project_id, session_id));

INSERT INTO tandem.sessions_v6 (project_id, session_id, version, updated_at, visitor_id, user_id, started_at,
  first_event_at, last_event_at, first_url, last_url, referrer,
  page_count, event_count, error_count, console_error_count, click_count, tab_ids, user_agent, browser, browser_version, os, device, screen, language, timezone, country) SELECT project_id, session_id, version, updated_at, visitor_id, nullIf(user_id, ''), started_at,
  if(event_count > 0, first_event_at, NULL), if(event_count > 0, ended_at, NULL), first_url, nullIf(last_url, ''), referrer,
  page_count, event_count, error_count, console_error_count, click_count, tab_ids, user_agent, browser, browser_version, os, device, screen, language, timezone, country FROM tandem.sessions FINAL;

INSERT INTO tandem.session_search_v6 (project_id, session_id, version, updated_at, visitor_id, user_id, started_at, first_event_at,
  last_event_at, first_url, last_url, page_count, event_count, error_count, console_error_count, click_count, tab_ids, user_agent, browser, browser_version, os, device, screen, country) SELECT project_id, session_id, version, updated_at, visitor_id, user_id, started_at, first_event_at,
  last_event_at, first_url, last_url, page_count, event_count, error_count, console_error_count, click_count, tab_ids, user_agent, browser, browser_version, os, device, screen, country FROM tandem.sessions_v6;

DROP VIEW IF EXISTS tandem.session_search_mv ON CLUSTER tandem_cluster;

RENAME TABLE tandem.sessions_local TO tandem.sessions_v5_local, tandem.sessions_v6_local TO tandem.sessions_local,
      tandem.session_search_local TO tandem.session_search_v5_local, tandem.session_search_v6_local TO tandem.session_search_local ON CLUSTER tandem_cluster;

DROP TABLE IF EXISTS tandem.sessions ON CLUSTER tandem_cluster SYNC;

CREATE TABLE IF NOT EXISTS tandem.sessions ON CLUSTER tandem_cluster AS tandem.sessions_local
  ENGINE = Distributed(tandem_cluster, tandem, sessions_local, cityHash64(project_id, session_id));

DROP TABLE IF EXISTS tandem.sessions_v6 ON CLUSTER tandem_cluster SYNC;

DROP TABLE IF EXISTS tandem.session_search ON CLUSTER tandem_cluster SYNC;

CREATE TABLE IF NOT EXISTS tandem.session_search ON CLUSTER tandem_cluster AS tandem.session_search_local
  ENGINE = Distributed(tandem_cluster, tandem, session_search_local, cityHash64(project_id, session_id));

DROP TABLE IF EXISTS tandem.session_search_v6 ON CLUSTER tandem_cluster SYNC;

DROP TABLE IF EXISTS tandem.sessions_v5_local ON CLUSTER tandem_cluster SYNC;

DROP TABLE IF EXISTS tandem.session_search_v5_local ON CLUSTER tandem_cluster SYNC;

DROP TABLE IF EXISTS tandem.migration_6_lock ON CLUSTER tandem_cluster;

CREATE MATERIALIZED VIEW IF NOT EXISTS tandem.session_search_mv ON CLUSTER tandem_cluster TO tandem.session_search_local
  AS SELECT project_id, session_id, version, updated_at, visitor_id, user_id, started_at, first_event_at,
  last_event_at, first_url, last_url, page_count, event_count, error_count, console_error_count, click_count, tab_ids, user_agent, browser, browser_version, os, device, screen, country FROM tandem.sessions_local;

-- INSERT INTO tandem.schema_migrations: 1 row(s);

ALTER TABLE tandem.events_local ON CLUSTER tandem_cluster MODIFY SETTING auto_statistics_types = '';

ALTER TABLE tandem.events_local ON CLUSTER tandem_cluster MODIFY SETTING string_serialization_version = 'single_stream';

ALTER TABLE tandem.events_local ON CLUSTER tandem_cluster MODIFY COLUMN ts DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1));

ALTER TABLE tandem.events_local ON CLUSTER tandem_cluster MODIFY SETTING default_compression_codec = 'ZSTD(3)';

ALTER TABLE tandem.events_local ON CLUSTER tandem_cluster MODIFY COLUMN data REMOVE CODEC;

ALTER TABLE tandem.events_local ON CLUSTER tandem_cluster MODIFY TTL received_at + INTERVAL 60 MINUTE RECOMPRESS CODEC(ZSTD(19)), received_at + INTERVAL 30 DAY SETTINGS materialize_ttl_after_modify = 0;

-- INSERT INTO tandem.schema_migrations: 1 row(s);

CREATE TABLE IF NOT EXISTS tandem.session_attrs_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String), session_id String, version UInt64, updated_at DateTime64(3, 'UTC'),
  started_at DateTime64(3, 'UTC'), visitor_id String, user_id String, first_url String, user_agent String,
  browser LowCardinality(String), browser_version LowCardinality(String), os LowCardinality(String), device LowCardinality(String), screen LowCardinality(String), country LowCardinality(String),
  INDEX user_bf user_id TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX visitor_bf visitor_id TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX session_bf session_id TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/session_attrs_local', '{replica}', version)
ORDER BY (project_id, started_at, session_id)
TTL toDateTime(updated_at) + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS tandem.session_attrs ON CLUSTER tandem_cluster AS tandem.session_attrs_local
  ENGINE = Distributed(tandem_cluster, tandem, session_attrs_local, cityHash64(project_id, session_id));

INSERT INTO tandem.session_attrs (project_id, session_id, version, updated_at, started_at, visitor_id, user_id, first_url, user_agent, browser, browser_version, os, device, screen, country)
  SELECT project_id, session_id, max(version), max(updated_at), started_at, max(visitor_id),
    ifNull(argMaxIf(user_id, version, user_id IS NOT NULL), ''), max(first_url), max(user_agent),
    max(browser), max(browser_version), max(os), max(device), max(screen), max(country)
  FROM tandem.session_search GROUP BY project_id, started_at, session_id;

CREATE TABLE IF NOT EXISTS tandem.page_texts_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String), text String, last_seen DateTime('UTC')
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/page_texts_local', '{replica}', last_seen)
ORDER BY (project_id, text)
TTL last_seen + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS tandem.page_texts ON CLUSTER tandem_cluster AS tandem.page_texts_local
  ENGINE = Distributed(tandem_cluster, tandem, page_texts_local, cityHash64(project_id, text));

CREATE TABLE IF NOT EXISTS tandem.page_sessions_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String), text String, received_at DateTime('UTC'), session_id String
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/page_sessions_local', '{replica}')
ORDER BY (project_id, text, received_at, session_id)
TTL received_at + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS tandem.page_sessions ON CLUSTER tandem_cluster AS tandem.page_sessions_local
  ENGINE = Distributed(tandem_cluster, tandem, page_sessions_local, cityHash64(project_id, session_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS tandem.page_texts_mv ON CLUSTER tandem_cluster TO tandem.page_texts_local
  AS SELECT project_id, text, received_at AS last_seen FROM tandem.page_visits_local ARRAY JOIN arrayDistinct(arrayFilter(x -> x != '', [url, title])) AS text;

CREATE MATERIALIZED VIEW IF NOT EXISTS tandem.page_sessions_mv ON CLUSTER tandem_cluster TO tandem.page_sessions_local
  AS SELECT project_id, text, received_at, session_id FROM tandem.page_visits_local ARRAY JOIN arrayDistinct(arrayFilter(x -> x != '', [url, title])) AS text;

INSERT INTO tandem.page_texts (project_id, text, last_seen) SELECT project_id, text, received_at AS last_seen FROM tandem.page_visits ARRAY JOIN arrayDistinct(arrayFilter(x -> x != '', [url, title])) AS text;

INSERT INTO tandem.page_sessions (project_id, text, received_at, session_id) SELECT project_id, text, received_at, session_id FROM tandem.page_visits ARRAY JOIN arrayDistinct(arrayFilter(x -> x != '', [url, title])) AS text;

-- INSERT INTO tandem.schema_migrations: 1 row(s);

CREATE TABLE tandem.migration_11_lock ON CLUSTER tandem_cluster (taken_at DateTime) ENGINE = Log;

DROP TABLE IF EXISTS tandem.session_search_v11 ON CLUSTER tandem_cluster SYNC;

DROP TABLE IF EXISTS tandem.session_search_v11_local ON CLUSTER tandem_cluster SYNC;

CREATE TABLE IF NOT EXISTS tandem.session_search_v11_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String), session_id String,
  version SimpleAggregateFunction(max, UInt64), updated_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
  visitor_id SimpleAggregateFunction(max, String), user_id SimpleAggregateFunction(anyLast, Nullable(String)),
  started_at DateTime64(3, 'UTC'), first_event_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))), last_event_at SimpleAggregateFunction(max, Nullable(DateTime64(3, 'UTC'))),
  first_url SimpleAggregateFunction(max, String), last_url SimpleAggregateFunction(anyLast, Nullable(String)),
  page_count SimpleAggregateFunction(sum, UInt64), event_count SimpleAggregateFunction(sum, UInt64), error_count SimpleAggregateFunction(sum, UInt64), console_error_count SimpleAggregateFunction(sum, UInt64), click_count SimpleAggregateFunction(sum, UInt64),
  tab_ids SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
  user_agent SimpleAggregateFunction(max, String), browser SimpleAggregateFunction(max, LowCardinality(String)), browser_version SimpleAggregateFunction(max, LowCardinality(String)),
  os SimpleAggregateFunction(max, LowCardinality(String)), device SimpleAggregateFunction(max, LowCardinality(String)), screen SimpleAggregateFunction(max, LowCardinality(String)), country SimpleAggregateFunction(max, LowCardinality(String)),
  ended_at DateTime64(3, 'UTC') ALIAS ifNull(last_event_at, started_at),
  duration_ms UInt64 ALIAS if(isNull(first_event_at) OR isNull(last_event_at), 0,
    toUInt64(greatest(0, toUnixTimestamp64Milli(assumeNotNull(last_event_at)) - toUnixTimestamp64Milli(assumeNotNull(first_event_at))))),
  tab_count UInt16 ALIAS toUInt16(least(length(tab_ids), 65535)),
  INDEX user_bf user_id TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX visitor_bf visitor_id TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX session_bf session_id TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/tandem/session_search_v11_local', '{replica}')
ORDER BY (project_id, started_at, session_id)
TTL toDateTime(updated_at) + INTERVAL 30 DAY
SETTINGS index_granularity = 256;

CREATE TABLE IF NOT EXISTS tandem.session_search_v11 ON CLUSTER tandem_cluster AS tandem.session_search_v11_local
  ENGINE = Distributed(tandem_cluster, tandem, session_search_v11_local, cityHash64(project_id, session_id));

DROP VIEW IF EXISTS tandem.session_search_mv ON CLUSTER tandem_cluster;

INSERT INTO tandem.session_search_v11 (project_id, session_id, version, updated_at, visitor_id, user_id, started_at, first_event_at,
  last_event_at, first_url, last_url, page_count, event_count, error_count, console_error_count, click_count, tab_ids, user_agent, browser, browser_version, os, device, screen, country) SELECT project_id, session_id, version, updated_at, visitor_id, user_id, started_at, first_event_at,
  last_event_at, first_url, last_url, page_count, event_count, error_count, console_error_count, click_count, tab_ids, user_agent, browser, browser_version, os, device, screen, country FROM tandem.session_search;

RENAME TABLE tandem.session_search_local TO tandem.session_search_v10_local, tandem.session_search_v11_local TO tandem.session_search_local ON CLUSTER tandem_cluster;

DROP TABLE IF EXISTS tandem.session_search_v11 ON CLUSTER tandem_cluster SYNC;

DROP TABLE IF EXISTS tandem.migration_11_lock ON CLUSTER tandem_cluster;

DROP TABLE IF EXISTS tandem.session_search_v10_local ON CLUSTER tandem_cluster SYNC;

CREATE MATERIALIZED VIEW IF NOT EXISTS tandem.session_search_mv ON CLUSTER tandem_cluster TO tandem.session_search_local
  AS SELECT project_id, session_id, version, updated_at, visitor_id, user_id, started_at, first_event_at,
  last_event_at, first_url, last_url, page_count, event_count, error_count, console_error_count, click_count, tab_ids, user_agent, browser, browser_version, os, device, screen, country FROM tandem.sessions_local;

-- INSERT INTO tandem.schema_migrations: 1 row(s);

ALTER TABLE tandem.session_attrs_local ON CLUSTER tandem_cluster ADD INDEX IF NOT EXISTS user_ng lowerUTF8(user_id) TYPE ngrambf_v1(3, 8192, 2, 0) GRANULARITY 1;

ALTER TABLE tandem.session_attrs_local ON CLUSTER tandem_cluster ADD INDEX IF NOT EXISTS first_url_ng lowerUTF8(first_url) TYPE ngrambf_v1(3, 32768, 2, 0) GRANULARITY 1;

ALTER TABLE tandem.session_attrs_local ON CLUSTER tandem_cluster ADD INDEX IF NOT EXISTS browser_ng lowerUTF8(browser) TYPE ngrambf_v1(3, 256, 2, 0) GRANULARITY 1;

ALTER TABLE tandem.session_attrs_local ON CLUSTER tandem_cluster ADD INDEX IF NOT EXISTS os_ng lowerUTF8(os) TYPE ngrambf_v1(3, 256, 2, 0) GRANULARITY 1;

ALTER TABLE tandem.session_attrs_local ON CLUSTER tandem_cluster ADD INDEX IF NOT EXISTS device_ng lowerUTF8(device) TYPE ngrambf_v1(3, 256, 2, 0) GRANULARITY 1;

-- INSERT INTO tandem.schema_migrations: 1 row(s);

ALTER TABLE tandem.session_search_local ON CLUSTER tandem_cluster MODIFY SETTING min_compress_block_size = 8192, max_compress_block_size = 8192;

-- INSERT INTO tandem.schema_migrations: 1 row(s);

CREATE TABLE IF NOT EXISTS tandem.event_sessions_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String), name String, received_at DateTime('UTC'), session_id String
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/event_sessions_local', '{replica}')
ORDER BY (project_id, name, received_at, session_id)
TTL received_at + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS tandem.event_sessions ON CLUSTER tandem_cluster AS tandem.event_sessions_local
  ENGINE = Distributed(tandem_cluster, tandem, event_sessions_local, cityHash64(project_id, session_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS tandem.event_sessions_mv ON CLUSTER tandem_cluster TO tandem.event_sessions_local
  AS SELECT project_id, lower(name) AS name, received_at, session_id FROM tandem.custom_events_local;

INSERT INTO tandem.event_sessions (project_id, name, received_at, session_id) SELECT project_id, lower(name), received_at, session_id FROM tandem.custom_events;

-- INSERT INTO tandem.schema_migrations: 1 row(s);

CREATE TABLE IF NOT EXISTS tandem.page_keys_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String), text String, started_at DateTime64(3, 'UTC'), session_id String
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/page_keys_local', '{replica}')
ORDER BY (project_id, text, started_at, session_id)
TTL toDateTime(started_at) + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS tandem.page_keys ON CLUSTER tandem_cluster AS tandem.page_keys_local
  ENGINE = Distributed(tandem_cluster, tandem, page_keys_local, cityHash64(project_id, session_id));

CREATE TABLE IF NOT EXISTS tandem.event_keys_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String), name String, started_at DateTime64(3, 'UTC'), session_id String
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/event_keys_local', '{replica}')
ORDER BY (project_id, name, started_at, session_id)
TTL toDateTime(started_at) + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS tandem.event_keys ON CLUSTER tandem_cluster AS tandem.event_keys_local
  ENGINE = Distributed(tandem_cluster, tandem, event_keys_local, cityHash64(project_id, session_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS tandem.page_keys_texts_mv ON CLUSTER tandem_cluster TO tandem.page_texts_local
  AS SELECT project_id, text, toDateTime(started_at) AS last_seen FROM tandem.page_keys_local;

INSERT INTO tandem.page_keys (project_id, text, started_at, session_id)
  SELECT ps.project_id, ps.text, a.started_at, ps.session_id FROM tandem.page_sessions AS ps
  INNER JOIN (SELECT DISTINCT project_id, session_id, started_at FROM tandem.session_attrs) AS a ON ps.project_id = a.project_id AND ps.session_id = a.session_id SETTINGS distributed_product_mode = 'local';

INSERT INTO tandem.page_keys (project_id, text, started_at, session_id)
  SELECT project_id, first_url, started_at, session_id FROM tandem.session_attrs WHERE first_url != '';

INSERT INTO tandem.event_keys (project_id, name, started_at, session_id)
  SELECT es.project_id, es.name, a.started_at, es.session_id FROM tandem.event_sessions AS es
  INNER JOIN (SELECT DISTINCT project_id, session_id, started_at FROM tandem.session_attrs) AS a ON es.project_id = a.project_id AND es.session_id = a.session_id SETTINGS distributed_product_mode = 'local';

-- INSERT INTO tandem.schema_migrations: 1 row(s);

CREATE TABLE IF NOT EXISTS tandem.session_facets_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String), browser LowCardinality(String), os LowCardinality(String), device LowCardinality(String),
  started_at DateTime64(3, 'UTC'), sid UInt64,
  updated_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
  errors SimpleAggregateFunction(max, UInt8),
  first_event_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
  last_event_at SimpleAggregateFunction(max, Nullable(DateTime64(3, 'UTC')))
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/tandem/session_facets_local', '{replica}')
ORDER BY (project_id, browser, os, device, started_at, sid)
TTL toDateTime(updated_at) + INTERVAL 30 DAY
SETTINGS index_granularity = 1024;

CREATE TABLE IF NOT EXISTS tandem.session_facets ON CLUSTER tandem_cluster AS tandem.session_facets_local
  ENGINE = Distributed(tandem_cluster, tandem, session_facets_local, sid);

CREATE MATERIALIZED VIEW IF NOT EXISTS tandem.session_facets_mv ON CLUSTER tandem_cluster TO tandem.session_facets_local
  AS SELECT project_id, lower(browser) AS browser, lower(os) AS os, lower(device) AS device,
  started_at, cityHash64(project_id, session_id) AS sid, updated_at, toUInt8(error_count > 0) AS errors, first_event_at, last_event_at
  FROM tandem.sessions_local;

INSERT INTO tandem.session_facets (project_id, browser, os, device, started_at, sid, updated_at, errors, first_event_at, last_event_at) SELECT project_id, lower(browser) AS browser, lower(os) AS os, lower(device) AS device,
  started_at, cityHash64(project_id, session_id) AS sid, updated_at, toUInt8(error_count > 0) AS errors, first_event_at, last_event_at
  FROM tandem.session_search;

-- INSERT INTO tandem.schema_migrations: 1 row(s);

ALTER TABLE tandem.session_search_local ON CLUSTER tandem_cluster MODIFY SETTING min_compress_block_size = 1;

-- INSERT INTO tandem.schema_migrations: 1 row(s);

CREATE TABLE IF NOT EXISTS tandem.url_keys_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String), url String, started_at DateTime64(3, 'UTC'), session_id String, visit UInt8
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/url_keys_local', '{replica}', visit)
ORDER BY (project_id, url, started_at, session_id)
TTL toDateTime(started_at) + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS tandem.url_keys ON CLUSTER tandem_cluster AS tandem.url_keys_local
  ENGINE = Distributed(tandem_cluster, tandem, url_keys_local, cityHash64(project_id, session_id));

INSERT INTO tandem.url_keys (project_id, url, started_at, session_id, visit)
  SELECT pv.project_id, pv.url, a.started_at, pv.session_id, 1
  FROM (SELECT DISTINCT project_id, session_id, url FROM tandem.page_visits WHERE url != '') AS pv
  INNER JOIN (SELECT DISTINCT project_id, session_id, started_at FROM tandem.session_attrs) AS a ON pv.project_id = a.project_id AND pv.session_id = a.session_id SETTINGS distributed_product_mode = 'local';

INSERT INTO tandem.url_keys (project_id, url, started_at, session_id, visit)
  SELECT project_id, first_url, started_at, session_id, 0 FROM tandem.session_attrs WHERE first_url != '';

-- INSERT INTO tandem.schema_migrations: 1 row(s);

CREATE TABLE IF NOT EXISTS tandem.tab_spans_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String), session_id String, tab_id String,
  started_at SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
  ended_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
  seqs AggregateFunction(groupBitmap, UInt32),
  received_at SimpleAggregateFunction(max, DateTime('UTC'))
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/tandem/tab_spans_local', '{replica}')
PARTITION BY toYYYYMMDD(received_at)
ORDER BY (project_id, session_id, tab_id)
TTL received_at + INTERVAL 30 DAY
SETTINGS ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS tandem.tab_spans ON CLUSTER tandem_cluster AS tandem.tab_spans_local
  ENGINE = Distributed(tandem_cluster, tandem, tab_spans_local, cityHash64(project_id, session_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS tandem.tab_spans_mv ON CLUSTER tandem_cluster TO tandem.tab_spans_local
  AS SELECT project_id, session_id, tab_id, min(ts) AS started_at, max(ts) AS ended_at,
  groupBitmapState(seq) AS seqs, max(received) AS received_at
  FROM (SELECT project_id, session_id, tab_id, ts, seq, received_at AS received FROM tandem.events_local)
  GROUP BY project_id, session_id, tab_id, toYYYYMMDD(received);

INSERT INTO tandem.tab_spans SELECT project_id, session_id, tab_id, min(ts) AS started_at, max(ts) AS ended_at,
  groupBitmapState(seq) AS seqs, max(received) AS received_at
  FROM (SELECT project_id, session_id, tab_id, ts, seq, received_at AS received FROM tandem.events)
  GROUP BY project_id, session_id, tab_id, toYYYYMMDD(received);

-- INSERT INTO tandem.schema_migrations: 1 row(s);

CREATE TABLE IF NOT EXISTS tandem.attr_texts_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String), text String, last_seen DateTime('UTC')
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/attr_texts_local', '{replica}', last_seen)
ORDER BY (project_id, text)
TTL last_seen + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS tandem.attr_texts ON CLUSTER tandem_cluster AS tandem.attr_texts_local
  ENGINE = Distributed(tandem_cluster, tandem, attr_texts_local, cityHash64(project_id, text));

CREATE TABLE IF NOT EXISTS tandem.attr_keys_local ON CLUSTER tandem_cluster (
  project_id LowCardinality(String), text String, started_at DateTime64(3, 'UTC'), session_id String
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tandem/attr_keys_local', '{replica}')
ORDER BY (project_id, text, started_at, session_id)
TTL toDateTime(started_at) + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS tandem.attr_keys ON CLUSTER tandem_cluster AS tandem.attr_keys_local
  ENGINE = Distributed(tandem_cluster, tandem, attr_keys_local, cityHash64(project_id, session_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS tandem.attr_texts_mv ON CLUSTER tandem_cluster TO tandem.attr_texts_local
  AS SELECT project_id, text, toDateTime(started_at) AS last_seen FROM tandem.attr_keys_local;

CREATE MATERIALIZED VIEW IF NOT EXISTS tandem.attr_keys_mv ON CLUSTER tandem_cluster TO tandem.attr_keys_local
  AS SELECT project_id, text, started_at, session_id FROM tandem.session_attrs_local
  ARRAY JOIN arrayDistinct(arrayFilter(x -> x != '', [toString(user_id), toString(browser), toString(os), toString(device)])) AS text;

INSERT INTO tandem.attr_keys (project_id, text, started_at, session_id) SELECT project_id, text, started_at, session_id FROM tandem.session_attrs
  ARRAY JOIN arrayDistinct(arrayFilter(x -> x != '', [toString(user_id), toString(browser), toString(os), toString(device)])) AS text;

-- INSERT INTO tandem.schema_migrations: 1 row(s);

-- INSERT INTO tandem.schema_migrations: 1 row(s);

-- INSERT INTO tandem.store_settings: 2 row(s);
