import { spawn } from 'node:child_process';
import net from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, postJson, startTestServer, type TestServer } from './helpers.js';

/** The `tandem` CLI, spawned as a user runs it (`npx tandem` resolves to this file). */
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(REPO, 'backend/bin/tandem.mjs');

let server: TestServer;
let apiKey: string;
let dir: string;

beforeAll(async () => {
  server = await startTestServer();
  const cookie = await login(server);
  apiKey = (await postJson(`${server.url}/api/v1/api-keys`, { name: 'cli' }, { cookie })).json.secret;
  dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-cli-'));
}, 30_000);
afterAll(async () => {
  await server?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: REPO,
      env: { PATH: process.env.PATH, TANDEM_URL: server.url, TANDEM_API_KEY: apiKey, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const recording = (t0: number) => [
  { type: 4, data: { href: 'https://cli.example/', width: 800, height: 600 }, timestamp: t0 },
  { type: 2, data: { node: { type: 0, id: 1, childNodes: [] }, initialOffset: { top: 0, left: 0 } }, timestamp: t0 + 1 },
  { type: 3, data: { source: 1, positions: [{ x: 1, y: 2, id: 1, timeOffset: 0 }] }, timestamp: t0 + 50 },
];

describe('tandem CLI', () => {
  it('imports a file (the id on the last line) and exports the same events to stdout and to an HTML file', async () => {
    const events = recording(Date.now() - 5_000);
    const file = path.join(dir, 'rec.json');
    await writeFile(file, JSON.stringify(events));
    const imported = await run(['import', file]);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    const lines = imported.stdout.trimEnd().split('\n');
    const sessionId = lines[lines.length - 1];
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(imported.stdout).toContain('Imported 3 events');

    const exported = await run(['export', sessionId]);
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout)).toEqual(events);

    const html = path.join(dir, 'rec.html');
    const written = await run(['export', sessionId, '--format', 'html', '--out', html]);
    expect(written.code).toBe(0);
    expect(await readFile(html, 'utf8')).toContain('id="tandem-events"');
  }, 30_000);

  it('fails with a clear message and a distinct exit code for each kind of failure', async () => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, '[{"type":2,');
    const closedPort = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    const cases: [string[], Record<string, string | undefined>, number, RegExp][] = [
      [['frob'], {}, 2, /Unknown command frob/],
      [['import'], {}, 2, /import takes one file/],
      [['import', path.join(dir, 'missing.json')], {}, 2, /Cannot read .*missing\.json: ENOENT/],
      [['import', file], {}, 2, /bad\.json is not valid JSON/],
      [['export', 'abcdefgh123'], { TANDEM_URL: undefined }, 2, /TANDEM_URL is not set/],
      [['export', 'abcdefgh123'], { TANDEM_API_KEY: undefined }, 2, /TANDEM_API_KEY is not set/],
      [['export', 'abcdefgh123', '--format', 'pdf'], {}, 2, /--format must be rrweb or html/],
      [['export', 'abcdefgh123'], { TANDEM_API_KEY: 'tk_revoked' }, 4, /401 unauthorized: Unknown or revoked API key/],
      [['export', 'abcdefgh123'], {}, 4, /404 not_found: No such session/],
      [['export', 'abcdefgh123'], { TANDEM_URL: `http://127.0.0.1:${closedPort}` }, 3, new RegExp(`Cannot reach http://127\\.0\\.0\\.1:${closedPort}: ECONNREFUSED`)],
    ];
    await writeFile(path.join(dir, 'notrrweb.json'), JSON.stringify([{ type: 3, data: {}, timestamp: 1 }]));
    cases.push([['import', path.join(dir, 'notrrweb.json')], {}, 4, /400 bad_request: No FullSnapshot/]);
    for (const [args, env, code, message] of cases) {
      const r = await run(args, env);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.startsWith('tandem: ')).toBe(true);
    }
  }, 60_000);
});
