/**
 * The Tandem tracker inside a bench page: where its ingest points (the real backend when startServer
 * works, else the fixture server's accept-and-discard endpoint) and how the page loads and starts it.
 */
import type { Page } from 'playwright-core';
import type { FixtureServer } from './server.js';
import type { InPageTimes, VariantDriver } from './variant.js';
import { startBenchBackend, type BenchBackend } from './backend.js';

export interface TandemIngest {
  /** "real backend …" or "discard endpoint …" (printed with the results) */
  describe: string;
  kind: 'backend' | 'discard';
  ingestUrl: string;
  projectKey: string;
  /** the flush period the server hands the tracker */
  flushIntervalMs: number;
  backend?: BenchBackend;
  variant(server: FixtureServer): VariantDriver;
  close(): Promise<void>;
}

/**
 * Adds the tracker's IIFE as the snippet would (script tag with data-project-key and data-ingest-url),
 * with autostart off so the bench decides when recording starts, and taps its bus: counts events and
 * resolves `window.__tandemSnapshot` when the first FullSnapshot is published.
 */
export async function loadTandem(page: Page, scriptUrl: string, projectKey: string, ingestUrl: string): Promise<void> {
  await page.evaluate(
    ({ scriptUrl, projectKey, ingestUrl }) =>
      new Promise<void>((resolve, reject) => {
        const w = window as any;
        const s = document.createElement('script');
        s.src = scriptUrl;
        s.dataset.projectKey = projectKey;
        s.dataset.ingestUrl = ingestUrl;
        s.dataset.autostart = 'false';
        s.onload = () => {
          const t = w.Tandem?.tracker;
          if (!t) return reject(new Error('window.Tandem.tracker missing after the script loaded'));
          w.__tandemEvents = 0;
          w.__tandemRaw = [];
          w.__tandemSnapshot = new Promise((r) => (w.__tandemSnapshotResolve = r));
          t.bus.subscribe((e: { type: number }) => {
            w.__tandemEvents++;
            if (e.type === 2 && !w.__tandemSnapAt) {
              w.__tandemSnapAt = performance.now();
              w.__tandemSnapshotResolve(w.__tandemSnapAt);
            }
          });
          resolve();
        };
        s.onerror = () => reject(new Error(`cannot load ${scriptUrl}`));
        document.head.appendChild(s);
      }),
    { scriptUrl, projectKey, ingestUrl },
  );
}

/** Starts the tracker; resolves after the first FullSnapshot's task (t1 = snapshot published, t2 = its task ended). */
export async function startTandem(page: Page, timeoutMs = 30_000): Promise<InPageTimes> {
  return page.evaluate(async (timeoutMs) => {
    const w = window as any;
    const t0 = performance.now();
    void w.Tandem.tracker.start();
    const t1: number = await Promise.race([
      w.__tandemSnapshot,
      new Promise((_, reject) => setTimeout(() => reject(new Error('no FullSnapshot from the Tandem tracker')), timeoutMs)),
    ]);
    // This continuation runs once the snapshot's task has finished its synchronous work.
    const t2 = performance.now();
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    return { t0, t1, t2, t3: performance.now() };
  }, timeoutMs);
}

export async function startTandemIngest(
  server: FixtureServer,
  opts: { requireBackend?: boolean; backendOverrides?: Record<string, unknown> } = {},
): Promise<TandemIngest> {
  let backend: BenchBackend | undefined;
  let why = '';
  try {
    backend = await startBenchBackend({
      // Every bench page is a new visitor from 127.0.0.1: the per-IP start limit is for real networks.
      startRateLimit: { perSecond: 10_000, burst: 10_000 },
      ...opts.backendOverrides,
    });
  } catch (err) {
    why = (err as Error).message;
    if (opts.requireBackend) throw err;
  }
  const ingestUrl = backend ? backend.url : server.url;
  const projectKey = backend ? backend.projectKey : 'discard-project-key';
  return {
    describe: backend
      ? `real backend (startServer, in the bench process, temp dataDir) at ${backend.url}`
      : `accept-and-discard endpoint on the fixture server (backend unavailable: ${why})`,
    kind: backend ? 'backend' : 'discard',
    ingestUrl,
    projectKey,
    flushIntervalMs: 2000,
    backend,
    variant: (srv) => ({
      name: 'tandem',
      load: (page) => loadTandem(page, `${srv.url}/tandem.js`, projectKey, ingestUrl),
      start: (page) => startTandem(page),
      events: (page) => page.evaluate(() => (window as any).__tandemEvents as number),
      flush: (page) => page.evaluate(() => (window as any).Tandem.tracker.flush() as Promise<void>),
    }),
    async close() {
      await backend?.close();
    },
  };
}
