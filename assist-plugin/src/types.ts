import type { AgentPresence, ServerToTabEvents, TabToServerEvents } from '@tandem/protocol';
import type { ManagerOptions, Socket, SocketOptions } from 'socket.io-client';
import type { ClockOffset } from './clock.js';
import type { KeyValue } from './handshake.js';
import type { AssistHost } from './host.js';
import type { RtcModule, RtcSummary } from './rtc-api.js';

/** The plugin's options, observable state and test seams. */

export interface AssistOptions {
  /** Default true. False: the plugin does nothing at all (no socket). */
  enabled?: boolean;
  /** Tandem server for the socket; default the tracker's ingestUrl. */
  socketUrl?: string;
  /** Called with the agents present whenever they change (empty: nobody). */
  onAgentsChange?: (agents: AgentPresence[]) => void;
  /** Default true. False hides the "is viewing" banner (build your own with onAgentsChange + stop()). */
  banner?: boolean;
  /**
   * Where the WebRTC chunk (calls, canvas video, control, drawing) is loaded from the first time it
   * is needed; default `<ingestUrl>/tracker-rtc.js` (/tracker.js passes the URL next to its own).
   */
  rtcUrl?: string;
}

/** Read-only picture of the plugin, for tests and support tooling (`Tandem('assistState', cb)`). */
export interface AssistState {
  enabled: boolean;
  /** The tab socket is connected to `/assist`. */
  connected: boolean;
  /** Between `live:start` and `live:stop` (or the user's Stop / a disconnect). */
  forwarding: boolean;
  agents: AgentPresence[];
  /** Seq of the last event sent to the agents, -1 before the first. */
  lastForwardedSeq: number;
  /** `live:events` messages sent since the page loaded. */
  sentMessages: number;
  /** Events in those messages. */
  sentEvents: number;
  /** Forwarding runs (each begins with Meta + FullSnapshot). */
  runs: number;
  /** Seq jumps seen on the bus while forwarding (each starts a new run). */
  gaps: number;
  /** Joins answered with the run already on the bus (run-log.ts) instead of a new snapshot. */
  reusedRuns: number;
  /** Every message the tab emitted, by event name (`tab:page`, `clock:ping`, `live:events`, ...). */
  emitted: Record<string, number>;
  /** Successful connections (1 + reconnects). */
  connects: number;
  /** Last measured clock offset (serverClock - userClock) and its round trip. */
  clock: ClockOffset | null;
  bannerVisible: boolean;
  consentPending: boolean;
  /** Code of a handshake refusal that stopped the plugin (`unauthorized`, ...), null while trying. */
  stoppedReason: string | null;
  /** Calls, control, canvas video, drawing and recording (the WebRTC chunk; zeros until it loads). */
  rtc: RtcSummary;
  /**
   * /tracker.js only (`lazyAssist`): the plugin's own chunk, /tracker-assist.js. `waiting` for the first
   * snapshot and an idle moment, `loading`, `loaded`, `failed` (tried again later), `off` when disabled.
   */
  chunk?: ChunkState;
}

export type ChunkState = 'off' | 'waiting' | 'loading' | 'loaded' | 'failed';

export interface AssistPlugin {
  readonly name: 'assist';
  setup(host: AssistHost): void;
  assistState(): AssistState;
  /** What the banner's Stop button does: ends watching for every agent. */
  stop(): void;
  /**
   * The WebRTC peer connections by peer id (`agent:<socketId>`), empty before the chunk loads: for
   * tests and support tooling (`getStats()`), as the dashboard's `window.__tandemAssist.peers()`.
   * From a page: `Tandem.tracker.plugin('assist').rtcConnections()`.
   */
  rtcConnections(): Map<string, RTCPeerConnection>;
  /** What the consent prompt's buttons do (for a consent UI of your own); no-op when nothing was asked. */
  answerConsent(accepted: boolean): void;
}

export type TabSocket = Socket<ServerToTabEvents, TabToServerEvents>;
export type IoFactory = (url: string, opts: Partial<ManagerOptions & SocketOptions>) => TabSocket;

/** Injected for tests; the defaults are the browser's. */
export interface AssistDeps {
  io?: IoFactory;
  /** sessionStorage (resume flags). */
  storage?: KeyValue;
  /** null: no DOM (no banner, no page listeners). */
  doc?: Document | null;
  schedule?: (fn: () => void) => void;
  random?: () => number;
  /** Loads the WebRTC chunk; default a `<script>` from `rtcUrl`. */
  loadRtc?: () => Promise<RtcModule>;
}

