import { createRequire } from 'node:module';
import type * as UWS from 'uWebSockets.js';

/**
 * Loads uWebSockets.js and refuses its pure-JS fallback. The package silently falls back to a slow Node
 * implementation when no native binary matches this Node ABI (or UWS_USE_FALLBACK is set); serving
 * ingest on that would miss every throughput target without anyone noticing, so we stop instead.
 */
export function loadUws(): typeof UWS {
  const require = createRequire(import.meta.url);
  const originalWarn = console.warn;
  const warnings: string[] = [];
  console.warn = (...args: unknown[]) => warnings.push(args.join(' '));
  let uws: typeof UWS;
  try {
    uws = require('uWebSockets.js');
  } finally {
    console.warn = originalWarn;
  }
  const native = /\[native code\]/.test(String(uws.App));
  if (!native || process.env.UWS_USE_FALLBACK) {
    throw new Error(
      `uWebSockets.js has no native binary for Node ${process.version} (ABI ${process.versions.modules}) on ` +
        `${process.platform}-${process.arch}; refusing its slow JS fallback. Use Node 20.x. ${warnings.join(' ')}`.trim(),
    );
  }
  return uws;
}
