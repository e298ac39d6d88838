import type { Browser, BrowserContext, FrameLocator, Page } from 'playwright-core';
import { PROJECT_KEY } from './backend-process.js';
import { waitFor } from './browser.js';

/** What the assist plugin reports about itself (`Tandem('assistState', cb)`). */
export interface AssistState {
  connected: boolean;
  forwarding: boolean;
  agents: { id: string; name: string }[];
  lastForwardedSeq: number;
  sentMessages: number;
  consentPending: boolean;
}

/**
 * A user's page: a fixture served from the backend's own origin (so /tracker.js with the assist plugin
 * loads as on a customer site). `path` differs per tab so each tab has its own page.
 */
export async function openUserPage(page: Page, baseUrl: string, body: string, path = '/fixture.html', scriptAttrs = ''): Promise<void> {
  await page.route(`${baseUrl}${path}`, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><html><head><meta charset="utf-8"><title>User page ${path}</title>
        <style>body{font:16px sans-serif;margin:24px} #notes{border:1px solid #999;min-height:40px;padding:6px}</style></head>
        <body>${body}<script src="/tracker.js" data-project-key="${PROJECT_KEY}" ${scriptAttrs} async></script></body></html>`,
    }),
  );
  await page.goto(`${baseUrl}${path}`);
}

export function sessionIdOf(page: Page): Promise<string> {
  return waitFor('tracker session', () => page.evaluate(() => new Promise<string>((r) => (window as any).Tandem('getSessionId', r))));
}

export function assistState(page: Page): Promise<AssistState> {
  return page.evaluate(() => new Promise<AssistState>((r) => (window as any).Tandem('assistState', r)));
}

export function waitForAssist(page: Page, what: string, pred: (s: AssistState) => boolean, timeoutMs = 15_000): Promise<AssistState> {
  return waitFor(what, async () => {
    const s = await assistState(page);
    return pred(s) ? s : null;
  }, timeoutMs, 100);
}

/** A browser context signed in as an agent (the cookie from the API login). */
export async function agentContext(browser: Browser, baseUrl: string, cookie: string): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const [name, value] = cookie.split('=');
  await context.addCookies([{ name, value: cookie.slice(name.length + 1) || value, url: baseUrl }]);
  return context;
}

/** Opens the dashboard's live view of a session; resolves when it says it is live. */
export async function openLiveView(context: BrowserContext, baseUrl: string, sessionId: string, timeoutMs = 15_000): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${baseUrl}/#/live/${encodeURIComponent(sessionId)}`);
  await waitForLiveState(page, 'live', timeoutMs);
  return page;
}

export async function waitForLiveState(page: Page, state: string, timeoutMs = 15_000, scope = '[data-testid="live-view"]'): Promise<void> {
  try {
    await page.locator(`${scope}[data-state="${state}"]`).first().waitFor({ timeout: timeoutMs });
  } catch (err) {
    // Say where it got stuck: the view's state, and its message if it shows one.
    const seen = await page.locator(scope).first().evaluate((el) => ({
      state: el.getAttribute('data-state'),
      text: (el.textContent ?? '').replace(/\s+/g, ' ').slice(0, 300),
    })).catch(() => null);
    throw new Error(`live view never reached "${state}" in ${timeoutMs} ms; it shows ${JSON.stringify(seen)}`, { cause: err });
  }
}

/** The replayer's iframe inside a live stage (the first one, or the one inside `scope`). */
export function stageFrame(page: Page, scope = ''): FrameLocator {
  return page.frameLocator(`${scope} [data-testid="live-stage"] iframe`.trim()).first();
}

/** Waits until the agent's view of the page shows `text` (the replayed DOM, not the user's page). */
export async function waitForStageText(page: Page, text: string, timeoutMs = 10_000, scope = ''): Promise<void> {
  await stageFrame(page, scope).getByText(text, { exact: false }).first().waitFor({ timeout: timeoutMs });
}

/**
 * Shifts the page's clock by `offsetMs` (Date.now and new Date()), as on a user's machine whose clock
 * is wrong. performance.now is left alone: it is monotonic and relative, as on real machines.
 */
export function skewClockScript(offsetMs: number): string {
  return `(() => {
    const RealDate = Date;
    const offset = ${offsetMs};
    class SkewedDate extends RealDate {
      constructor(...args) { if (args.length === 0) super(RealDate.now() + offset); else super(...args); }
      static now() { return RealDate.now() + offset; }
    }
    globalThis.Date = SkewedDate;
  })();`;
}

/** Assert-friendly wait: resolves when the assist plugin stops forwarding and stays stopped. */
export async function assertNoLiveTrafficFor(page: Page, ms: number): Promise<AssistState> {
  const before = await assistState(page);
  await page.waitForTimeout(ms);
  const after = await assistState(page);
  if (after.sentMessages !== before.sentMessages) {
    throw new Error(`live traffic while nobody watches: ${before.sentMessages} → ${after.sentMessages} messages`);
  }
  return after;
}
