import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium with the flags this machine needs (no sandbox as root, no calls home). */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // Pages served by route.fulfill count as "public": without this Chromium blocks their WebSocket to the
  // loopback backend (ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS) and socket.io falls back to polling.
  '--disable-features=LocalNetworkAccessChecks',
];

/**
 * WebRTC between real pages on loopback with fake media (DESIGN.md §8): a fake camera and microphone
 * (a test pattern with a timer, and a beep), no permission prompt, host candidates on 127.0.0.1 allowed.
 * Autoplay is allowed so remote media elements play without a user gesture in headless runs.
 */
export const WEBRTC_CHROMIUM_ARGS = [
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
];

export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** Thrown from a waitFor condition to stop waiting at once (e.g. the process being waited on has exited). */
export class StopWaiting extends Error {}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      if (err instanceof StopWaiting) throw err;
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
