import type { ServerToTabRtcEvents, TabRtcToServerEvents } from '@tandem/protocol';
import type { NodeMirror } from './host.js';

/**
 * The seam between the plugin's core (in /tracker.js) and its lazily loaded WebRTC chunk
 * (/tracker-rtc.js: calls, canvas video, control, annotations, recording, simple-peer). Types only:
 * nothing here may pull chunk code into /tracker.js.
 */

export type RtcServerEvent = keyof ServerToTabRtcEvents;

/** What the core gives the chunk. */
export interface RtcContext {
  readonly doc: Document;
  /** This tab's id and session (null between sessions). */
  tabId(): string | null;
  sessionId(): string | null;
  send<E extends keyof TabRtcToServerEvents>(name: E, ...args: Parameters<TabRtcToServerEvents[E]>): void;
  /** The recorder's rrweb mirror (node id ↔ node), null while not recording. */
  mirror(): NodeMirror | null;
  /** The plugin's open shadow root (created on demand, kept while any layer is mounted). */
  ui: RtcUiHost;
  /** Runs `fn` under the plugin's guard: a failure is reported, never thrown into the page. */
  wrap<F extends (...a: never[]) => unknown>(where: string, fn: F): F;
  report(err: unknown, where: string): void;
}

export interface RtcUiHost {
  /** Appends `el` to the shadow root; the returned function removes it. */
  mount(el: HTMLElement): () => void;
  /** Adds a stylesheet to the shadow root (once per `id`). */
  addStyles(id: string, css: string): void;
  /** The `<tandem-assist>` host element while it is in the page (UI of ours is never a control target). */
  readonly host: HTMLElement | null;
}

/** What the chunk gives back. */
export interface RtcController {
  handle<E extends RtcServerEvent>(name: E, ...args: Parameters<ServerToTabRtcEvents[E]>): void;
  /** `live:stop`: nobody watches this tab any more. */
  liveStopped(): void;
  summary(): RtcSummary;
  /** The live RTCPeerConnections by peer id, `canvas:<peer id>` for canvas peers (tests and support tooling call getStats on them). */
  connections(): Map<string, RTCPeerConnection>;
  /** Ends everything local (media, peers, UI); the server's state is not touched. */
  dispose(): void;
}

export interface RtcModule {
  createRtc(ctx: RtcContext): RtcController;
}

/** `assistState().rtc`: counts and flags for tests and support tooling. */
export interface RtcSummary {
  /** The chunk is loaded and running. */
  loaded: boolean;
  /** Peer ids (`agent:<socketId>`) with a live simple-peer for a call. */
  peers: string[];
  /** Peer ids with a live canvas-video peer (channel `canvas`, apart from the call's). */
  canvasPeers: string[];
  /** The user's side of a call is on in this tab. */
  callActive: boolean;
  muted: boolean;
  cameraOff: boolean;
  /** Agents whose media reached this tab (peer ids). */
  remoteMedia: string[];
  /** Name of the agent controlling this tab, null when nobody. */
  controlledBy: string | null;
  /** Control inputs run / refused (not the holder, password field, off limits). */
  controlInputs: number;
  controlRefused: number;
  /** Refused control inputs by reason (`password`, `not-holder`, `own-ui`, `cross-origin`, ...). */
  controlRefusals: Record<string, number>;
  /** Canvases streamed now and agents watching them. */
  canvasStreams: number;
  canvasWatchers: number;
  /** Annotation stroke pieces drawn, and strokes still on screen. */
  strokesDrawn: number;
  strokesVisible: number;
  recording: boolean;
  /** Requests waiting for the user's answer, by feature. */
  prompts: string[];
}

export const EMPTY_RTC_SUMMARY: RtcSummary = {
  loaded: false,
  peers: [],
  canvasPeers: [],
  callActive: false,
  muted: false,
  cameraOff: false,
  remoteMedia: [],
  controlledBy: null,
  controlInputs: 0,
  controlRefused: 0,
  controlRefusals: {},
  canvasStreams: 0,
  canvasWatchers: 0,
  strokesDrawn: 0,
  strokesVisible: 0,
  recording: false,
  prompts: [],
};

/** The chunk puts its module here (it is a classic script, not an ES module: works from any page). */
export const RTC_GLOBAL = '__tandemRtc1';
