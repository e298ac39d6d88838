/** Shared pieces of the live benches (rooms, live-latency, join): agent login, child-process plumbing. */
import { fork, type ChildProcess } from 'node:child_process';
import { BENCH_ADMIN } from './backend-child.js';

/** `name=value` of the first cookie in a Set-Cookie header (null when there is none). */
export function cookiePair(setCookie: string | null | undefined): string | null {
  if (!setCookie) return null;
  const first = setCookie.split(/,(?=\s*[A-Za-z0-9_.-]+=)/)[0];
  const pair = first.split(';')[0].trim();
  return pair.includes('=') ? pair : null;
}

/** Signs the bench's admin in through the API; returns the agent cookie (`name=value`). */
export async function loginCookie(url: string, admin = BENCH_ADMIN): Promise<string> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(admin),
  });
  const pair = cookiePair(res.headers.get('set-cookie'));
  if (!res.ok || !pair) throw new Error(`login as ${admin.email} failed: ${res.status} ${(await res.text()).slice(0, 200)}`);
  return pair;
}

/**
 * A forked bench child speaking a request/answer protocol over IPC: `request(msg, answerType)` sends a
 * message and resolves with the next message of that type (or rejects on the child's `error`/exit).
 */
export interface IpcChild {
  child: ChildProcess;
  pid: number;
  request<T>(msg: Record<string, unknown>, answerType: string, timeoutMs: number): Promise<T>;
  stop(): Promise<void>;
}

export function forkChild(file: string, env: Record<string, string>, label: string): IpcChild {
  const child = fork(file, [], {
    execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // structured clone: typed arrays of samples cross as they are
    serialization: 'advanced',
  });
  const waiters: { type: string; resolve: (m: any) => void; reject: (e: Error) => void }[] = [];
  let exited: string | null = null;
  child.on('message', (m: { type: string; text?: string; message?: string }) => {
    if (m.type === 'progress') {
      console.log(`[${label}] ${m.text}`);
      return;
    }
    if (m.type === 'error') {
      for (const w of waiters.splice(0)) w.reject(new Error(`${label}: ${m.message}`));
      return;
    }
    const i = waiters.findIndex((w) => w.type === m.type);
    if (i >= 0) waiters.splice(i, 1)[0].resolve(m);
  });
  child.on('exit', (code, signal) => {
    exited = `${code ?? signal}`;
    for (const w of waiters.splice(0)) w.reject(new Error(`${label} exited (${exited})`));
  });
  return {
    child,
    pid: child.pid!,
    request<T>(msg: Record<string, unknown>, answerType: string, timeoutMs: number): Promise<T> {
      if (exited) return Promise.reject(new Error(`${label} already exited (${exited})`));
      return new Promise<T>((resolve, reject) => {
        const t = setTimeout(() => {
          const i = waiters.findIndex((w) => w.resolve === done);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`${label} did not answer ${String(msg.type)} within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        const done = (m: T) => {
          clearTimeout(t);
          resolve(m);
        };
        waiters.push({ type: answerType, resolve: done, reject: (e) => (clearTimeout(t), reject(e)) });
        child.send(msg);
      });
    },
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      try {
        child.send({ type: 'stop' });
      } catch {
        // channel already closed
      }
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(t);
    },
  };
}
