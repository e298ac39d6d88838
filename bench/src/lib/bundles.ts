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

/** The esbuild options of tracker/build.mjs for the IIFE (format iife, minified, es2020). */
export const BROWSER_BUILD = {
  bundle: true,
  format: 'iife' as const,
  minify: true,
  target: ['es2020'],
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
 * The plain-rrweb baseline: @rrweb/record called with the options the Tandem tracker passes to it
 * (tracker/src/tracker.ts startRecording: its privacy options and sampling imported from the tracker's
 * own source, the other flags repeated here), and nothing else: no console/network/error capture, no
 * sequencing, batching, compression or sending. emit pushes to an array.
 * Exposes `window.rrwebBaseline.start(emit)`, `window.rrwebBaseline.startDefault(emit)` (rrweb's own
 * defaults: `record({ emit })`) and `window.rrwebRecord`. Returns the bundle's path.
 */
export const RRWEB_BASELINE_ENTRY = `
import { record } from '@rrweb/record';
import { buildPrivacyOptions } from '${TRACKER_DIR}/src/privacy.ts';
import { SAMPLING } from '${TRACKER_DIR}/src/options.ts';
export const options = (checkoutEveryNms) => ({
  ...buildPrivacyOptions({}),
  checkoutEveryNms,
  inlineStylesheet: true,
  recordCanvas: false,
  collectFonts: false,
  slimDOMOptions: true,
  sampling: { ...SAMPLING },
  errorHandler: () => true,
});
window.rrwebRecord = record;
window.rrwebBaseline = {
  options,
  start: (emit, checkoutEveryNms = 120000) => record({ emit, ...options(checkoutEveryNms) }),
  // rrweb at its own defaults, as a site that just calls record({ emit }) gets it.
  startDefault: (emit) => record({ emit }),
};
`;

/** A printable description of the baseline's options (functions named), for the results. */
export const RRWEB_BASELINE_DESCRIPTION =
  'tracker privacy defaults (maskAllInputs, maskInputOptions all, maskInputFn, maskTextSelector [data-tandem-mask], blockSelector [data-tandem-block]), ' +
  'sampling {mousemove:50, scroll:150, media:800, input:last}, slimDOMOptions, inlineStylesheet, no canvas/fonts, checkoutEveryNms 2 min';

export async function buildRrwebBundle(): Promise<string> {
  mkdirSync(TMP_DIR, { recursive: true });
  const out = resolve(TMP_DIR, 'rrweb-record.iife.js');
  const entry = resolve(TMP_DIR, 'rrweb-record-entry.js');
  const fallback = `import { record } from '@rrweb/record';\nwindow.rrwebRecord = record;\nwindow.rrwebBaseline = { start: (emit, checkoutEveryNms = 120000) => record({ emit, maskAllInputs: true, checkoutEveryNms }), startDefault: (emit) => record({ emit }) };\n`;
  const haveTracker = existsSync(resolve(TRACKER_DIR, 'src/privacy.ts')) && existsSync(resolve(TRACKER_DIR, 'src/options.ts'));
  writeFileSync(entry, haveTracker ? RRWEB_BASELINE_ENTRY : fallback);
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
