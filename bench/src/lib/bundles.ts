/**
 * Browser bundles for the benches: plain @rrweb/record (built here with esbuild, mirroring the Tandem
 * tracker's build options) and the Tandem tracker's IIFE (tracker/dist/tandem.iife.js, built by its
 * own workspace script when missing or stale).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { BENCH_ROOT, REPO_ROOT } from './report.js';

export const TMP_DIR = resolve(BENCH_ROOT, '.tmp');
export const TRACKER_DIR = resolve(REPO_ROOT, 'tracker');
export const TRACKER_IIFE = resolve(TRACKER_DIR, 'dist/tandem.iife.js');

/** The esbuild options shared with tracker/build.mjs (format iife, minified, same target). */
export const BROWSER_BUILD = {
  bundle: true,
  format: 'iife' as const,
  minify: true,
  target: ['es2019'],
  platform: 'browser' as const,
  legalComments: 'none' as const,
};

function newestMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const p = resolve(dir, name.name);
    newest = Math.max(newest, name.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Builds plain @rrweb/record as an IIFE exposing `window.rrwebRecord` (the record function). Cached in
 * bench/.tmp. Returns the file path.
 */
export async function buildRrwebBundle(): Promise<string> {
  mkdirSync(TMP_DIR, { recursive: true });
  const out = resolve(TMP_DIR, 'rrweb-record.iife.js');
  const entry = resolve(TMP_DIR, 'rrweb-record-entry.js');
  writeFileSync(entry, `import { record } from '@rrweb/record';\nwindow.rrwebRecord = record;\n`);
  const esbuild = await import('esbuild');
  await esbuild.build({
    ...BROWSER_BUILD,
    entryPoints: [entry],
    outfile: out,
    logLevel: 'warning',
  });
  return out;
}

export interface TrackerBundle {
  path: string;
  built: boolean;
  error?: string;
}

/** Returns the tracker IIFE, running `npm run build -w @tandem/tracker` when it is missing or older than tracker/src. */
export function ensureTrackerBundle(): TrackerBundle {
  const srcTime = newestMtime(resolve(TRACKER_DIR, 'src'));
  const fresh = existsSync(TRACKER_IIFE) && statSync(TRACKER_IIFE).mtimeMs >= srcTime;
  if (fresh) return { path: TRACKER_IIFE, built: false };
  if (!existsSync(resolve(TRACKER_DIR, 'build.mjs')) && !existsSync(TRACKER_IIFE)) {
    return { path: TRACKER_IIFE, built: false, error: 'tracker/build.mjs not there yet' };
  }
  const r = spawnSync('npm', ['run', 'build', '-w', '@tandem/tracker'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(TRACKER_IIFE)) {
    return { path: TRACKER_IIFE, built: false, error: `tracker build failed: ${(r.stderr || r.stdout).slice(-500)}` };
  }
  return { path: TRACKER_IIFE, built: true };
}

export function readText(p: string): string {
  return readFileSync(p, 'utf8');
}
