import type { TrackerOptions } from './options.js';
import { debug } from './safe.js';
import { Tracker, type TrackerPlugin } from './tracker.js';

/**
 * The `window.Tandem` command function of the script-tag install. Pages may call it before the
 * script has loaded through the usual stub:
 *   window.Tandem = window.Tandem || function(){(Tandem.q=Tandem.q||[]).push(arguments)}
 * Queued calls are replayed in order once the tracker exists; later calls run at once.
 */
export interface TandemGlobal {
  (command: string, ...args: unknown[]): void;
  q?: ArrayLike<unknown>[];
  tracker?: Tracker;
  version?: number;
}

export interface ScriptConfig {
  projectKey?: string;
  ingestUrl: string;
  autostart: boolean;
  privacy?: TrackerOptions['privacy'];
  /** Live assist plugin in the script-tag build; `data-assist="false"` leaves it out. Default true. */
  assist?: boolean;
}

/** Reads the snippet's `data-*` attributes and the origin the script came from. */
export function readScriptConfig(script: HTMLScriptElement | null, pageOrigin: string): ScriptConfig {
  const data = script?.dataset ?? {};
  let origin = pageOrigin;
  try {
    if (script?.src) origin = new URL(script.src, pageOrigin).origin;
  } catch {
    /* keep the page origin */
  }
  const privacy = data.privacy === 'strict' ? 'strict' : undefined;
  return {
    projectKey: data.projectKey || undefined,
    ingestUrl: data.ingestUrl || origin,
    autostart: data.autostart !== 'false',
    privacy,
    assist: data.assist !== 'false',
  };
}

/** Options of `Tandem('init', ...)`: the tracker's, plus the script-tag switches. */
export type InitOptions = Partial<TrackerOptions> & { autostart?: boolean; assist?: boolean };

type TrackerFactory = (opts: TrackerOptions, extra: { assist: boolean }) => Tracker;

/** Calls a page's callback; its exceptions stay out of the tracker (and out of unhandled rejections). */
function callBack(cb: (...args: unknown[]) => unknown, ...args: unknown[]): void {
  try {
    cb(...args);
  } catch (err) {
    debug('callback failed', err);
  }
}

export function installQueue(
  win: { Tandem?: TandemGlobal },
  config: ScriptConfig,
  create: TrackerFactory = (o) => new Tracker(o),
): TandemGlobal {
  const existing = win.Tandem;
  if (existing?.tracker) return existing; // the script was included twice: keep the first tracker
  const queued = existing?.q ? Array.from(existing.q, (args) => Array.from(args)) : [];

  let tracker: Tracker | undefined;
  let autostart = config.autostart;
  /** Calls that need a tracker, made before `init` (when there is no data-project-key). */
  let waiting: unknown[][] = [];
  let booting = true;

  const init = (opts: InitOptions = {}) => {
    if (tracker) return;
    const { autostart: auto, assist, ...rest } = opts ?? {};
    if (auto !== undefined) autostart = auto;
    tracker = create(
      { ingestUrl: config.ingestUrl, privacy: config.privacy, ...rest, projectKey: rest.projectKey ?? config.projectKey ?? '' },
      { assist: config.assist !== false && assist !== false },
    );
    api.tracker = tracker;
    const held = waiting;
    waiting = [];
    for (const args of held) run(args);
    if (!booting && autostart) void tracker.start(); // init() called after load
  };

  const run = (args: unknown[]) => {
    const [command, ...rest] = args as [string, ...unknown[]];
    if (command === 'init') return init(rest[0] as InitOptions);
    if (!tracker) {
      waiting.push(args);
      return;
    }
    const t = tracker;
    switch (command) {
      case 'start':
        void t.start();
        return;
      case 'stop':
        autostart = false; // a stop queued before load wins over autostart
        void t.stop();
        return;
      case 'identify':
        return t.identify(rest[0] as string, rest[1] as Record<string, string | number | boolean | null>);
      case 'event':
        return t.event(rest[0] as string, rest[1]);
      case 'flush':
        void t.flush();
        return;
      case 'takeFullSnapshot':
        return t.takeFullSnapshot();
      case 'use':
        t.use(rest[0] as TrackerPlugin);
        return;
      case 'getSessionId':
      case 'onSession': {
        const cb = rest[0];
        if (typeof cb !== 'function') return;
        const once = command === 'getSessionId';
        let off: (() => void) | undefined;
        let done = false;
        off = t.onSession((s) => {
          if (done) return;
          if (once) {
            done = true;
            // Deferred: onSession may call us before `off` is assigned.
            setTimeout(() => off?.(), 0);
            cb(s.sessionId);
          } else cb(s);
        });
        return;
      }
      case 'getWatchLink': {
        // cb(url, null) or cb(null, error): error is a TandemError with code, message and status.
        const cb = rest[0];
        if (typeof cb !== 'function') return;
        t.getWatchLink().then(
          (url) => callBack(cb as (...a: unknown[]) => unknown, url, null),
          (err) => callBack(cb as (...a: unknown[]) => unknown, null, err),
        );
        return;
      }
      case 'assistState': {
        // cb(state) with the live assist plugin's read-only state, or cb(null) without the plugin.
        const cb = rest[0];
        if (typeof cb !== 'function') return;
        const plugin = t.plugin('assist') as (TrackerPlugin & { assistState?: () => unknown }) | undefined;
        callBack(cb as (...a: unknown[]) => unknown, typeof plugin?.assistState === 'function' ? plugin.assistState() : null);
        return;
      }
      default:
        debug('unknown command', command);
    }
  };

  const api: TandemGlobal = function Tandem(command: string, ...args: unknown[]) {
    try {
      run([command, ...args]);
    } catch (err) {
      debug('command failed', command, err);
    }
  };
  api.version = 1;
  win.Tandem = api;

  if (config.projectKey) init();
  for (const args of queued) {
    try {
      run(args);
    } catch (err) {
      debug('queued command failed', args[0], err);
    }
  }
  // Started after the replay, so a queued identify() is already part of the start request.
  booting = false;
  if (tracker && autostart) void tracker.start();
  return api;
}
