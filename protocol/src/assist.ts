import type { ErrorCode } from './errors.js';
import type { TandemEvent } from './events.js';
import type { AgentRtcToServerEvents, ServerToAgentRtcEvents, ServerToTabRtcEvents, TabRtcToServerEvents } from './signal.js';

/**
 * Live assist over socket.io, namespace `/assist` (DESIGN.md §3 Live, §7).
 *
 * Two kinds of sockets connect to the namespace:
 * - a **tab** socket per open tab of a recorded page (the assist plugin), authenticated with the
 *   session token from `/ingest/v1/start`;
 * - an **agent** socket per dashboard page (or watch link), authenticated with the agent's login
 *   cookie (whole project) or a watch-link token (one session, limited capabilities).
 *
 * Nothing but the tab's page info flows from a tab until an agent watches it. When the first agent
 * watches a tab, the server sends it `live:start`; the plugin taps the tracker's bus, takes a full
 * snapshot and forwards every event (each with its per-tab `seq`) until `live:stop`.
 */
export const ASSIST_NAMESPACE = '/assist';
/** socket.io's default path; listed so the tracker ignores its own traffic in network capture. */
export const ASSIST_SOCKET_PATH = '/socket.io';

export const CAPABILITIES = ['view', 'annotate', 'call', 'control', 'record'] as const;
export type Capability = (typeof CAPABILITIES)[number];

// ---------------------------------------------------------------------------------------- handshake

/** What the tab's page looks like now: drives the live list ("current page") and the tab picker. */
export interface TabPage {
  url: string;
  title: string;
  /** document.visibilityState === 'visible' */
  visible: boolean;
  /** document.hasFocus() */
  focused: boolean;
  /** Set by `identify`; shown in the live list. */
  userId?: string;
}

/** `io(url + '/assist', { auth })` of the assist plugin. */
export interface TabHandshake {
  role: 'tab';
  v: number;
  /** Session token from `/ingest/v1/start` (names project, session, tab, visitor). */
  token: string;
  /**
   * True when this tab was connected before (socket reconnect, page reload in the same tab, server
   * restart). A resuming tab with a valid token skips the new-connection rate limit.
   */
  resume: boolean;
  page: TabPage;
}

/** `io(url + '/assist', { auth, withCredentials })` of the dashboard; the login cookie rides along. */
export interface AgentHandshake {
  role: 'agent';
  v: number;
  /** A watch-link token: limits this socket to that session and its capabilities. Absent: login cookie. */
  watchToken?: string;
  /**
   * Join this session as soon as the socket is accepted, as `live:join` would (the answer comes as
   * `live:joined`): a live view opened in a new tab then joins without waiting for its page's main
   * thread to handle the connect. Sent on the first connection only (a reconnect joins by `live:join`).
   */
  join?: { sessionId: string; tabId?: string };
}

export type AssistHandshake = TabHandshake | AgentHandshake;

/** `connect_error` data when the server refuses a handshake: `err.message` is the code. */
export interface AssistConnectError {
  code: ErrorCode;
  message: string;
}

// ------------------------------------------------------------------------------------- live shapes

export interface AgentPresence {
  /** Agent id (login) or the watch link's `agent.id`. */
  id: string;
  name: string;
  /** How this agent joined. */
  via: 'login' | 'watch-link';
}

export interface LiveTab extends TabPage {
  tabId: string;
  connectedAt: number; // server epoch ms
  /** serverClock - userClock in ms, measured by `clock:ping` round trips (0 until measured). */
  clockOffsetMs: number;
  /** Agents watching this tab now (their ids). */
  watchers: string[];
}

export interface LiveSession {
  sessionId: string;
  visitorId: string;
  userId: string;
  /** When the session started (stored session row), else when its first tab connected. */
  startedAt: number;
  /** The tab the user is on: focused, else visible, else the most recently active. */
  activeTabId: string;
  tabs: LiveTab[];
  agents: AgentPresence[];
  browser: string;
  os: string;
  /** True while the project requires consent and the user has not accepted yet. */
  awaitingConsent: boolean;
}

/** Events of one tab, in seq order; consecutive within a forwarding run (starts at a Meta event). */
export interface LiveBatch {
  events: TandemEvent[];
}

export interface LiveEventsMessage extends LiveBatch {
  sessionId: string;
  tabId: string;
}

export type LiveEndReason =
  | 'user_stopped' // the user pressed "stop" on the banner
  | 'consent_declined' // the user said no to being watched
  | 'session_gone' // every tab closed and did not come back within the grace period
  | 'link_expired'; // the watch link expired while watching

export type ResyncReason = 'gap' | 'behind' | 'manual' | 'tab_switch';

export type AckResult<T> = ({ ok: true } & T) | { ok: false; error: { code: ErrorCode; message: string } };

export interface JoinResult {
  session: LiveSession;
  /** The tab now being streamed to this agent. */
  tabId: string;
  capabilities: Capability[];
  serverTime: number;
}

// ------------------------------------------------------------------------------------ event maps

