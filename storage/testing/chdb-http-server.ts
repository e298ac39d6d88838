import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Session, drainPending } from 'chdb';

/**
 * TEST FIXTURE — a ClickHouse-HTTP stand-in over chDB. Not a server to deploy.
 *
 * Why: chDB locks its data directory to one process, so two backend processes cannot share an embedded
 * store, and no modern ClickHouse server runs on these machines (Debian's is 18.16). This process owns
 * ONE chDB session and answers the subset of ClickHouse's HTTP interface that `@clickhouse/client` 1.23
 * speaks, so every backend uses the real remote driver over real HTTP against the real engine.
 *
 * What it serves: `GET /ping` and `GET /`; a query in the POST body, in `?query=`, or both (joined by a
 * newline, as ClickHouse does: `INSERT ... FORMAT X` in the URL with the rows in the body); `param_*`
 * query parameters (URL or multipart/form-data body); `database`; settings as URL parameters;
 * `default_format` (TabSeparated otherwise; a FORMAT clause in the SQL wins); gzip request bodies
 * (`Content-Encoding: gzip`) and gzip responses when the client sends `enable_http_compression=1` and
 * accepts gzip. Errors are what ClickHouse sends: HTTP 500, the `Code: N. DB::Exception: ...` text and an
 * `X-ClickHouse-Exception-Code` header, which the client turns into a ClickHouseError with that code.
 *
 * How: requests run one at a time on the one session (a FIFO). Serializing keeps the session-level state
 * each request sets (`USE db`, `SET param_x`, `SET setting`) from leaking into a concurrent request, and
 * chDB runs one query stream per session anyway. Parameters are bound by the engine, never spliced:
 * `SET param_x = '<text>'` hands it the same Escaped text the HTTP interface receives. Results are
 * buffered, not streamed (a fixture's results are small). Credentials are accepted and ignored.
 */

export interface ChdbHttpServerOptions {
  dataDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
}

export interface ChdbHttpServer {
  url: string;
  close(): Promise<void>;
}

/** URL parameters of the HTTP interface that are not settings. */
const NOT_SETTINGS = new Set([
  'query', 'database', 'default_format', 'query_id', 'session_id', 'session_timeout', 'session_check', 'user',
  'password', 'quota_key', 'role', 'compress', 'decompress', 'buffer_size', 'stacktrace',
]);
/** Settings only the HTTP layer reads; the engine refuses some of them (or they mean nothing here). */
const HTTP_ONLY_SETTINGS = new Set([
  'wait_end_of_query', 'send_progress_in_http_headers', 'http_headers_progress_interval_ms', 'enable_http_compression',
  'http_zlib_compression_level', 'http_response_buffer_size', 'http_send_progress_interval_ms', 'http_response_compression_method',
  'http_native_compression_disable_checksumming_on_decompress', 'output_format_json_quote_64bit_integers_in_http',
]);
/**
 * Where a ClickHouse server's defaults differ from chDB's: the server quotes 64-bit integers in JSON
 * output (chDB prints bare numbers), and readers must cope with what a real server sends.
 */
const SERVER_DEFAULTS: Record<string, string> = { output_format_json_quote_64bit_integers: '1' };
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** ClickHouse's own code for an exception that is not one of its errors. */
const UNKNOWN_EXCEPTION = 1002;

class HttpError extends Error {
  constructor(readonly code: number, readonly type: string, message: string) {
    super(message);
  }
}

const quote = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const encoding = String(req.headers['content-encoding'] ?? '').toLowerCase();
  if (!encoding || encoding === 'identity') return raw;
  if (encoding === 'gzip') return gunzipSync(raw);
  throw new HttpError(UNKNOWN_EXCEPTION, 'UNKNOWN_EXCEPTION', `unsupported Content-Encoding: ${encoding} (this stand-in reads gzip only)`);
}

/** The fields of a multipart/form-data body (the client sends large `param_*` values this way). */
function parseMultipart(body: Buffer, contentType: string): Map<string, string> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!boundary) throw new HttpError(UNKNOWN_EXCEPTION, 'UNKNOWN_EXCEPTION', 'multipart body without a boundary');
  const delimiter = `--${boundary[1] ?? boundary[2]}`;
  const fields = new Map<string, string>();
  for (const part of body.toString('utf8').split(delimiter)) {
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) continue;
    const name = /name="([^"]*)"/i.exec(part.slice(0, headerEnd));
    if (!name) continue;
    // Each part's value ends with the CRLF that precedes the next delimiter.
    fields.set(name[1], part.slice(headerEnd + 4).replace(/\r\n$/, ''));
  }
  return fields;
}

