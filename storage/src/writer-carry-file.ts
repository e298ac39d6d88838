import { appendFileSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Row } from './derive.js';

/**
 * The file that keeps the writer's carried session delta rows (`WriterOptions.carryFile`) while they wait
 * for an INSERT that succeeds, so a process killed while holding them loses no count. One JSON array of rows
 * per line: a flush appends its group's rows before acknowledging the group (writer.ts, deferred deltas);
 * a refused INSERT rewrites the whole file. Each line starts on a fresh line, so one torn by a failed append
 * never swallows the next.
 */

/**
 * The carried rows a previous process left (none when there is no file, or it cannot be read). A line that
 * does not parse (a process killed in the middle of an append) is skipped: its group was not acknowledged.
 */
export function loadCarried(file: string | undefined): Row[] {
  if (!file) return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const rows: Row[] = [];
  for (const line of text.split('\n')) {
    try {
      const parsed = line.trim() ? (JSON.parse(line) as unknown) : null;
      if (Array.isArray(parsed)) rows.push(...(parsed as Row[]));
    } catch {
      // a torn last line
    }
  }
  return rows;
}

/**
 * Adds rows to the file; returns whether they are in it. Synchronous and small (one group's session rows,
 * ~100 on the ingest bench, well under a millisecond): done on every flush that defers its deltas.
 */
export function appendCarried(file: string | undefined, rows: Row[]): boolean {
  if (!file) return false;
  const line = `\n${JSON.stringify(rows)}\n`;
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
 * Writes the carried rows whole (after ClickHouse refused a delta INSERT three times: rare and small), or removes
 * the file (an empty list: after the INSERT holding its rows succeeded); returns whether it succeeded. Written to a temporary
 * file and renamed, so a process killed mid-write leaves the previous whole file. A process killed between a
 * successful INSERT of the rows and the file's removal would write them again at its next start (a double
 * count of those rows): the window is one unlink.
 */
export function saveCarried(file: string | undefined, rows: Row[]): boolean {
  if (!file) return false;
  try {
    if (rows.length === 0) {
      unlinkSync(file);
      return true;
    }
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, `${JSON.stringify(rows)}\n`);
    renameSync(`${file}.tmp`, file);
    return true;
  } catch (err) {
    return rows.length === 0 && (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
