/**
 * Writes a query's `{name:Type}` parameters into its text as literals, so the chDB driver can run it
 * as an unbound query. Why: libchdb keeps bound parameters in process-wide state, so bound queries
 * (and bound streams) must run one at a time; an auth lookup, a session's detail queries and an open
 * window's event read then queue behind each other. Unbound queries run side by side.
 *
 * Safe by construction, not by escaping rules: a string becomes a quoted literal in which every byte
 * of its UTF-8 other than [A-Za-z0-9] is written as `\xHH`, so the literal's text holds only letters,
 * digits, `\` and `x` between its quotes: no quote, no lone backslash, no byte a value chose. Integers
 * are written only when they are safe integers within their declared type's range (anything else is
 * bound, so it gets exactly what binding did before). The type itself comes from our own SQL and
 * is accepted only from a fixed list. Anything else (another type, a value of the wrong kind, a
 * missing parameter) returns null, and the caller binds the query as before.
 */

const INT_RANGES: Record<string, readonly [bigint, bigint]> = {
  UInt8: [0n, 255n],
  UInt16: [0n, 65_535n],
  UInt32: [0n, 4_294_967_295n],
  UInt64: [0n, 18_446_744_073_709_551_615n],
  Int8: [-128n, 127n],
  Int16: [-32_768n, 32_767n],
  Int32: [-2_147_483_648n, 2_147_483_647n],
  Int64: [-9_223_372_036_854_775_808n, 9_223_372_036_854_775_807n],
};

/** `{name:Type}`: names as ClickHouse allows them; the type is checked against the list below. */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+?)\s*\}/g;
const ARRAY = /^Array\((\w+)\)$/;

const SAFE_BYTE = /^[A-Za-z0-9]$/;
const encoder = new TextEncoder();

/** A ClickHouse string literal whose text is only letters, digits and `\xHH` escapes. */
export function stringLiteral(value: string): string {
  let out = "'";
  for (const byte of encoder.encode(value)) {
    const ch = String.fromCharCode(byte);
    out += SAFE_BYTE.test(ch) ? ch : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `${out}'`;
}

function intLiteral(value: unknown, type: string): string | null {
  const range = INT_RANGES[type];
  if (!range) return null;
  let n: bigint;
  if (typeof value === 'number' && Number.isSafeInteger(value)) n = BigInt(value);
  else if (typeof value === 'bigint') n = value;
  else return null;
  if (n < range[0] || n > range[1]) return null;
  return n.toString(); // digits and a leading minus only
}

function scalarLiteral(value: unknown, type: string): string | null {
  if (type === 'String') return typeof value === 'string' ? stringLiteral(value) : null;
  return intLiteral(value, type);
}

function literal(value: unknown, type: string): string | null {
  const array = ARRAY.exec(type);
  if (array) {
    if (!Array.isArray(value)) return null;
    const items: string[] = [];
    for (const item of value) {
      const lit = scalarLiteral(item, array[1]);
      if (lit === null) return null;
      items.push(lit);
    }
    return `CAST([${items.join(', ')}] AS Array(${array[1]}))`;
  }
  if (type !== 'String' && !(type in INT_RANGES)) return null;
  const lit = scalarLiteral(value, type);
  if (lit === null) return null;
  return type === 'String' ? lit : `CAST(${lit} AS ${type})`;
}

/**
 * Spans of the SQL text where a `{name:Type}` is not a parameter: quoted strings ('…', "…", `…`, with
 * backslash escapes and doubled quotes) and comments. ClickHouse does not substitute there either.
 */
function quotedSpans(sql: string): [number, number][] {
  const spans: [number, number][] = [];
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`') {
      const start = i;
      for (i++; i < sql.length; i++) {
        if (sql[i] === '\\') i++;
        else if (sql[i] === c) {
          if (sql[i + 1] === c) i++;
          else break;
        }
      }
      spans.push([start, i]);
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      spans.push([i, end < 0 ? sql.length : end]);
      i = end < 0 ? sql.length : end;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      spans.push([i, end < 0 ? sql.length : end + 1]);
      i = end < 0 ? sql.length : end + 1;
    }
  }
  return spans;
}

/** The query with its parameters written in, or null when one of them cannot be (bind it instead). */
export function inlineParams(sql: string, params: Record<string, unknown>): string | null {
  const spans = quotedSpans(sql);
  const quoted = (at: number) => spans.some(([a, b]) => at >= a && at <= b);
  let failed = false;
  const out = sql.replace(PLACEHOLDER, (whole, name: string, type: string, at: number) => {
    if (failed || quoted(at)) return whole;
    const lit = Object.prototype.hasOwnProperty.call(params, name) ? literal(params[name], type) : null;
    if (lit === null) failed = true;
    return lit ?? whole;
  });
  return failed ? null : out;
}
