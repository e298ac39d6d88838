import { getRecordConsolePlugin, type LogLevel } from '@rrweb/rrweb-plugin-console-record';
import type { RecordPlugin } from '@rrweb/types';
import type { ConsolePluginPayload } from '@tandem/protocol';
import type { Guard } from './safe.js';
import { TokenBucket } from './token-bucket.js';
import { truncate } from './truncate.js';

/**
 * Console capture with rrweb's console plugin, plus what it lacks:
 * - Its lengthThreshold (1000 logs per record() call) silently ends capture for the rest of the
 *   page. We set it out of reach and put our own token bucket in front instead: bursts pass,
 *   a flood is dropped and counted in a `tandem/console-capped@1` event.
 * - The gate sits on top of the plugin's console patch, so a dropped call costs nothing beyond
 *   the page's own console call: no stack parsing, no stringify.
 * - Each argument and the trace are cut to bounded sizes.
 */

/** Levels worth replaying. Counters, timers and groups carry little without their pairs. */
export const CONSOLE_LEVELS: LogLevel[] = ['log', 'info', 'warn', 'error', 'debug', 'assert', 'trace', 'table', 'dir'];
/** A burst of 100 (a page logging its start-up) passes whole; 20/s sustained is a chatty app, more is a flood. */
export const CONSOLE_BURST = 100;
export const CONSOLE_PER_SECOND = 20;
/** One log argument is at most 2 KB of JSON, one trace at most 10 frames: a log is a hint, not a dump. */
export const CONSOLE_ARG_MAX = 2_000;
const CONSOLE_MAX_ARGS = 20;
const CONSOLE_TRACE_FRAMES = 10;
/** Report dropped logs at most once a second, so the count lands near the flood in the timeline. */
const CAPPED_REPORT_MS = 1_000;
/** Effectively unlimited: the plugin's own cap would stop capture silently (see above). */
const PLUGIN_NO_THRESHOLD = Number.MAX_SAFE_INTEGER;

export interface ConsoleCapture {
  plugin: RecordPlugin;
  /** Call right after record() has installed the plugin's patches. */
  installGate(): void;
  uninstall(): void;
}

export function createConsoleCapture(
  guard: Guard,
  onCapped: (dropped: number) => void,
  win: Window & typeof globalThis = window,
  now: () => number = Date.now,
): ConsoleCapture {
  const con = win.console as unknown as Record<string, (...a: unknown[]) => unknown>;
  const originals = new Map<string, (...a: unknown[]) => unknown>();
  for (const level of CONSOLE_LEVELS) if (typeof con[level] === 'function') originals.set(level, con[level]);

  const bucket = new TokenBucket(CONSOLE_BURST, CONSOLE_PER_SECOND, now);
  let dropped = 0;
  let reportTimer: ReturnType<typeof setTimeout> | null = null;
  let active = true;
  const gates = new Map<string, (...a: unknown[]) => unknown>();

  const noteDrop = () => {
    dropped++;
    if (reportTimer) return;
    reportTimer = setTimeout(
      guard.wrap('console capped', () => {
        reportTimer = null;
        const n = dropped;
        dropped = 0;
        if (n > 0 && active) onCapped(n);
      }),
      CAPPED_REPORT_MS,
    );
  };

  const base = getRecordConsolePlugin({
    level: CONSOLE_LEVELS,
    lengthThreshold: PLUGIN_NO_THRESHOLD,
    stringifyOptions: { stringLengthLimit: CONSOLE_ARG_MAX, numOfKeysLimit: 50, depthOfLimit: 4 },
  });

  const plugin: RecordPlugin = {
    name: base.name,
    options: base.options,
    observer: (cb: (data: ConsolePluginPayload) => void, observedWin: unknown, options: unknown) => {
      const bounded = (data: ConsolePluginPayload) => {
        try {
          cb({
            level: data.level,
            payload: (data.payload || []).slice(0, CONSOLE_MAX_ARGS).map((p) => truncate(String(p), CONSOLE_ARG_MAX)),
            trace: (data.trace || []).slice(0, CONSOLE_TRACE_FRAMES).map((t) => truncate(String(t), 300)),
          });
        } catch (err) {
          guard.report(err, 'console capture');
        }
      };
      // The plugin's own window 'error'/'unhandledrejection' listeners can throw (it parses
      // event.error, which is null for cross-origin "Script error."). A shim window wraps them so
      // nothing escapes into the page.
      const w = observedWin as Window & typeof globalThis;
      const wrapped = new Map<EventListener, EventListener>();
      const shim = {
        console: w.console,
        addEventListener: (type: string, fn: EventListener, o?: unknown) => {
          const safeFn = guard.wrap('console plugin listener', fn as (...a: unknown[]) => unknown) as EventListener;
          wrapped.set(fn, safeFn);
          w.addEventListener(type, safeFn, o as AddEventListenerOptions);
        },
        removeEventListener: (type: string, fn: EventListener, o?: unknown) => {
          w.removeEventListener(type, wrapped.get(fn) ?? fn, o as EventListenerOptions);
        },
      };
      return (base.observer as (cb: unknown, w: unknown, o: unknown) => () => void)(bounded, shim, options);
    },
  };

  return {
    plugin,
    installGate() {
      for (const [level, original] of originals) {
        const patched = con[level];
        if (typeof patched !== 'function' || patched === original) continue;
        const gate = function (this: unknown, ...args: unknown[]) {
          let pass = false;
          try {
            pass = active && bucket.take();
            if (active && !pass) noteDrop();
          } catch {
            pass = false;
          }
          // Either way the page's console call happens exactly once (the plugin calls the original).
          return (pass ? patched : original).apply(this, args);
        };
        gates.set(level, gate);
        con[level] = gate;
      }
    },
    uninstall() {
      active = false;
      if (reportTimer) clearTimeout(reportTimer);
      reportTimer = null;
      // Put the plugin's patch back under ours only if nobody patched on top of us since;
      // otherwise our gate stays, inert, passing calls straight through to the original.
      for (const [level, gate] of gates) {
        if (con[level] === gate) con[level] = originals.get(level)!;
      }
      gates.clear();
    },
  };
}
