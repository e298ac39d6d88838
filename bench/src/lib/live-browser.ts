/**
 * The browser side of the live benches: one real backend (child process), one Chromium, user pages with
 * /tracker.js (and the assist plugin in it) served from the backend's origin, and agent pages on the
 * dashboard signed in with the admin's cookie.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './browser.js';
import { BENCH_PROJECT_KEY, startBackendChild, type BackendChild } from './backend-child.js';
import { loginCookie } from './live-common.js';
import { CLOCK_INIT, liveUserPage } from './live-pages.js';
import { REPO_ROOT } from './report.js';

export interface AssistState {
  connected: boolean;
  forwarding: boolean;
  agents: { id: string; name: string }[];
  lastForwardedSeq: number;
  sentMessages: number;
  /** joins answered with the kept run instead of a new snapshot (assist-plugin run-log.ts) */
  reusedRuns?: number;
}

export interface LiveEnv {
  backend: BackendChild;
  browser: Browser;
  cookie: string;
  close(): Promise<void>;
}

/** What a live browser bench needs built; a missing part is named in the error. */
export function checkBuilds(): void {
  const missing: string[] = [];
  if (!existsSync(resolve(REPO_ROOT, 'tracker/dist/tandem.iife.js'))) missing.push('tracker/dist/tandem.iife.js (cd tracker && node build.mjs)');
  if (!existsSync(resolve(REPO_ROOT, 'frontend/dist/index.html'))) missing.push('frontend/dist (cd frontend && npx vite build)');
  if (missing.length) throw new Error(`not built: ${missing.join(', ')}`);
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${String(last).split('\n')[0]}` : ''}`);
}

export async function startLiveEnv(opts: { browser?: Browser; browserArgs?: string[] } = {}): Promise<LiveEnv> {
  checkBuilds();
  const backend = await startBackendChild({
    // Each user page is a new visitor from 127.0.0.1; the per-IP start limit is for real networks.
    overrides: { startRateLimit: { perSecond: 10_000, burst: 10_000 } },
  });
  let browser: Browser | undefined;
  try {
    const cookie = await loginCookie(backend.url);
    browser = opts.browser ?? (await launchChromium(opts.browserArgs));
    const b = browser;
    return {
      backend,
      browser: b,
      cookie,
      async close() {
        if (!opts.browser) await b.close().catch(() => {});
        await backend.close();
      },
    };
  } catch (err) {
    if (browser && !opts.browser) await browser.close().catch(() => {});
    await backend.close();
    throw err;
  }
}

export interface UserTab {
  context: BrowserContext;
  page: Page;
  sessionId: string;
  close(): Promise<void>;
}

/**
 * A user (own context = own visitor and session) on a page served at `path` of the backend's origin, so
 * /tracker.js loads as on a customer site. `initScripts` run before the page's own (clock skew, taps).
 */
export async function openUser(env: LiveEnv, opts: { path?: string; nodes?: number; initScripts?: string[]; html?: string } = {}): Promise<UserTab> {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(CLOCK_INIT + (opts.initScripts ?? []).join('\n'));
  const path = opts.path ?? '/bench-user.html';
  const html = opts.html ?? liveUserPage(BENCH_PROJECT_KEY, opts.nodes ?? 0);
  await context.route(`${env.backend.url}${path}`, (route) => route.fulfill({ contentType: 'text/html', body: html }));
  const page = await context.newPage();
  await page.goto(`${env.backend.url}${path}`);
  const sessionId = await waitFor(
    'the tracker to start a session (Tandem getSessionId)',
    () => page.evaluate(() => new Promise<string>((r) => (window as any).Tandem('getSessionId', r))),
    20_000,
    200,
  );
  await waitFor('the assist socket to connect (Tandem assistState)', async () => (await assistState(page))?.connected, 20_000, 200);
  return { context, page, sessionId, close: () => context.close() };
}

/**
 * The user's page reloads (same session; a new assist plugin, so no run kept from an earlier watch: the
 * next join is a first join, answered with a new snapshot) and its assist socket reconnects.
 */
export async function freshUserPage(user: UserTab): Promise<void> {
  await user.page.reload();
  await waitFor('the assist socket to connect after the reload', async () => (await assistState(user.page))?.connected, 20_000, 100);
  // Let the tracker's idle-time work after its first snapshot finish, as on a page open for a while.
  await user.page.waitForTimeout(500);
}

/** `Tandem('assistState', cb)` of the assist plugin (null when the plugin does not answer). */
export function assistState(page: Page): Promise<AssistState | null> {
  return page.evaluate(
    () =>
      new Promise<AssistState | null>((r) => {
        const t = setTimeout(() => r(null), 1000);
        (window as any).Tandem('assistState', (s: AssistState) => {
          clearTimeout(t);
          r(s);
        });
      }),
  );
}

/** A browser context signed in as the admin agent (the cookie from the API login). */
export async function agentContext(env: LiveEnv, initScripts: string[] = []): Promise<BrowserContext> {
  const context = await env.browser.newContext({ viewport: { width: 1400, height: 900 } });
  const eq = env.cookie.indexOf('=');
  await context.addCookies([{ name: env.cookie.slice(0, eq), value: env.cookie.slice(eq + 1), url: env.backend.url }]);
  await context.addInitScript(CLOCK_INIT + initScripts.join('\n'));
  return context;
}

export const LIVE_SELECTOR = '[data-testid="live-view"][data-state="live"]';
export const STAGE_IFRAME = '[data-testid="live-stage"] iframe';

/** What the live view says about itself now (for error messages when it never gets live). */
export async function liveViewState(page: Page): Promise<string> {
  return page
    .evaluate(() => {
      const v = document.querySelector('[data-testid="live-view"]');
      const body = document.body?.innerText?.replace(/\s+/g, ' ').slice(0, 200) ?? '';
      return v ? `live-view data-state=${v.getAttribute('data-state')}; text: ${body}` : `no [data-testid=live-view]; page text: ${body}`;
    })
    .catch((e: Error) => `cannot read: ${e.message}`);
}
