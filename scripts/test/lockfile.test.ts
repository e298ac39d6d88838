import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * package-lock.json must let `npm ci` install the native binaries of every platform people develop and
 * deploy on, not only the one the lock was last written on: npm writes an optional platform package
 * (turbo's `@turbo/darwin-arm64`, esbuild's, rolldown's, lightningcss's...) into the lock only when it can
 * resolve it, and `npm ci` on a Mac installs exactly what the lock lists. Repair: `npm install
 * --package-lock-only --ignore-scripts` (it re-resolves missing optional entries; see docs/decisions.md).
 */

const execFileP = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

interface LockEntry {
  version?: string;
  os?: string[];
  cpu?: string[];
  optionalDependencies?: Record<string, string>;
}

/**
 * Optional packages the registry this lock is made from does not serve (`npm view` answers E404 for
 * every version), so no lock can list them: chDB's embedded engine for macOS and arm64 Linux. On those
 * machines the embedded store is unavailable after `npm ci`; CLICKHOUSE_URL (a ClickHouse server) works.
 * A package leaving this list (served again) makes the test fail so the list stays true.
 */
const NOT_ON_REGISTRY = new Set(['@chdb/lib-darwin-arm64', '@chdb/lib-darwin-x64', '@chdb/lib-linux-arm64-gnu']);

/** Developers' and servers' platforms (Node's process.platform / process.arch names, as npm's --os/--cpu take). */
const PLATFORMS = [
  { os: 'darwin', cpu: 'arm64' },
  { os: 'darwin', cpu: 'x64' },
  { os: 'linux', cpu: 'x64' },
  { os: 'linux', cpu: 'arm64' },
  { os: 'win32', cpu: 'x64' },
];

let lock: { packages: Record<string, LockEntry> };
let copy: string;

/** Where npm would find `name` from the package at `from` (its own node_modules, then each parent's). */
function resolveIn(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const i = base.lastIndexOf('/node_modules/');
    base = i < 0 ? '' : base.slice(0, i);
  }
}

/** npm's `os`/`cpu` fields: a list of allowed values, or of `!excluded` ones. */
function matches(list: string[] | undefined, value: string): boolean {
  if (!list?.length) return true;
  if (list.includes(`!${value}`)) return false;
  const allowed = list.filter((v) => !v.startsWith('!'));
  return allowed.length === 0 || allowed.includes(value);
}

beforeAll(async () => {
  lock = JSON.parse(await readFile(path.join(ROOT, 'package-lock.json'), 'utf8'));
  // npm ci --dry-run reads only package.json files and the lock; a copy keeps the real node_modules safe
  // (npm ci starts by deleting node_modules).
  copy = await mkdtemp(path.join(tmpdir(), 'tandem-lock-'));
  const rootPkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  for (const file of ['package.json', 'package-lock.json', ...rootPkg.workspaces.map((w) => `${w}/package.json`)]) {
    await cp(path.join(ROOT, file), path.join(copy, file));
  }
});

afterAll(async () => {
  if (copy) await rm(copy, { recursive: true, force: true });
});

describe('package-lock.json', () => {
  it('lists every optional dependency of every package, for every platform', () => {
    const missing: string[] = [];
    for (const [at, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        if (!resolveIn(lock.packages, at, name)) missing.push(name);
      }
    }
    expect(missing.filter((n) => !NOT_ON_REGISTRY.has(n))).toEqual([]);
    expect(new Set(missing)).toEqual(NOT_ON_REGISTRY);
  });

  it('records turbo, esbuild, rolldown and lightningcss binaries for macOS, Linux and Windows', () => {
    const names = Object.keys(lock.packages).map((k) => k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length));
    for (const required of ['@turbo/darwin-arm64', '@turbo/darwin-64', '@turbo/linux-64', '@turbo/linux-arm64', '@turbo/windows-64',
      '@esbuild/darwin-arm64', '@esbuild/linux-x64', '@esbuild/win32-x64', '@rolldown/binding-darwin-arm64',
      '@rolldown/binding-linux-x64-gnu', 'lightningcss-darwin-arm64', 'lightningcss-linux-x64-gnu', 'lightningcss-win32-x64-msvc']) {
      expect(names, required).toContain(required);
    }
  });

  // What `npm ci` itself would install on each platform, without a network (--offline: everything it
  // needs to decide is in the lock) and without touching node_modules (--dry-run, in a copy).
  it.each(PLATFORMS)('npm ci on $os/$cpu installs a native binary for every package that has one', async ({ os, cpu }) => {
    const { stdout } = await execFileP('npm', ['ci', '--dry-run', '--offline', '--ignore-scripts', '--no-audit', '--no-fund',
      `--os=${os}`, `--cpu=${cpu}`], { cwd: copy, maxBuffer: 16 * 1024 * 1024, timeout: 60_000 });
    const added = new Set([...stdout.matchAll(/^add (\S+) \S+$/gm)].map((m) => m[1]));
    expect(added.has('turbo')).toBe(true);
    // Every package with platform-specific optional deps must get one for this platform.
    for (const [at, entry] of Object.entries(lock.packages)) {
      const options = Object.keys(entry.optionalDependencies ?? {})
        .map((name) => ({ name, key: resolveIn(lock.packages, at, name) }))
        .filter((o) => o.key && (lock.packages[o.key!].os || lock.packages[o.key!].cpu));
      if (!options.length) continue;
      const forThis = options.filter((o) => matches(lock.packages[o.key!].os, os) && matches(lock.packages[o.key!].cpu, cpu));
      if (!forThis.length) continue; // e.g. fsevents-like packages for one OS only
      const owner = at.slice(at.lastIndexOf('node_modules/') + 'node_modules/'.length);
      expect(forThis.some((o) => added.has(o.name)), `${owner}: none of ${forThis.map((o) => o.name).join(', ')} would be installed`).toBe(true);
    }
  }, 60_000); // ~1 s alone; npm's start-up takes several on the shared 2-core machine
});