export async function startChdbHttpServer(opts: ChdbHttpServerOptions): Promise<ChdbHttpServer> {
  const dir = resolve(opts.dataDir);
  mkdirSync(dir, { recursive: true });
  const session = new Session(dir);
  /** Settings set on the session by an earlier request: reset when a request does not set them. */
  const setSettings = new Set<string>();
  const reset = (name: string) => `SET ${name} = ${name in SERVER_DEFAULTS ? quote(SERVER_DEFAULTS[name]) : 'DEFAULT'}`;
  let tail: Promise<unknown> = session.queryAsync(Object.keys(SERVER_DEFAULTS).map(reset).join('; '));

  function run(statements: string[], settingNames: string[], sql: string, format: string) {
    const turn = tail.then(async () => {
      const resets = [...setSettings].filter((name) => !settingNames.includes(name));
      for (const name of resets) setSettings.delete(name);
      for (const name of settingNames) setSettings.add(name);
      const prefix = [...resets.map(reset), ...statements].map((s) => `${s}; `).join('');
      return session.queryAsync(prefix + sql, { format });
    });
    tail = turn.catch(() => {});
    return turn;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const body = await readBody(req);
    if (url.pathname === '/ping' || (req.method === 'GET' && url.pathname === '/' && !url.searchParams.has('query'))) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8' }).end('Ok.\n');
      return;
    }
    if (url.pathname !== '/') throw new HttpError(UNKNOWN_EXCEPTION, 'UNKNOWN_EXCEPTION', `no handler for ${url.pathname}`);

    const fields = new Map<string, string>(url.searchParams);
    let text = body.toString('utf8');
    const contentType = String(req.headers['content-type'] ?? '');
    if (contentType.toLowerCase().startsWith('multipart/form-data')) {
      for (const [k, v] of parseMultipart(body, contentType)) fields.set(k, v);
      text = fields.get('query') ?? '';
      fields.delete('query');
    }
    const urlQuery = url.searchParams.get('query') ?? '';
    const sql = urlQuery && text ? `${urlQuery}\n${text}` : urlQuery || text;
    if (!sql.trim()) throw new HttpError(62, 'SYNTAX_ERROR', 'Empty query');

    const statements: string[] = [];
    const database = fields.get('database') || 'default';
    if (!NAME.test(database)) throw new HttpError(81, 'UNKNOWN_DATABASE', `Database ${database} does not exist`);
    statements.push(`USE ${database}`);
    const settings: string[] = [];
    const settingNames: string[] = [];
    for (const [key, value] of fields) {
      if (key.startsWith('param_')) {
        if (!NAME.test(key)) throw new HttpError(UNKNOWN_EXCEPTION, 'UNKNOWN_EXCEPTION', `bad parameter name ${key}`);
        // The value is already the Escaped text ClickHouse parses a parameter from: quote it, do not re-escape it.
        statements.push(`SET ${key} = ${quote(value)}`);
      } else if (!NOT_SETTINGS.has(key) && !HTTP_ONLY_SETTINGS.has(key)) {
        if (!NAME.test(key)) throw new HttpError(115, 'UNKNOWN_SETTING', `Unknown setting ${key}`);
        settings.push(`SET ${key} = ${quote(value)}`);
        settingNames.push(key);
      }
    }
    const result = await run([...statements, ...settings], settingNames, sql, fields.get('default_format') || 'TabSeparated');
    const summary = { read_rows: String(result.rowsRead), read_bytes: String(result.bytesRead), written_rows: '0', written_bytes: '0', total_rows_to_read: '0', result_rows: '0', result_bytes: '0', elapsed_ns: String(Math.round(result.elapsed * 1e9)) };
    send(req, res, 200, Buffer.from(result.bytes()), {
      'X-ClickHouse-Query-Id': fields.get('query_id') ?? '',
      'X-ClickHouse-Summary': JSON.stringify(summary),
    }, fields.get('enable_http_compression') === '1');
  }

  function send(req: IncomingMessage, res: ServerResponse, status: number, payload: Buffer, headers: Record<string, string>, compress: boolean) {
    const gzip = compress && /\bgzip\b/i.test(String(req.headers['accept-encoding'] ?? ''));
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=UTF-8',
      ...headers,
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
    });
    res.end(gzip ? gzipSync(payload) : payload);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      const known = /^Code: (\d+)\./.exec(message);
      const code = err instanceof HttpError ? err.code : known ? Number(known[1]) : UNKNOWN_EXCEPTION;
      const text = err instanceof HttpError ? `Code: ${code}. DB::Exception: ${message}. (${err.type})` : known ? message : `Code: ${code}. DB::Exception: ${message}. (UNKNOWN_EXCEPTION)`;
      const compress = new URL(req.url ?? '/', 'http://stand-in').searchParams.get('enable_http_compression') === '1';
      if (res.headersSent) return void res.destroy();
      send(req, res, 500, Buffer.from(`${text}\n`), { 'X-ClickHouse-Exception-Code': String(code) }, compress);
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => ok());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('stand-in: no TCP address');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${address.port}`,
    close() {
      closing ??= (async () => {
        await new Promise<void>((ok) => {
          server.close(() => ok());
          server.closeIdleConnections();
        });
        await tail;
        session.close();
        await drainPending();
      })();
      return closing;
    },
  };
}

/** CLI: `node --import tsx storage/testing/chdb-http-server.ts --data <dir> [--port <p>] [--host <h>]`. */
async function main(argv: string[]): Promise<void> {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const dataDir = arg('--data');
  if (!dataDir) {
    process.stderr.write('usage: chdb-http-server --data <dir> [--port <port>] [--host <host>]\n');
    process.exit(2);
  }
  const server = await startChdbHttpServer({ dataDir, port: Number(arg('--port') ?? 0), host: arg('--host') ?? '127.0.0.1' });
  process.stdout.write(`listening ${server.url}\n`);
  const stop = () => {
    server.close().then(() => process.exit(0), (err) => {
      process.stderr.write(`stand-in: close failed: ${String(err)}\n`);
      process.exit(1);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`stand-in: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
