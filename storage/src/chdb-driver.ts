import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Session, drainPending } from 'chdb';
import { toJsonEachRow, toTabSeparated } from './encode.js';
import { inlineParams } from './inline-params.js';
import type { Driver, InsertOptions, LineFormat, QueryOptions } from './types.js';

/**
 * Embedded ClickHouse (chDB) on the main thread, through its async calls only:
 * - the sync `query` blocks the event loop for the whole query;
 * - loading chDB in a worker thread segfaults the process when the worker exits;
 * - the engine is a process singleton: one data directory per process, locked against other processes;
 * - queries on one connection run one at a time inside libchdb (a query sent while another runs waits for
 *   it), but connections to the same directory run side by side (chdb's own Session docs: "N independent
 *   connections to the same bound path ... run in parallel"), so the driver can keep a few (connections).
 */
/**
 * Connections to the data directory. With one, every read waits for whatever query ran before it: an
 * open's detail and window (issue 10) queue behind the previous page's whole-tab timeline scan or a search.
 * Several spread the queries a page sends at once. But 1 by default: with 3, backend `live-backpressure`
 * hung (a call that never returned, 60 s) in both full-suite CI runs of session 10, and passed with 1 in
 * the same suite (docs/decisions.md, "lead (session 10)"). TANDEM_CHDB_CONNECTIONS (1-3) sets it until
 * that hang is understood. Always fewer than libuv's 4 pool threads (see onConnection).
 */
export const DEFAULT_CONNECTIONS = 1;
/** A background call waits at most about this long for other calls queued after it (see onConnection). */
export const BACKGROUND_MAX_WAIT_MS = 2_000;
const connectionsFromEnv = (): number => {
  const n = Number(process.env.TANDEM_CHDB_CONNECTIONS);
  return Number.isInteger(n) && n >= 1 && n <= 3 ? n : DEFAULT_CONNECTIONS;
};

