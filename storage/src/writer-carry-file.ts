import { appendFileSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Row } from './derive.js';

/**
 * The file that keeps the writer's session delta rows (`WriterOptions.carryFile`) from the moment their group's
 * events are stored until the `sessions` INSERT holding them succeeded, so a process killed meanwhile neither
 * loses nor doubles a count. Lines, each a JSON value:
 * - `[row, ...]`: one group's delta rows, appended before the group is acknowledged (writer.ts, deferred deltas);
 * - `{"token": "..."}`: a *seal*: every row line since the previous seal goes (went) to `sessions` as ONE INSERT
 *   with this `insert_deduplication_token`. Appended BEFORE that INSERT is sent, so a process killed after sending
 *   it leaves the rows with their token; the next process sends them again with the same token, and ClickHouse
 *   drops that INSERT if the first one landed (migration 21), or stores it if it did not.
 * The file is removed once every sealed INSERT succeeded; after a refused INSERT it is rewritten whole with the
 * sealed INSERTs still to do (each keeps its token). Each line starts on a fresh line, so one torn by a failed
 * append never swallows the next. Rows after the last seal were never sent: they get a new token when they are.
 */

/** Rows that went (or go) to `sessions` as one INSERT with this deduplication token. */
export interface SealedRows {
  token: string;
  rows: Row[];
}

export interface Carried {
  /** In file order: each is one INSERT, sent again with its own token. */
  sealed: SealedRows[];
  /** Rows after the last seal: never sent. */
  open: Row[];
}

/**
 * What a previous process left (nothing when there is no file, or it cannot be read). A line that does not
 * parse (a process killed in the middle of an append) is skipped: a torn row line's group was not acknowledged;
 * a torn seal's INSERT was never sent (the seal is written first), so its rows are still open.
 */
export function loadCarried(file: string | undefined): Carried {
  const carried: Carried = { sealed: [], open: [] };
  if (!file) return carried;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return carried;
  }
  for (const line of text.split('\n')) {
    let parsed: unknown;
    try {
      parsed = line.trim() ? JSON.parse(line) : null;
    } catch {
      continue; // a torn line
    }
    if (Array.isArray(parsed)) carried.open.push(...(parsed as Row[]));
    else if (parsed && typeof (parsed as { token?: unknown }).token === 'string' && carried.open.length > 0) {
      carried.sealed.push({ token: (parsed as { token: string }).token, rows: carried.open });
      carried.open = [];
    }
  }
  return carried;
}

/** Every row of `c`, sealed first (file order). */
export const carriedRows = (c: Carried): Row[] => [...c.sealed.flatMap((s) => s.rows), ...c.open];

function append(file: string, line: string): boolean {
  try {
    appendFileSync(file, line);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    try {
      mkdirSync(dirname(file), { recursive: true });
      appendFileSync(file, line);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Adds one group's rows to the file; returns whether they are in it. Synchronous and small (one group's session
 * rows, ~100 on the ingest bench, well under a millisecond): done on every flush that writes deltas.
 */
export function appendCarried(file: string | undefined, rows: Row[]): boolean {
  return !!file && append(file, `\n${JSON.stringify(rows)}\n`);
}

/**
 * Seals the rows appended since the last seal with `token` (see the top of this file): called before their INSERT
 * is sent. Returns whether the seal is in the file; when it is not (a full disk), a process killed after the
 * INSERT would send those rows again under a new token (the double count this guards against).
 */
export function sealCarried(file: string | undefined, token: string): boolean {
  return !!file && append(file, `\n${JSON.stringify({ token })}\n`);
}

/**
 * Rewrites the file with the sealed INSERTs still to do (after ClickHouse refused one three times: rare and small),
 * or removes it (none left: after every INSERT holding its rows succeeded); returns whether it succeeded. Written to
 * a temporary file and renamed, so a process killed mid-write leaves the previous whole file.
 */
export function saveCarried(file: string | undefined, sealed: SealedRows[]): boolean {
  if (!file) return false;
  try {
    if (sealed.length === 0) {
      unlinkSync(file);
      return true;
    }
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, sealed.map((s) => `${JSON.stringify(s.rows)}\n${JSON.stringify({ token: s.token })}\n`).join(''));
    renameSync(`${file}.tmp`, file);
    return true;
  } catch (err) {
    return sealed.length === 0 && (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
