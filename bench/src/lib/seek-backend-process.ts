/**
 * The seek bench's backend in a process of its own (its default since Dec 8; SEEK_BACKEND=inprocess for the
 * old setup), so the server's event loop is not shared with the bench's playwright client, which handles every
 * CDP event of the pages under test (a CPU profile of the in-process setup: ~100–200 ms of playwright work per
 * open on the server's thread). A production server shares its thread with no browser driver.
 *
 * Run as a script: writes the generated sessions named in SEEK_CHILD_SESSIONS (JSON: [{ minutes, ids }]),
 * serves its static files from SEEK_CHILD_ROOT when set (the seek bench's root with the baseline's page),
 * prints one JSON line `{ url, projectId, written }`, and serves until its stdin closes.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startBenchBackend } from './backend.js';
import { isMain } from './main.js';
import { writeGeneratedSession } from './seek-session.js';

const MIN = 60_000;

export interface SessionToWrite {
  minutes: number;
  sessionId: string;
  tabId: string;
}

export interface ChildBackend {
  url: string;
  projectId: string;
  written: Record<string, { events: number; bytes: number }>;
  close(): Promise<void>;
}

/** Starts the child, waits for its sessions to be written and its server to listen. */
export async function startSeekBackendProcess(sessions: SessionToWrite[], rootDir?: string): Promise<ChildBackend> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, SEEK_CHILD_SESSIONS: JSON.stringify(sessions), SEEK_CHILD_ROOT: rootDir ?? '' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the seek backend process exited (${code}) before it was ready`)));
  });
  const ready = JSON.parse(first) as Omit<ChildBackend, 'close'>;
  return {
    ...ready,
    async close() {
      child.stdin!.end();
      await exited;
    },
  };
}

if (isMain(import.meta.url)) {
  const sessions = JSON.parse(process.env.SEEK_CHILD_SESSIONS ?? '[]') as SessionToWrite[];
  const be = await startBenchBackend(process.env.SEEK_CHILD_ROOT ? { rootDir: process.env.SEEK_CHILD_ROOT } : {});
  const written: ChildBackend['written'] = {};
  for (const s of sessions) {
    written[s.sessionId] = await writeGeneratedSession(be.store, { projectId: be.projectId!, sessionId: s.sessionId, tabId: s.tabId }, {
      durationMs: s.minutes * MIN, startedAt: Date.now() - s.minutes * MIN - 60 * MIN, seed: s.minutes,
    });
  }
  process.stdout.write(`${JSON.stringify({ url: be.url, projectId: be.projectId, written })}\n`);
  process.stdin.resume();
  process.stdin.once('end', () => void be.close().then(() => process.exit(0)));
}
