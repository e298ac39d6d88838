import type { TandemEvent } from '@tandem/protocol';
import { RRWEB_EVENT } from '@tandem/protocol';
import { assistGuard } from './guard.js';
import type { AssistHost } from './host.js';
import { loadChunkScript } from './chunk-loader.js';
import type { AssistOptions, AssistPlugin, AssistState, ChunkState } from './types.js';
import { EMPTY_RTC_SUMMARY } from './rtc-api.js';

/**
 * The live assist plugin as /tracker.js carries it: a stand-in of ~1 KB that loads the real plugin
 * (its socket.io client, forwarding, banner, consent; /tracker-assist.js) once the page is idle after
 * the first full snapshot, then hands it the tracker. Until then there is no socket, so opening the
 * socket never lands in the snapshot's task nor delays the page's first paint.
 *
 * Nothing is lost in the gap: an agent who is already waiting gets the page when the tab's socket
 * connects (the server sends `live:start`, the plugin takes a fresh snapshot), and page info goes in
 * the handshake (`currentPage()` is read then).
 */

/** Global the chunk registers its module under (versioned: a chunk of another protocol never matches). */
export const ASSIST_GLOBAL = '__tandemAssist1';

/** What /tracker-assist.js registers. */
export interface AssistModule {
  assist(options?: AssistOptions): AssistPlugin;
}

/**
 * requestIdleCallback's deadline: on a page that stays busy the plugin still connects within 2 s of the
 * first snapshot (live assist must not wait for a quiet moment that never comes).
 */
export const ASSIST_IDLE_TIMEOUT_MS = 2_000;
/** Without requestIdleCallback (Safari): a short delay puts the load after the snapshot's work and the first paint. */
export const ASSIST_IDLE_FALLBACK_MS = 250;
/**
 * A session but no full snapshot after this long (rrweb waits for `load` on a page whose images are
 * slow, or the recorder could not start): load anyway, agents should still find the tab in the live list.
 */
export const ASSIST_SNAPSHOT_WAIT_MS = 10_000;
/** A failed chunk load (network, a deploy in progress) is tried again after 2 s, doubling up to 5 min. */
export const ASSIST_RETRY_MIN_MS = 2_000;
export const ASSIST_RETRY_MAX_MS = 300_000;

export interface LazyAssistOptions extends AssistOptions {
  /** Where the chunk is; default `<ingestUrl>/tracker-assist.js` (/tracker.js passes the URL next to its own). */
  chunkUrl?: string;
  /** The chunk's content hash from the build (`?v=`), so a cached chunk of another build is never used. */
  chunkVersion?: string;
}

/** Test seams; the defaults are the browser's. */
export interface LazyAssistDeps {
  load?: (url: string) => Promise<AssistModule>;
  /** Runs `fn` when the page is idle (in a task of its own). */
  idle?: (fn: () => void) => void;
}

/** `<ingestUrl>/tracker-assist.js`. */
export function assistChunkUrl(ingestUrl: string): string {
  return `${ingestUrl.replace(/\/+$/, '')}/tracker-assist.js`;
}

/** requestIdleCallback with a deadline, or a short timer where there is none. */
export function whenIdle(fn: () => void): void {
  if (typeof requestIdleCallback === 'function') requestIdleCallback(() => fn(), { timeout: ASSIST_IDLE_TIMEOUT_MS });
  else setTimeout(fn, ASSIST_IDLE_FALLBACK_MS);
}

