import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/**
 * TEST FIXTURE — runs the ClickHouse-HTTP stand-in (chdb-http-server.ts) as its own process. Tests use
 * this rather than startChdbHttpServer in the test process: chDB allows one data directory per process,
 * several backends must share one store, and a vitest worker that loaded chDB can segfault on exit.
 */
export interface SpawnedChdbHttpServer {
  url: string;
  pid: number;
  child: ChildProcess;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs` (default 10 s). */
  close(graceMs?: number): Promise<void>;
}

const SERVER_FILE = fileURLToPath(new URL('./chdb-http-server.ts', import.meta.url));
const STORAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
/** Loading chDB (a large shared library) takes a few seconds on a busy 2-core machine. */
const START_TIMEOUT_MS = 60_000;

export async function spawnChdbHttpServer(opts: { dataDir: string; port?: number }): Promise<SpawnedChdbHttpServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER_FILE, '--data', opts.dataDir, '--port', String(opts.port ?? 0)], {
    cwd: STORAGE_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`stand-in did not start in ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const m = /^listening (http:\/\/\S+)$/.exec(line);
      if (m) (clearTimeout(timer), ok(m[1]));
    });
    child.once('exit', (code, signal) => (clearTimeout(timer), fail(new Error(`stand-in exited (${code ?? signal}) before listening: ${stderr}`))));
  }).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    url,
    pid: child.pid!,
    child,
    async close(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