/** tab → server (WebRTC, control, annotation and recording messages: signal.ts) */
export interface TabToServerEvents extends TabRtcToServerEvents {
  'tab:page': (page: TabPage) => void;
  'live:events': (batch: LiveBatch) => void;
  /** The user ended watching from the banner: every agent leaves the session. */
  'user:stop': () => void;
  /**
   * The tab leaves live assist on purpose (the site stopped the tracker): it is gone now, without the
   * grace period a dropped connection gets. Sent just before the socket closes.
   */
  'tab:leave': () => void;
  'consent:answer': (answer: { accepted: boolean }) => void;
  /** Round trip to the server's clock: `offset = serverTime - (sentAt + receivedAt) / 2`. */
  'clock:ping': (clientTime: number, ack: (serverTime: number) => void) => void;
  /** The tab's measured offset (serverClock - userClock, best of a few pings); agents use it for skew. */
  'clock:offset': (m: { offsetMs: number; rttMs: number }) => void;
}

/** server → tab */
export interface ServerToTabEvents extends ServerToTabRtcEvents {
  /** Start forwarding (if not yet) and take a fresh full snapshot now. */
  'live:start': (info: { reason: 'join' | ResyncReason }) => void;
  /** Nobody watches this tab any more: stop forwarding. */
  'live:stop': () => void;
  /** Agents in the session now (banner); empty means the banner goes away. */
  agents: (agents: AgentPresence[]) => void;
  /** The project requires consent: ask the user whether these agents may watch. */
  'consent:request': (info: { agents: AgentPresence[] }) => void;
}

/** agent → server */
export interface AgentToServerEvents extends AgentRtcToServerEvents {
  /** Login agents only: join the project's live list; the ack has the list now, `live:list` follows changes. */
  'live:list:subscribe': (ack: (result: AckResult<{ sessions: LiveSession[] }>) => void) => void;
  'live:list:unsubscribe': () => void;
  /** Join a session (and watch `tabId`, or its active tab). Joining several sessions at once is fine (grid). */
  'live:join': (req: { sessionId: string; tabId?: string }, ack: (result: AckResult<JoinResult>) => void) => void;
  /** Switch the watched tab within a joined session. */
  'live:watch-tab': (req: { sessionId: string; tabId: string }, ack: (result: AckResult<{ tabId: string }>) => void) => void;
  /** Ask the watched tab for a fresh full snapshot (gap detected, fell behind, or asked for). */
  'live:resync': (req: { sessionId: string; tabId: string; reason: ResyncReason }) => void;
  'live:leave': (req: { sessionId: string }) => void;
  'clock:ping': (agentTime: number, ack: (serverTime: number) => void) => void;
}

/** server → agent */
export interface ServerToAgentEvents extends ServerToAgentRtcEvents {
  'live:list': (sessions: LiveSession[]) => void;
  /** A joined session changed: tabs, pages, active tab, agents, clock offsets. */
  'live:session': (session: LiveSession) => void;
  'live:events': (msg: LiveEventsMessage) => void;
  'live:ended': (info: { sessionId: string; reason: LiveEndReason }) => void;
  /** The answer to the handshake's `join` (AgentHandshake), as `live:join`'s ack would be. */
  'live:joined': (msg: { sessionId: string; result: AckResult<JoinResult> }) => void;
}

export type ClientToServerEvents = TabToServerEvents & AgentToServerEvents;
export type ServerToClientEvents = ServerToTabEvents & ServerToAgentEvents;

// ----------------------------------------------------------------------------------- watch links

export interface WatchLinkAgent {
  id: string;
  name: string;
}

export interface WatchLinkBranding {
  /** Shown in the watch view's header instead of "Tandem". */
  name?: string;
  /** CSS color of the header accent, e.g. `#0a7` (validated as a hex color). */
  color?: string;
}

/** `POST /api/v1/visitors/:visitorId/watch_url` body (API key auth). */
export interface WatchUrlRequest {
  agent: WatchLinkAgent;
  /** Default `['view']`. */
  capabilities?: Capability[];
  /** Default 3600, at most 7 days. */
  ttlSeconds?: number;
  branding?: WatchLinkBranding;
}

export interface WatchUrlResponse {
  /** `<origin>/watch/<token>`: the live view without a login. */
  watch_url: string;
  /** `<origin>/embed/<token>`: the same view without dashboard chrome, for an iframe. */
  embed_url: string;
  sessionId: string;
  expiresAt: number;
}

/** Claims inside a watch-link token (HS256, audience `watch`). */
export interface WatchTokenClaims {
  /** project id */
  pid: string;
  /** session id */
  sid: string;
  /** visitor id */
  vid: string;
  agent: WatchLinkAgent;
  caps: Capability[];
  branding?: WatchLinkBranding;
}

/** `GET /api/v1/watch` with `Authorization: Bearer <watch token>`: what the watch view needs to start. */
export interface WatchInfo {
  sessionId: string;
  agent: WatchLinkAgent;
  capabilities: Capability[];
  branding?: WatchLinkBranding;
  expiresAt: number;
}

export const ASSIST_ROUTES = {
  live: '/api/v1/live',
  watchUrl: (visitorId: string) => `/api/v1/visitors/${encodeURIComponent(visitorId)}/watch_url`,
  /** Tracker's own link (session token, like a batch): `Tandem('getWatchLink', cb)`. */
  trackerWatchUrl: '/ingest/v1/watch_url',
  watchInfo: '/api/v1/watch',
  watchPage: (token: string) => `/watch/${token}`,
  embedPage: (token: string) => `/embed/${token}`,
} as const;
