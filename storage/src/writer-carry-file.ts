import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Row } from './derive.js';

/**
 * The file that keeps the writer's carried session delta rows (`WriterOptions.carryFile`) while they wait
 * for an INSERT that succeeds, so a process killed while holding them loses no count.
 */

/** The carried rows a previous process left (none when there is no file, or it cannot be read). */
export function loadCarried(file: string | undefined): Row[] {
  if (!file) return [];
  try {
    const rows = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return Array.isArray(rows) ? (rows as Row[]) : [];
  } catch {
    return [];
  }
}

/**
 * Writes the carried rows (an empty list removes the file); returns whether it succeeded. Synchronous: rows
 * are carried only when ClickHouse refused a delta INSERT three times, rare and small. Written to a temporary
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
    writeFileSync(`${file}.tmp`, JSON.stringify(rows));
    renameSync(`${file}.tmp`, file);
    return true;
  } catch (err) {
    return rows.length === 0 && (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
