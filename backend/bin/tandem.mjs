#!/usr/bin/env node
// Tandem's command line: rrweb import and export against a running server.
// Plain JavaScript on Node's own fetch, so `npx tandem` runs without a build step.
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';

const USAGE = `Usage:
  tandem import <file.json>      import an rrweb events JSON array as a new session;
                                 the new session id is printed on the last line
  tandem export <sessionId> [--format rrweb|html] [--tab <tabId>] [--out <file>]
                                 print the session's rrweb events (JSON array) or write an
                                 offline HTML player; --out writes to a file instead of stdout

Environment:
  TANDEM_URL      the server's origin, e.g. http://127.0.0.1:4300
  TANDEM_API_KEY  an API key from Settings → API keys (tk_...)`;

/** Exit codes, so scripts can tell a typo from an outage from a refusal. */
const EXIT = { usage: 2, unreachable: 3, refused: 4, server: 5, unexpected: 1 };

/** Every failure the CLI reports: a code (`usage`, `unreachable`, `refused`, `server`) and a sentence. */
class TandemCliError extends Error {
  constructor(kind, message, { status, code } = {}) {
    super(message);
    this.name = 'TandemCliError';
    this.kind = kind;
    this.status = status;
    this.code = code;
  }
}

function settings(env) {
  const url = env.TANDEM_URL;
  const key = env.TANDEM_API_KEY;
  if (!url) throw new TandemCliError('usage', 'TANDEM_URL is not set (the server origin, e.g. http://127.0.0.1:4300)');
  let origin;
  try {
    origin = new URL(url).origin;
  } catch {
    throw new TandemCliError('usage', `TANDEM_URL is not a URL: ${url}`);
  }
  if (!key) throw new TandemCliError('usage', 'TANDEM_API_KEY is not set (create an API key in Settings → API keys)');
  if (!key.startsWith('tk_')) throw new TandemCliError('usage', 'TANDEM_API_KEY does not look like a Tandem API key (tk_...)');
  return { origin, key };
}

async function call(origin, key, path, init = {}) {
  let res;
  try {
    res = await fetch(origin + path, { ...init, headers: { authorization: `Bearer ${key}`, ...init.headers } });
  } catch (err) {
    throw new TandemCliError('unreachable', `Cannot reach ${origin}: ${err.cause?.code ?? err.cause?.message ?? err.message}`);
  }
  if (res.ok) return res;
  const text = await res.text().catch(() => '');
  let error;
  try {
    error = JSON.parse(text).error;
  } catch {
    /* not our JSON error: a proxy's page, say */
  }
  const what = error ? `${error.code}: ${error.message}` : text.slice(0, 200) || res.statusText;
  throw new TandemCliError(res.status >= 500 ? 'server' : 'refused', `${res.status} ${what}`, { status: res.status, code: error?.code });
}

async function runImport(args, env, out) {
  if (args.length !== 1) throw new TandemCliError('usage', `import takes one file\n\n${USAGE}`);
  const [file] = args;
  const { origin, key } = settings(env);
  let raw;
  try {
    raw = await readFile(file);
  } catch (err) {
    throw new TandemCliError('usage', `Cannot read ${file}: ${err.code ?? err.message}`);
  }
  let events;
  try {
    events = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new TandemCliError('usage', `${file} is not valid JSON: ${err.message}`);
  }
  if (!Array.isArray(events)) throw new TandemCliError('usage', `${file} must hold a JSON array of rrweb events`);
  // Gzipped on the wire (rrweb JSON shrinks ~10x); the server bounds the decompressed size.
  const res = await call(origin, key, '/api/v1/sessions/import', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: gzipSync(raw),
  });
  const result = await res.json();
  out.write(`Imported ${result.eventCount} events (${result.keyframeCount} snapshots) from ${basename(file)}\n`);
  out.write(`Replay: ${origin}/#/sessions/${result.sessionId}\n`);
  out.write(`${result.sessionId}\n`);
}

function options(args) {
  const positional = [];
  const opts = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (['--format', '--tab', '--out'].includes(a)) {
      if (i + 1 >= args.length) throw new TandemCliError('usage', `${a} needs a value`);
      opts[a.slice(2)] = args[++i];
    } else if (a.startsWith('--')) {
      throw new TandemCliError('usage', `Unknown option ${a}\n\n${USAGE}`);
    } else positional.push(a);
  }
  return { positional, opts };
}

async function runExport(args, env, out) {
  const { positional, opts } = options(args);
  if (positional.length !== 1) throw new TandemCliError('usage', `export takes one session id\n\n${USAGE}`);
  const format = opts.format ?? 'rrweb';
  if (!['rrweb', 'html'].includes(format)) throw new TandemCliError('usage', `--format must be rrweb or html, not ${format}`);
  const { origin, key } = settings(env);
  const q = new URLSearchParams({ format, ...(opts.tab ? { tabId: opts.tab } : {}) });
  const res = await call(origin, key, `/api/v1/sessions/${encodeURIComponent(positional[0])}/export?${q}`);
  const target = opts.out ? createWriteStream(opts.out) : out;
  try {
    await pipeline(Readable.fromWeb(res.body), target, { end: !!opts.out });
  } catch (err) {
    if (err.code === 'EPIPE') return; // `tandem export ... | head`: the reader had enough
    throw new TandemCliError('unreachable', `The export stopped: ${err.message}`);
  }
  if (opts.out) process.stderr.write(`Wrote ${opts.out}\n`);
}

async function main(argv, env = process.env, out = process.stdout) {
  const [command, ...args] = argv;
  if (command === 'import') return runImport(args, env, out);
  if (command === 'export') return runExport(args, env, out);
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    out.write(`${USAGE}\n`);
    return;
  }
  throw new TandemCliError('usage', `Unknown command ${command}\n\n${USAGE}`);
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof TandemCliError) {
    process.stderr.write(`tandem: ${err.message}\n`);
    process.exitCode = EXIT[err.kind] ?? EXIT.unexpected;
  } else {
    process.stderr.write(`tandem: unexpected error: ${err?.stack ?? err}\n`);
    process.exitCode = EXIT.unexpected;
  }
});
