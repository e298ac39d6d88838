import { randomUUID } from 'node:crypto';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { Driver, InsertOptions, LineFormat } from './types.js';

/**
 * A ClickHouse server (or cluster entry point) over HTTP with the official client. Same SQL as chDB;
 * `{name:Type}` placeholders are bound server-side from `query_params`.
 */
export function createRemoteDriver(url: string): Driver {
  return createClickHouseClientDriver(createClient({ url }));
}

/**
 * The remote driver over a ready client. Tests plug `chdb/connection` in as the client's connection to
 * run this code path (formats, binding, streaming) without a server.
 */
export function createClickHouseClientDriver(client: ClickHouseClient): Driver {
  return {
    kind: 'remote',

    async query<T>(sql: string, params?: Record<string, unknown>): Promise<T[]> {
      const rs = await client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
      return rs.json<T>();
    },

    async *queryLines(sql: string, params?: Record<string, unknown>, format: LineFormat = 'JSONEachRow') {
      const rs = await client.query({ query: sql, query_params: params, format });
      const stream = rs.stream();
      try {
        for await (const rows of stream) {
          for (const row of rows as Array<{ text: string }>) yield row.text;
        }
      } finally {
        // An early exit must not leave the HTTP response (and its socket) half read.
        if (!stream.destroyed) stream.destroy();
      }
    },

    async command(sql: string, params?: Record<string, unknown>): Promise<void> {
      // wait_end_of_query: DDL errors arrive as errors, not after a 200 already sent. insert_distributed_sync:
      // an INSERT ... SELECT into a Distributed table (cluster backfills) has reached the shards when it returns.
      await client.command({ query: sql, query_params: params, clickhouse_settings: { wait_end_of_query: 1, insert_distributed_sync: 1 } });
    },

    async insert(table: string, rows: Record<string, unknown>[], opts?: InsertOptions): Promise<void> {
      if (rows.length === 0) return;
      // The writer acks on this promise: the server must have written the part, not buffered the rows; on a
      // cluster (Distributed tables) the shards must have it, not the entry node's send queue. Deduplicated by
      // token only, never by content (InsertOptions). deduplicate_blocks_in_dependent_materialized_views: since
      // ClickHouse 24.7 a block the source table dropped still goes through its views, which drop it only with this
      // setting (default 1 on chDB 26.7; 0 on earlier servers: ClickHouse issue 76110).
      await client.insert({
        table, values: rows, format: 'JSONEachRow', clickhouse_settings: {
          async_insert: 0, insert_distributed_sync: 1,
          insert_deduplication_token: opts?.dedupToken ?? randomUUID(), deduplicate_blocks_in_dependent_materialized_views: 1,
        },
      });
    },

    async close(): Promise<void> {
      await client.close();
    },
  };
}
