import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { recordingsRoot } from './uploads.js';

/**
 * Deletes recording files older than the retention: their metadata rows expire by the same rule
 * (TTL on the server's time of the last write, which is also the file's mtime: the last chunk or
 * nothing after it). Returns how many files were deleted.
 */
export async function sweepRecordingFiles(dataDir: string, retentionDays: number, now = Date.now()): Promise<number> {
  const root = recordingsRoot(dataDir);
  const cutoff = now - retentionDays * 86_400_000;
  let deleted = 0;
  let projects: string[];
  try {
    projects = await readdir(root);
  } catch {
    return 0; // nothing recorded yet
  }
  for (const project of projects) {
    const dir = path.join(root, project);
    let files: string[];
    try {
      files = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of files) {
      if (!name.endsWith('.webm')) continue;
      const file = path.join(dir, name);
      try {
        if ((await stat(file)).mtimeMs < cutoff) {
          await rm(file, { force: true });
          deleted++;
        }
      } catch {
        // Gone meanwhile: nothing to do.
      }
    }
  }
  return deleted;
}

/** Sweeps now and then every `intervalMs`; stop() before closing. */
export function startRecordingSweeper(dataDir: string, retentionDays: number, intervalMs: number, log: Logger): { stop(): void } {
  let running = false;
  const run = () => {
    if (running) return;
    running = true;
    sweepRecordingFiles(dataDir, retentionDays)
      .then((n) => n && log.info({ deleted: n }, 'recordings: deleted files past retention'))
      .catch((err) => log.warn({ err }, 'recordings: sweep failed'))
      .finally(() => (running = false));
  };
  const first = setTimeout(run, 10_000);
  first.unref();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return {
    stop() {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