/** `tracker.use(lazyAssist())`: the same plugin as `assist()`, its code fetched at the first idle moment after the first snapshot. */
export function lazyAssist(options: LazyAssistOptions = {}, deps: LazyAssistDeps = {}): AssistPlugin {
  const { chunkUrl, chunkVersion, ...pluginOptions } = options ?? {};
  const enabled = pluginOptions.enabled !== false;
  const idle = deps.idle ?? whenIdle;
  const load = deps.load ?? ((url: string) => loadChunkScript<AssistModule>(document, url, ASSIST_GLOBAL, (m) => !!(m as AssistModule)?.assist));

  let guard = assistGuard();
  let host: AssistHost | null = null;
  let real: AssistPlugin | null = null;
  let mod: AssistModule | null = null;
  let chunk: ChunkState = enabled ? 'waiting' : 'off';
  /** Both must hold before the chunk is fetched; a tracker stop clears them until its next start. */
  let session = false;
  let snapshot = false;
  /** Waiting for the idle moment, or loading. */
  let busy = false;
  /** The snapshot wait, or the retry after a failed load (never both). */
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let unsubBus: (() => void) | undefined;

  /** The real plugin gets the tracker: it reads the session (onSession calls back at once) and connects. */
  const install = (m: AssistModule) => {
    real = m.assist(pluginOptions);
    chunk = 'loaded';
    unsubBus?.();
    clearTimeout(timer);
    real.setup(host!);
  };

  const fetchChunk = () => {
    busy = false;
    if (real || !session) return;
    if (mod) return install(mod);
    busy = true;
    chunk = 'loading';
    const base = chunkUrl || assistChunkUrl(host!.ingestUrl);
    load(chunkVersion && !base.includes('?') ? `${base}?v=${chunkVersion}` : base).then(
      guard.wrap('chunk loaded', (m: AssistModule) => {
        busy = false;
        mod = m;
        // Stopped while it loaded: kept, and installed at once on the next start.
        if (session && !real) install(m);
        else if (!real) chunk = 'waiting';
      }) as (m: AssistModule) => void,
      guard.wrap('chunk failed', (err: unknown) => {
        busy = false;
        chunk = 'failed';
        guard.report(err, 'chunk load');
        timer = setTimeout(guard.wrap('chunk retry', fetchChunk), Math.min(ASSIST_RETRY_MAX_MS, ASSIST_RETRY_MIN_MS * 2 ** attempt++));
      }) as (e: unknown) => void,
    );
  };

  /** Session and snapshot both there: fetch at the next idle moment, in a task of its own (never the snapshot's). */
  const maybeFetch = () => {
    if (real || busy || !session || !snapshot) return;
    busy = true;
    clearTimeout(timer);
    idle(guard.wrap('idle', fetchChunk));
  };

  const onBus = (e: TandemEvent) => {
    if (e.type === RRWEB_EVENT.FullSnapshot && !snapshot) {
      snapshot = true;
      maybeFetch();
    }
  };

  const onSession = () => {
    if (real || session) return;
    session = true;
    if (!snapshot) {
      timer = setTimeout(
        guard.wrap('snapshot wait', () => {
          snapshot = true;
          maybeFetch();
        }),
        ASSIST_SNAPSHOT_WAIT_MS,
      );
    }
    maybeFetch();
  };

  /** The site stopped the tracker before the plugin was installed (after, the plugin has its own listener). */
  const onStop = () => {
    session = snapshot = false;
    clearTimeout(timer);
  };

  return {
    name: 'assist',
    setup(h: AssistHost) {
      if (!enabled || host) return;
      host = h;
      guard = assistGuard(typeof h.reportError === 'function' ? (err, where) => h.reportError!(err, `assist ${where}`) : undefined);
      guard.run('lazy setup', () => {
        unsubBus = h.bus.subscribe(guard.wrap('lazy bus', onBus) as (e: TandemEvent) => void);
        h.onSession(guard.wrap('lazy session', onSession) as () => void);
        h.onStop?.(guard.wrap('lazy stop', onStop));
      });
    },
    assistState(): AssistState {
      if (real) return { ...real.assistState(), chunk };
      // Nothing connected yet: the plugin's state before its first connection.
      return {
        enabled,
        connected: false,
        forwarding: false,
        agents: [],
        lastForwardedSeq: -1,
        sentMessages: 0,
        sentEvents: 0,
        runs: 0,
        gaps: 0,
        reusedRuns: 0,
        emitted: {},
        connects: 0,
        clock: null,
        bannerVisible: false,
        consentPending: false,
        stoppedReason: null,
        rtc: { ...EMPTY_RTC_SUMMARY },
        chunk,
      };
    },
    rtcConnections() {
      return real ? real.rtcConnections() : new Map();
    },
    stop() {
      real?.stop();
    },
    answerConsent(accepted: boolean) {
      real?.answerConsent(accepted);
    },
  };
}
export { loadChunkScript } from './chunk-loader.js';
