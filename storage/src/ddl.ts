import type { Driver } from './types.js';

/**
 * The DDL generator behind the migrations: each schema change is written once as a *step*, and rendered
 * either for one server (chDB or a single ClickHouse) or for a cluster (`CLICKHOUSE_CLUSTER=<name>`).
 *
 * Adding a migration (see migrations.ts): use these step builders, never raw CREATE/ALTER text, so the
 * cluster form comes for free.
 *   table(name, columns, engine, tail, shardBy)  a table; `shardBy` says which rows live together
 *   alter(table, clause, { both })                ALTER TABLE; `both` when the Distributed table must follow
 *                                                 (ADD/MODIFY COLUMN); indexes, TTL and settings are local only
 *   view(name, to, select)                        a materialized view from local table to local table
 *   sql(text)                                     DML (INSERT ... SELECT): same text in both forms, it reads
 *                                                 and writes through the table names readers use
 *   run(fn)                                       a step that must look before it acts (fn gets the renderer)
 * `$db`, `$days` and `$recompress` in any text are replaced with the (checked) database, retention and
 * recompression delay (minutes).
 *
 * Single node: `CREATE TABLE $db.t (...) ENGINE = ReplacingMergeTree(v) ...`, exactly the SQL the store
 * always ran. Cluster `c`:
 *   CREATE TABLE $db.t_local ON CLUSTER c (...) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/$db/t_local', '{replica}', v) ...
 *   CREATE TABLE $db.t ON CLUSTER c AS $db.t_local ENGINE = Distributed(c, $db, t_local, <shardBy>)
 * so readers and writers keep using `$db.t`. Every row of one key must land on one shard (FINAL and
 * the aggregating merges only combine rows within a shard), so `shardBy` is a function of the key's
 * prefix: `cityHash64(project_id, session_id)` for everything about a session, the id for settings.
 * Materialized views sit on the local tables: a session's rows and its copies share a shard.
 */

export interface DdlTarget {
  db: string;
  days: number;
  /** A cluster name from the servers' `remote_servers`; unset = one server. */
  cluster?: string;
  /** `$recompress` in any text: minutes before event data is recompressed at rest (migration 8; default 60). */
  recompressAfterMinutes?: number;
}

/** A `*MergeTree` engine as written for one server, e.g. `ReplacingMergeTree(version)`. */
export type Step =
  | { kind: 'table'; name: string; columns: string; engine: string; tail: string; shardBy: string }
  | { kind: 'alter'; table: string; clause: string; both: boolean }
  | { kind: 'view'; name: string; to: string; select: string }
  | { kind: 'sql'; text: string }
  | { kind: 'run'; fn: (driver: Driver, ddl: Ddl) => Promise<void> };

/** Sharding for every table keyed by session: a session's rows (and their MV copies) share a shard. */
export const BY_SESSION = 'cityHash64(project_id, session_id)';

export const table = (name: string, columns: string, engine: string, tail: string, shardBy: string): Step =>
  ({ kind: 'table', name, columns, engine, tail, shardBy });
export const alter = (tableName: string, clause: string, opts: { both?: boolean } = {}): Step =>
  ({ kind: 'alter', table: tableName, clause, both: opts.both ?? false });
export const view = (name: string, to: string, select: string): Step => ({ kind: 'view', name, to, select });
export const sql = (text: string): Step => ({ kind: 'sql', text });
export const run = (fn: (driver: Driver, ddl: Ddl) => Promise<void>): Step => ({ kind: 'run', fn });

/** Renders steps for one target. */
export class Ddl {
  constructor(readonly target: DdlTarget) {}

  get clustered(): boolean {
    return !!this.target.cluster;
  }

  /** `$db`/`$days` substituted. */
  text(s: string): string {
    return s.replaceAll('$db', this.target.db).replaceAll('$days', String(this.target.days))
      .replaceAll('$recompress', String(this.target.recompressAfterMinutes ?? 60));
  }

  /** ` ON CLUSTER c` or nothing. */
  get on(): string {
    return this.target.cluster ? ` ON CLUSTER ${this.target.cluster}` : '';
  }

  /** The table that holds the rows: `t_local` on a cluster, `t` otherwise. */
  local(name: string): string {
    return this.target.cluster ? `${name}_local` : name;
  }

  createDatabase(): string {
    return `CREATE DATABASE IF NOT EXISTS ${this.target.db}${this.on}`;
  }

  /** Statements for a step (a `run` step renders nothing: it acts when migrate() runs it). */
  render(step: Step): string[] {
    const db = this.target.db;
    switch (step.kind) {
      case 'table': {
        const columns = this.text(step.columns).trim();
        const tail = this.text(step.tail).trim();
        if (!this.target.cluster) {
          return [`CREATE TABLE IF NOT EXISTS ${db}.${step.name} (\n  ${columns}\n) ENGINE = ${this.text(step.engine)}\n${tail}`.trimEnd()];
        }
        return [
          `CREATE TABLE IF NOT EXISTS ${db}.${this.local(step.name)}${this.on} (\n  ${columns}\n) ENGINE = ${this.replicated(step.name, this.text(step.engine))}\n${tail}`.trimEnd(),
          this.distributed(step.name, step.shardBy),
        ];
      }
      case 'alter': {
        const clause = this.text(step.clause);
        const local = `ALTER TABLE ${db}.${this.local(step.table)}${this.on} ${clause}`;
        return this.target.cluster && step.both ? [local, `ALTER TABLE ${db}.${step.table}${this.on} ${clause}`] : [local];
      }
      case 'view':
        return [`CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.${step.name}${this.on} TO ${db}.${this.local(step.to)}\n  AS ${this.localNames(this.text(step.select))}`];
      case 'sql':
        return [this.text(step.text)];
      case 'run':
        return [];
    }
  }

  /** The Distributed table over `name`'s local tables (cluster only). */
  distributed(name: string, shardBy: string): string {
    const { db, cluster } = this.target;
    return `CREATE TABLE IF NOT EXISTS ${db}.${name}${this.on} AS ${db}.${this.local(name)}\n  ENGINE = Distributed(${cluster}, ${db}, ${this.local(name)}, ${shardBy})`;
  }

  /**
   * `XMergeTree(args)` → `ReplicatedXMergeTree('<zk path>', '{replica}', args)`. The path names the
   * table (not `{uuid}`) so an operator can find it in Keeper; `{shard}`/`{replica}` are the servers' macros.
   */
  private replicated(name: string, engine: string): string {
    const m = /^(\w*MergeTree)(?:\((.*)\))?$/s.exec(engine.trim());
    if (!m) throw new Error(`cluster DDL: not a MergeTree engine: ${engine}`);
    const args = [`'/clickhouse/tables/{shard}/${this.target.db}/${this.local(name)}'`, `'{replica}'`];
    if (m[2]?.trim()) args.push(m[2].trim());
    return `Replicated${m[1]}(${args.join(', ')})`;
  }

  /** In a view's SELECT, `FROM $db.t` reads the local table on a cluster (each shard copies its own rows). */
  private localNames(select: string): string {
    if (!this.target.cluster) return select;
    return select.replace(new RegExp(`\\bFROM ${this.target.db}\\.(\\w+)`, 'g'), (_, t: string) => `FROM ${this.target.db}.${this.local(t)}`);
  }
}
