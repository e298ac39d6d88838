import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Session, drainPending } from 'chdb';
import { toJsonEachRow, toTabSeparated } from './encode.js';
import { inlineParams } from './inline-params.js';
import type { Driver, LineFormat } from './types.js';

/**
 * Embedded ClickHouse (chDB) on the main thread, through its async calls only:
 * - the sync `query` blocks the event loop for the whole query;
 * - loading chDB in a worker thread segfaults the process when the worker exits;
 * - the engine is a process singleton: one data directory per process, locked against other processes.
 */
export function createChdbDriver(path: string): Driver {
  const dir = resolve(path);
  mkdirSync(dir, { recursive: true });
  const session = new Session(dir);
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
  /**
   * Shared or exclusive turns, first come first served: a waiting exclusive turn holds back later shared
   * ones (a stream is not starved by a steady flow of queries).
   */
  function makeSharedLock() {
    let sharedHolders = 0;
    let exclusiveHeld = false;
    const waiting: { exclusive: boolean; go: () => void }[] = [];
    const pump = () => {
      while (waiting.length > 0) {
        const next = waiting[0];
        if (exclusiveHeld || (next.exclusive && sharedHolders > 0)) return;
        waiting.shift();
        if (next.exclusive) exclusiveHeld = true;
        else sharedHolders++;
        next.go();
      }
    };
    const take = (exclusive: boolean) => new Promise<() => void>((resolve) => {
      waiting.push({
        exclusive,
        go: () => {
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            if (exclusive) exclusiveHeld = false;
            else sharedHolders--;
            pump();
          });
        },
      });
      pump();
    });
    return { shared: () => take(false), exclusive: () => take(true) };
  }
  // The session's connection, shared: queries run side by side, a stream runs alone. chDB allows one
  // active stream per session (a second one throws), and a query run on the connection while a stream is
  // open ends that stream in libchdb (its next fetch fails with "No active streaming query"; seen in the
  // seek bench once queries stopped taking turns with streams behind the bound lock below).
  const connection = makeSharedLock();
  // libchdb keeps bound parameters in state that concurrent bound queries clobber (chdb serializes its
  // own queryBindAsync calls for that reason, but not queryStreamBind), so every bound call of this
  // driver, streams included, runs alone. Most queries never get here: their parameters are written in
  // as literals (inline-params.ts) and they run unbound, side by side (a session's detail queries, an
  // auth lookup and a window's events no longer queue behind each other: issue 10, open ≤ 1 s).
  // Taken before `connection`, always, so the two locks cannot wait on each other.
  const boundSlot = makeLock();
  /** The SQL to run unbound, or null when it must be bound. */
  const unbound = (sql: string, params?: Record<string, unknown>): string | null =>
    !params || Object.keys(params).length === 0 ? sql : inlineParams(sql, params);

  async function run(sql: string, params: Record<string, unknown> | undefined, format: string): Promise<string> {
    const plain = unbound(sql, params);
    const releaseBound = plain === null ? await boundSlot() : () => {};
    const release = await connection.shared();
    try {
      return plain !== null
        ? (await session.queryAsync(plain, { format })).text()
        : (await session.queryBindAsync(sql, params!, { format })).text();
    } finally {
      release();
      releaseBound();
    }
  }

  return {
    kind: 'chdb',

    async query<T>(sql: string, params?: Record<string, unknown>): Promise<T[]> {
      const text = await run(sql, params, 'JSONEachRow');
      const rows: T[] = [];
      for (const line of text.split('\n')) if (line) rows.push(JSON.parse(line) as T);
      return rows;
    },

    /** Holds the connection alone (and, when bound, the bound slot) until drained: consume promptly. */
    async *queryLines(sql: string, params?: Record<string, unknown>, format: LineFormat = 'JSONEachRow') {
      const plain = unbound(sql, params);
      const releaseBound = plain === null ? await boundSlot() : () => {};
      const releaseStream = await connection.exclusive();
      try {
        const stream = plain === null ? session.queryStreamBind(sql, params!, { format }) : session.queryStream(plain, { format });
        try {
          let rest = '';
          for await (const chunk of stream) {
            const lines = (rest + chunk.text()).split('\n');
            rest = lines.pop() ?? '';
            for (const line of lines) yield line;
          }
          if (rest) yield rest;
        } finally {
          // Early exit (consumer break/throw) must free the session's single stream slot.
          if (!stream.closed) stream.cancel();
        }
      } finally {
        releaseStream();
        releaseBound();
      }
    },

    async command(sql: string, params?: Record<string, unknown>): Promise<void> {
      await run(sql, params, 'TabSeparated');
    },

    async insert(table: string, rows: Record<string, unknown>[]): Promise<void> {
      if (rows.length === 0) return;
      // Raw payload inserts: the engine parses the bytes itself. The `{values: objects}` form builds a
      // giant INSERT ... VALUES string on the main thread instead (measured 2-3x more main-thread time).
      const columns = Object.keys(rows[0]);
      const tsv = toTabSeparated(rows, columns);
      const values = tsv !== null ? Buffer.from(tsv) : Buffer.from(toJsonEachRow(rows));
      // An insert is a query on the connection too: run while a stream is open, it ends that stream
      // (checked: the stream's next fetch fails with "No active streaming query"). Streams hold the
      // connection only while one page drains (readers.ts), so an insert waits milliseconds, not for a
      // slow HTTP reader.
      const release = await connection.shared();
      try {
        if (tsv !== null) await session.insert({ table, values, format: 'TabSeparated', columns });
        else await session.insert({ table, values, format: 'JSONEachRow' });
      } finally {
        release();
      }
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      session.close();
      // close() defers teardown behind running native calls; reopening the directory in this
      // process (tests, restarts) is refused until they are gone.
      await drainPending();
    },
  };
}
