/**
 * The real Tandem backend (`startServer` from backend/src/server.ts) in a **child process** of its own, so
 * its RSS and CPU time are its own and not the load generator's or the bench's.
 *
 * Parent side: `startBackendChild()` forks this file, which calls `startServer` with a temp dataDir under
 * bench/.tmp, port 0, and the bench's overrides (JSON over IPC: e.g. raised rate limits). The admin and the
 * project key come from the environment the child is given (TANDEM_ADMIN_EMAIL, TANDEM_ADMIN_PASSWORD,
 * TANDEM_PROJECT_KEY), as `npm start` reads them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { TMP_DIR } from './bundles.js';

export const BENCH_ADMIN = { email: 'bench-admin@example.com', password: 'bench-admin-password-123' };
export const BENCH_PROJECT_KEY = 'pk_bench_live_project';

export interface BackendChildInfo {
  url: string;
  port: number;
  projectKey: string;
  projectId: string;
  pid: number;
  dataDir: string;
  /** What startServer returned besides the basics (e.g. whether live rooms are attached), for the log. */
  notes: string[];
}

export interface BackendChildStats {
  rss: number;
  heapUsed: number;
  external: number;
  /** event-loop utilisation since the previous stats call (or start) */
  elu: number;
  /** process CPU (user+system) in ms since start */
  cpuMs: number;
}

export interface BackendChild extends BackendChildInfo {
  child: ChildProcess;
  stats(): Promise<BackendChildStats>;
  /** VmRSS and VmHWM (peak) from /proc, bytes. */
  procMem(): { rss: number; peak: number };
  /** Combined stdout/stderr of the backend (its warnings). */
  output(): string;
  close(): Promise<void>;
}

type ToChild = { type: 'start'; dataDir: string; overrides: Record<string, unknown> } | { type: 'stats'; id: number } | { type: 'close' };
type FromChild =
  | { type: 'ready'; info: Omit<BackendChildInfo, 'dataDir'> }
  | { type: 'error'; message: string }
  | { type: 'stats'; id: number; stats: BackendChildStats }
  | { type: 'closed' };

export function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

export async function startBackendChild(
  opts: { overrides?: Record<string, unknown>; env?: Record<string, string>; timeoutMs?: number; execArgv?: string[] } = {},
): Promise<BackendChild> {
  mkdirSync(TMP_DIR, { recursive: true });
  const dataDir = mkdtempSync(resolve(TMP_DIR, 'live-data-'));
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx', ...(opts.execArgv ?? [])],
    env: {
      ...process.env,
      TANDEM_BACKEND_CHILD: '1',
      TANDEM_ADMIN_EMAIL: BENCH_ADMIN.email,
      TANDEM_ADMIN_PASSWORD: BENCH_ADMIN.password,
      TANDEM_PROJECT_KEY: BENCH_PROJECT_KEY,
      LOG_LEVEL: 'warn',
      TANDEM_DEMO: 'false',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const pending = new Map<number, (s: BackendChildStats) => void>();
  let nextId = 1;
  let closedResolve: (() => void) | undefined;
  const info = await new Promise<Omit<BackendChildInfo, 'dataDir'>>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`backend child did not start within ${(opts.timeoutMs ?? 60_000) / 1000} s: ${out.slice(-2000)}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('message', (m: FromChild) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolvePromise(m.info);
      } else if (m.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`backend child: ${m.message}`));
      } else if (m.type === 'stats') {
        pending.get(m.id)?.(m.stats);
        pending.delete(m.id);
      } else if (m.type === 'closed') {
        closedResolve?.();
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`backend child exited (${code ?? signal}) before it was ready: ${out.slice(-2000)}`));
    });
    child.send({ type: 'start', dataDir, overrides: opts.overrides ?? {} } satisfies ToChild);
  }).catch((err) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  const pid = child.pid!;
  return {
    ...info,
    dataDir,
    child,
    stats: () =>
      new Promise<BackendChildStats>((r, reject) => {
        const id = nextId++;
        const t = setTimeout(() => {
          pending.delete(id);
          reject(new Error('backend child did not answer a stats request within 10 s'));
        }, 10_000);
        pending.set(id, (s) => {
          clearTimeout(t);
          r(s);
        });
        child.send({ type: 'stats', id } satisfies ToChild);
      }),
    procMem: () => ({ rss: procStatusBytes(pid, 'VmRSS'), peak: procStatusBytes(pid, 'VmHWM') }),
    output: () => out,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        const closed = new Promise<void>((r) => (closedResolve = r));
        child.send({ type: 'close' } satisfies ToChild);
        const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await Promise.race([closed.then(() => exited), exited]);
        clearTimeout(t);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------------------------- child side

async function childMain(): Promise<void> {
  const send = (m: FromChild) => process.send?.(m);
  let server: any;
  let elu = performance.eventLoopUtilization();
  process.on('message', async (m: ToChild) => {
    if (m.type === 'start') {
      try {
        const mod: any = await import('@tandem/backend');
        server = await mod.startServer({ port: 0, host: '127.0.0.1', dataDir: m.dataDir, logLevel: 'warn', demo: false, ...m.overrides });
        const notes: string[] = [];
        if (server.live || server.io) notes.push('live rooms attached');
        send({ type: 'ready', info: { url: server.url, port: server.port, projectKey: server.projectKey, projectId: server.projectId, pid: process.pid, notes } });
        elu = performance.eventLoopUtilization();
      } catch (err) {
        send({ type: 'error', message: (err as Error).stack?.split('\n').slice(0, 6).join(' ') ?? String(err) });
        process.exit(1);
      }
    } else if (m.type === 'stats') {
      const mem = process.memoryUsage();
      const cpu = process.cpuUsage();
      const e = performance.eventLoopUtilization(elu);
      elu = performance.eventLoopUtilization();
      send({ type: 'stats', id: m.id, stats: { rss: mem.rss, heapUsed: mem.heapUsed, external: mem.external, elu: e.utilization, cpuMs: (cpu.user + cpu.system) / 1000 } });
    } else if (m.type === 'close') {
      try {
        await server?.close();
      } catch (err) {
        console.error('close failed', err);
      }
      send({ type: 'closed' });
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.env.TANDEM_BACKEND_CHILD === '1' && process.send) void childMain();