export function createChdbDriver(path: string, opts: { connections?: number } = {}): Driver {
  const dir = resolve(path);
  mkdirSync(dir, { recursive: true });
  const sessions = Array.from({ length: Math.min(3, Math.max(1, opts.connections ?? connectionsFromEnv())) }, () => new Session(dir));
  let closed = false;

  /** A FIFO lock: `await lock()` returns the release function. */
  function makeLock() {
    let tail: Promise<void> = Promise.resolve();
    return async (): Promise<() => void> => {
      let release!: () => void;
      const turn = tail;
      tail = new Promise<void>((r) => (release = r));
      await turn;
      return release;
    };
  }
  // libchdb keeps bound parameters in state that concurrent bound queries clobber (chdb serializes its
  // own queryBindAsync calls for that reason), so every bound call of this driver runs alone. Most
  // queries never get here: their parameters are written in as literals (inline-params.ts) and they run
  // unbound, side by side.
  const boundSlot = makeLock();
  /** The SQL to run unbound, or null when it must be bound. */
  const unbound = (sql: string, params?: Record<string, unknown>): string | null =>
    !params || Object.keys(params).length === 0 ? sql : inlineParams(sql, params);

  /**
   * Runs `use` on a free connection, or waits (first come, first served) for one to be free: at most one
   * call per connection. Each chDB async call holds a thread of libuv's pool (4 by default) until it
   * returns, also while libchdb makes it wait for its connection, and the server's file reads (index.html,
   * the dashboard's scripts), crypto and zlib need that pool too: five queries queued on one connection held
   * an `fs.stat` for 445 ms. Queued here instead, chDB never holds more than its connections' count of those threads.
   *
   * Background calls (QueryOptions.background: a page's panels and timeline, asked after its first frame)
   * wait in a queue of their own, taken only when no other call waits, or once its first has waited
   * BACKGROUND_MAX_WAIT_MS (so a stream of other calls cannot hold them forever). A share link opened
   * while the previous page's panels and timeline scan were queued waited for all of them (issue 10).
   */
  const idle = sessions.map((_, i) => i);
  const waiting: ((k: number) => void)[] = [];
  const waitingBackground: { since: number; take: (k: number) => void }[] = [];
  async function onConnection<T>(use: (session: Session) => Promise<T>, opts: QueryOptions = {}): Promise<T> {
    const k = idle.length
      ? idle.shift()!
      : await new Promise<number>((resolve) => (opts.background ? waitingBackground.push({ since: performance.now(), take: resolve }) : waiting.push(resolve)));
    try {
      opts.signal?.throwIfAborted();
      return await use(sessions[k]);
    } finally {
      const first = waitingBackground[0];
      const next = first && (!waiting.length || performance.now() - first.since > BACKGROUND_MAX_WAIT_MS) ? waitingBackground.shift()!.take : waiting.shift();
      if (next) next(k);
      else idle.push(k);
    }
  }

  async function run(sql: string, params: Record<string, unknown> | undefined, format: string, opts: QueryOptions = {}): Promise<string> {
    const plain = unbound(sql, params);
    if (plain !== null) return onConnection(async (session) => (await session.queryAsync(plain, { format })).text(), opts);
    // Bound calls wait in the one bound slot first; taking it as background would hold it for the others.
    const releaseBound = await boundSlot();
    try {
      return await onConnection(async (session) => (await session.queryBindAsync(sql, params!, { format })).text());
    } finally {
      releaseBound();
    }
  }

  return {
    kind: 'chdb',

    async query<T>(sql: string, params?: Record<string, unknown>, opts?: QueryOptions): Promise<T[]> {
      const text = await run(sql, params, 'JSONEachRow', opts);
      const rows: T[] = [];
      for (const line of text.split('\n')) if (line) rows.push(JSON.parse(line) as T);
      return rows;
    },

    /**
     * The whole result read by one async query, then yielded line by line (callers page: readers.ts).
     * Not a chDB stream: starting one (`StreamQuery`) runs on the event loop and waits there for the
     * connection (seen holding the server's event loop 7–150 ms per call during an open, index.html's
     * and /auth/me's answers waiting meanwhile), and a stream needs its connection alone.
     */
    async *queryLines(sql: string, params?: Record<string, unknown>, format: LineFormat = 'JSONEachRow') {
      const text = await run(sql, params, format);
      let from = 0;
      for (;;) {
        const end = text.indexOf('\n', from);
        if (end < 0) {
          if (from < text.length) yield text.slice(from);
          return;
        }
        yield text.slice(from, end);
        from = end + 1;
      }
    },

    async command(sql: string, params?: Record<string, unknown>): Promise<void> {
      await run(sql, params, 'TabSeparated');
    },

    async insert(table: string, rows: Record<string, unknown>[], opts?: InsertOptions): Promise<void> {
      if (rows.length === 0) return;
      // Raw payload inserts: the engine parses the bytes itself. The `{values: objects}` form builds a
      // giant INSERT ... VALUES string on the main thread instead (measured 2-3x more main-thread time).
      const columns = Object.keys(rows[0]);
      const tsv = toTabSeparated(rows, columns);
      const values = tsv !== null ? Buffer.from(tsv) : Buffer.from(toJsonEachRow(rows));
      // Deduplicated by token only, never by content (InsertOptions). The views' tables follow their source's
      // token (chDB 26.7's default for deduplicate_blocks_in_dependent_materialized_views, said here anyway).
      const settings = { insert_deduplication_token: opts?.dedupToken ?? randomUUID(), deduplicate_blocks_in_dependent_materialized_views: 1 };
      await onConnection((session) =>
        tsv !== null ? session.insert({ table, values, format: 'TabSeparated', columns, settings }) : session.insert({ table, values, format: 'JSONEachRow', settings }));
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const session of sessions) session.close();
      // close() defers teardown behind running native calls; reopening the directory in this
      // process (tests, restarts) is refused until they are gone.
      await drainPending();
    },
  };
}
