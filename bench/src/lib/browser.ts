/** Debian's Chromium through playwright-core, with the flags from DESIGN.md §8. Never downloads a browser. */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Pages served from loopback by route.fulfill count as "public": without this Chromium blocks their
  // WebSocket to the loopback backend and socket.io falls back to long polling.
  '--disable-features=LocalNetworkAccessChecks',
];

/** Waits (bounded) for /usr/bin/chromium to appear: it may still be installing. */
export async function waitForChromium(timeoutMs = 10 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(CHROMIUM)) {
    if (Date.now() > deadline) throw new Error(`${CHROMIUM} did not appear within ${timeoutMs / 1000} s`);
    console.log(`[bench] waiting for ${CHROMIUM} ...`);
    await new Promise((r) => setTimeout(r, 10_000));
  }
}

export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  await waitForChromium();
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

export async function chromiumVersion(browser: Browser): Promise<string> {
  return browser.version();
}

/**
 * tsx compiles this code with esbuild's keepNames, so functions passed to page.evaluate may call a
 * `__name` helper that does not exist in the page. Every bench context gets this no-op shim.
 */
export const EVALUATE_SHIM = `globalThis.__name = globalThis.__name || ((fn) => fn);`;

/** Collects Long Tasks API entries (tasks >= 50 ms) into window.__longtasks from the first script on. */
export const LONGTASK_INIT = `
  window.__longtasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longtasks.push({ start: e.startTime, dur: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) {}
`;
