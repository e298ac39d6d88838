/**
 * The seek bench's baseline page, served by the bench backend's own static routes exactly like the player's
 * files: its HTML revalidates (ETag → 304) and its bundle sits under `assets/`, cached for good. Both sides
 * of the comparison then load their code from the HTTP cache after their first open.
 *
 * Before, the baseline's two files came from a playwright route (`page.route(...).fulfill`): a routed page
 * has no HTTP cache and each request goes through the bench's Node process, so the baseline fetched and
 * compiled @rrweb/replay afresh on every open while the player's chunks came from the cache.
 *
 * How: a temporary root directory for the backend (ServerConfig.rootDir, which only the static routes read)
 * that links the repository's `tracker` and `e2e` directories and every file of `frontend/dist`, with the
 * baseline's page and bundle added beside them. The repository's files are not touched.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { TMP_DIR } from './bundles.js';
import { REPO_ROOT } from './report.js';

export interface BaselineRoot {
  /** Pass as the backend's `rootDir`. */
  rootDir: string;
  /** The baseline page's path on the backend, without the query. */
  pagePath: string;
  remove(): void;
}

export function baselineRoot(pageHtml: (bundlePath: string) => string, replayJs: string): BaselineRoot {
  mkdirSync(TMP_DIR, { recursive: true });
  const rootDir = mkdtempSync(resolve(TMP_DIR, 'seek-root-'));
  for (const dir of ['tracker', 'e2e']) symlinkSync(resolve(REPO_ROOT, dir), resolve(rootDir, dir));
  const dist = resolve(REPO_ROOT, 'frontend/dist');
  if (!existsSync(resolve(dist, 'index.html'))) throw new Error('frontend/dist is missing (npm run build)');
  const out = resolve(rootDir, 'frontend/dist');
  mkdirSync(resolve(out, 'assets'), { recursive: true });
  for (const name of readdirSync(dist)) if (name !== 'assets') symlinkSync(resolve(dist, name), resolve(out, name));
  for (const name of readdirSync(resolve(dist, 'assets'))) symlinkSync(resolve(dist, 'assets', name), resolve(out, 'assets', name));
  // A content hash in the name, as Vite names the player's chunks (the routes cache `assets/` for good).
  const bundle = `assets/bench-rrweb-replay-${createHash('sha256').update(replayJs).digest('hex').slice(0, 12)}.js`;
  writeFileSync(resolve(out, bundle), replayJs);
  const pagePath = '/bench-seek-baseline.html';
  writeFileSync(resolve(out, pagePath.slice(1)), pageHtml(`/${bundle}`));
  return { rootDir, pagePath, remove: () => rmSync(rootDir, { recursive: true, force: true }) };
}
