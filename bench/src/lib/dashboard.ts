import type { Browser, BrowserContext } from 'playwright-core';
import type { BenchBackend } from './backend.js';
import { EVALUATE_SHIM, LONGTASK_INIT } from './browser.js';

/**
 * A browser context signed in to the bench backend's dashboard as its admin (startBenchBackend's login),
 * with `initScripts` added after the evaluate shim and the long-task observer, and the dashboard's assets
 * already cached: one page loads `#/sessions` first, as an agent who has the dashboard open would have them.
 */
export async function signedInDashboard(browser: Browser, be: BenchBackend, initScripts: string[] = []): Promise<BrowserContext> {
  const login = await fetch(`${be.url}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bench@example.com', password: 'bench-password-123' }),
  });
  const cookie = login.headers.get('set-cookie')?.split(';')[0];
  if (!cookie) throw new Error(`login failed: ${login.status}`);
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const [name, value] = cookie.split('=');
  await ctx.addCookies([{ name, value, url: be.url }]);
  for (const script of [EVALUATE_SHIM, LONGTASK_INIT, ...initScripts]) await ctx.addInitScript(script);
  const warm = await ctx.newPage();
  await warm.goto(`${be.url}/#/sessions`);
  await warm.waitForTimeout(1500);
  await warm.close();
  return ctx;
}
