/**
 * Small value encoders shared by the drivers and the writer.
 */

/** DateTime64 holds 1900..2299; clamping keeps one absurd client clock from failing a whole INSERT. */
const MIN_MS = 0;
const MAX_MS = Date.UTC(2299, 11, 31);

/**
 * Epoch ms as 'YYYY-MM-DD hh:mm:ss.mmm' in UTC, for DateTime64(3, 'UTC') columns. Not a number:
 * ClickHouse reads a bare integer as ticks or seconds depending on version, refuses JSON floats,
 * and guesses short "seconds.millis" strings to be dates.
 */
export function chTime(ms: number): string {
  const t = Number.isFinite(ms) ? Math.min(MAX_MS, Math.max(MIN_MS, Math.floor(ms))) : 0;
  const second = Math.floor(t / 1000);
  // Events of a batch share their seconds: format each second once (toISOString was ~10% of write CPU).
  if (second !== cachedSecond) {
    const iso = new Date(second * 1000).toISOString(); // 2026-11-22T22:12:48.000Z
    cachedPrefix = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.`;
    cachedSecond = second;
  }
  const milli = t - second * 1000;
  return cachedPrefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli;
}
let cachedSecond = -1;
let cachedPrefix = '';

/** Database names are put into SQL text (identifiers cannot be bound), so only plain names pass. */
export function checkIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) throw new Error(`invalid ClickHouse identifier: ${name}`);
  return name;
}

const TSV_SPECIAL = /[\\\t\n\r]/g;
const HAS_TSV_SPECIAL = /[\\\t\n\r]/;
const TSV_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * Rows as TabSeparated text with the columns of the first row, or null when a value is not a
 * primitive (arrays, objects): the caller then falls back to JSONEachRow. TSV is used because it
 * measured ~25% faster than JSONEachRow through chDB (less escaping of the big `data` strings).
 */
export function toTabSeparated(rows: Record<string, unknown>[], columns: string[]): string | null {
  const lines = new Array<string>(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    let line = '';
    for (let c = 0; c < columns.length; c++) {
      const v = row[columns[c]];
      let cell: string;
      if (typeof v === 'string') cell = HAS_TSV_SPECIAL.test(v) ? v.replace(TSV_SPECIAL, (ch) => TSV_ESCAPES[ch]) : v;
      else if (typeof v === 'number' || typeof v === 'bigint') cell = String(v);
      else if (typeof v === 'boolean') cell = v ? '1' : '0';
      else if (v === null || v === undefined) cell = '\\N';
      else return null;
      line += c === 0 ? cell : '\t' + cell;
    }
    lines[r] = line;
  }
  return lines.join('\n');
}

export function toJsonEachRow(rows: Record<string, unknown>[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n');
}

/** Keyset cursor for listSessions: opaque to clients, base64url of [startedAt, sessionId]. */
export function encodeCursor(startedAt: number, sessionId: string): string {
  return Buffer.from(JSON.stringify([startedAt, sessionId])).toString('base64url');
}

export function decodeCursor(cursor: string): { startedAt: number; sessionId: string } | null {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && Number.isFinite(v[0]) && typeof v[1] === 'string') {
      return { startedAt: v[0], sessionId: v[1] };
    }
  } catch {
    // fall through: a malformed cursor is reported by the caller
  }
  return null;
}
