import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { spawnChdbHttpServer, type SpawnedChdbHttpServer } from '@tandem/storage/testing';
import { ADMIN, BackendProcess, freePort, tempDataDir } from './backend-process.js';
import { StopWaiting, waitFor } from './browser.js';

/**
 * A cluster on loopback, as issue 9 asks to test it: Debian's redis-server on a free port (no
 * persistence), the ClickHouse-HTTP stand-in over chDB (one process owning the store), N backend
 * processes sharing TANDEM_SECRET, CLICKHOUSE_URL and TANDEM_REDIS_URL, and Debian's haproxy in front
 * (WebSocket-capable, health checks on /readyz). Everything lives in one temp dir, removed by close().
 * Used by the cluster e2e tests, the failover bench and `npm run cluster`.
 */
export interface ClusterNode {
  name: string;
  port: number;
  url: string;
  backend: BackendProcess;
  pid(): number | undefined;
}

export interface Cluster {
  /** haproxy's URL: what users and tabs use. */
  url: string;
  redisUrl: string;
  clickhouseUrl: string;
  /** TANDEM_SECRET shared by the nodes (benchmarks sign tab tokens with it). */
  secret: string;
  nodes: ClusterNode[];
  dir: string;
  haproxyPid: number | undefined;
  redisPid: number | undefined;
  /** The node (index) serving this session now: the one its newest tab socket is on. */
  nodeOfSession(sessionId: string): Promise<number>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  nodes?: number;
  /** Added to every backend's environment. */
  env?: Record<string, string>;
  /** Fixed ports (npm run cluster); tests leave them free. */
  ports?: { haproxy?: number; nodes?: number[] };
  /** haproxy's `maxconn` (the failover bench holds thousands of sockets). */
  maxconn?: number;
  log?: (line: string) => void;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const count = opts.nodes ?? 2;
  const dir = await tempDataDir();
  const cleanups: (() => Promise<void>)[] = [];
  const log = opts.log ?? (() => {});
  try {
    const redisPort = await freePort();
    const redis = await startRedis(redisPort);
    cleanups.push(() => stopChild(redis));
    log(`redis-server ${redis.pid} on 127.0.0.1:${redisPort}`);
    const chdb: SpawnedChdbHttpServer = await spawnChdbHttpServer({ dataDir: path.join(dir, 'chdb') });
    cleanups.push(() => chdb.close());
    log(`chDB HTTP stand-in ${chdb.pid} at ${chdb.url}`);
    const secret = randomBytes(32).toString('base64url');
    const nodes: ClusterNode[] = [];
    for (let i = 0; i < count; i++) {
      const name = String.fromCharCode(97 + i);
      const port = opts.ports?.nodes?.[i] ?? (await freePort());
      const backend = new BackendProcess(port, path.join(dir, `node-${name}`), {
        TANDEM_SECRET: secret,
        CLICKHOUSE_URL: chdb.url,
        TANDEM_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        TANDEM_NODE_ID: `node-${name}`,
        ...opts.env,
      });
      // One after the other: the first start creates the project and the admin in the shared store.
      await backend.start();
      cleanups.push(() => backend.stop('SIGKILL'));
      nodes.push({ name, port, url: backend.url, backend, pid: () => backend.pid });
      log(`backend node-${name} ${backend.pid} on ${backend.url}`);
    }
    const haproxyPort = opts.ports?.haproxy ?? (await freePort());
    const haproxy = await startHaproxy(dir, haproxyPort, nodes, opts.maxconn ?? 5_000);
    cleanups.push(() => stopChild(haproxy));
    const url = `http://127.0.0.1:${haproxyPort}`;
    await waitUntil('haproxy to see every node ready', async () => {
      const res = await fetch(`${url}/readyz`).catch(() => null);
      return !!res?.ok;
    });
    log(`haproxy ${haproxy.pid} on ${url}`);
    return {
      url,
      redisUrl: `redis://127.0.0.1:${redisPort}`,
      clickhouseUrl: chdb.url,
      secret,
      nodes,
      dir,
      haproxyPid: haproxy.pid,
      redisPid: redis.pid,
      async nodeOfSession(sessionId) {
        // The session's home as the nodes themselves record it (live/state/redis-state.ts).
        return waitUntil(`a node serving ${sessionId}`, async () => {
          const keys = (await redisCli(redisPort, ['KEYS', `tandem:live:home:*:${sessionId}`])).split('\n').filter(Boolean);
          if (!keys.length) return 0;
          const node = (await redisCli(redisPort, ['GET', keys[0]])).trim();
          const i = nodes.findIndex((n) => `node-${n.name}` === node);
          return i + 1;
        }).then((n) => n - 1);
      },
      async close() {
        for (const c of cleanups.reverse()) await c().catch(() => {});
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export async function startRedis(port: number): Promise<ChildProcess> {
  // No persistence (a test's Redis is thrown away), loopback only, no protected-mode surprises.
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-4000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-4000)));
  await waitUntil(`redis-server on ${port}`, async () => {
    if (child.exitCode !== null) throw new StopWaiting(`redis-server exited: ${out}`);
    return redisPing(port);
  });
  return child;
}

export function redisCli(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('redis-cli', ['-p', String(port), '--raw', ...args], (err, stdout) => (err ? reject(err) : resolve(stdout))));
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('error', () => resolve(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}

/** haproxy in front: WebSockets pass (HTTP/1.1 upgrade + tunnel timeout), dead or draining nodes leave within ~1 s. */
export function haproxyConfig(port: number, nodes: { name: string; port: number }[], maxconn: number): string {
  // Each proxied connection holds two descriptors; haproxy refuses to start if maxconn needs more than
  // the process's open-file limit (20,000 on these machines), so stay well under it.
  return `global
  maxconn ${maxconn}
defaults
  mode http
  # Adds the client's address unless the request already names one: tests and benchmarks simulate many
  # client addresses from one machine with their own X-Forwarded-For (a second header would hide theirs).
  # In production use plain \`option forwardfor\` (or strip what clients send).
  option forwardfor if-none
  # A refused connect (a node just killed or draining) is retried on another server at once (every retry
  # may change server, not only the last one).
  option redispatch 1
  retries 3
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  # Established WebSockets live as long as the socket.io heartbeats say.
  timeout tunnel 1h
  maxconn ${maxconn}
frontend tandem
  bind 127.0.0.1:${port}
  default_backend nodes
backend nodes
  balance roundrobin
  option httpchk
  http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost
  http-check expect status 200
  # Checked every second, out after 2 failures, with 3 s per answer: a machine under load answers slowly
  # and must not be declared down for it. A killed or draining node is left sooner than that anyway: its
  # refused connects are redispatched at once.
  timeout check 3s
  default-server inter 1s fall 2 rise 2
${nodes.map((n) => `  server node-${n.name} 127.0.0.1:${n.port} check`).join('\n')}
`;
}

async function startHaproxy(dir: string, port: number, nodes: { name: string; port: number }[], maxconn: number): Promise<ChildProcess> {
  const cfg = path.join(dir, 'haproxy.cfg');
  await writeFile(cfg, haproxyConfig(port, nodes, maxconn));
  const child = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-4000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-4000)));
  await waitUntil(`haproxy on ${port}`, async () => {
    if (child.exitCode !== null) throw new StopWaiting(`haproxy exited: ${out}`);
    return new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('error', () => resolve(false));
      s.once('connect', () => (s.destroy(), resolve(true)));
    });
  });
  return child;
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(t);
}

/** Cluster processes take longer to come up than a page: a minute, polled every 100 ms. */
export function waitUntil<T>(what: string, fn: () => Promise<T | false | null | undefined | 0>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  return waitFor(what, fn as () => Promise<T | false | null | undefined>, timeoutMs, everyMs);
}

/** Signs in on one node directly (not through haproxy); the session cookie. */
export async function loginOn(nodeUrl: string, who: { email: string; password: string } = ADMIN): Promise<string> {
  const res = await fetch(`${nodeUrl}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(who),
  });
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  if (!cookie) throw new Error(`login on ${nodeUrl} failed with ${res.status}`);
  return cookie;
}

/** One unlabelled value of a node's /metrics, or `missing` when the node does not print it. */
export async function nodeMetric(nodeUrl: string, name: string, missing = Number.NaN): Promise<number> {
  const text = await fetch(`${nodeUrl}/metrics`).then((r) => r.text());
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : missing;
}
