import type { AckResult, AgentPresence } from './assist.js';
import type { ErrorCode } from './errors.js';

/**
 * Assist over WebRTC (DESIGN.md §3 Live, §7): calls, canvas video, remote control, annotations and
 * call recording. Everything here travels on the same `/assist` socket as live viewing; media flows
 * over simple-peer connections signalled with `rtc:signal`.
 *
 * Rules (ids cited by tests):
 * - R1 Every capability but viewing is asked of the user first (`assist:request` → prompt →
 *   `assist:answer`); nothing starts before the user accepts. 30 s without an answer is a `timeout`.
 * - R2 The server is the authority: it refuses a request without the capability (`forbidden`), a
 *   second control request while another agent holds control (`busy`, naming the holder), and any
 *   `control:input` / `annotate:stroke` from a socket that was not granted it. The plugin checks again.
 * - R3 One `AssistState` per session, sent to the tab(s) and every agent of the session on each change;
 *   UIs draw from it, never from their own guess.
 * - R4 Control belongs to one agent socket and survives the user's page reloading or navigating within
 *   the site (the tab comes back with the same tabId and finds the grant in `assist:state`). It ends
 *   when the holder leaves or disconnects, or the user or the holder ends it.
 * - R5 Peer ids are assigned by the server (`from` is never trusted from a client): a tab is
 *   `tab:<tabId>`, an agent socket `agent:<socketId>`. Agent↔tab peers are started by the tab;
 *   agent↔agent peers (group calls) by the peer whose id sorts first.
 */

/** Capabilities that need the user's consent (everything but `view`). */
export const ASSIST_FEATURES = ['call', 'control', 'annotate', 'record'] as const;
export type AssistFeature = (typeof ASSIST_FEATURES)[number];

/** `tab:<tabId>` or `agent:<socketId>` (R5). */
export type PeerId = string;
export const tabPeerId = (tabId: string): PeerId => `tab:${tabId}`;
export const agentPeerId = (socketId: string): PeerId => `agent:${socketId}`;

/** How long a request waits for the user before it is a `timeout` (R1). */
export const ASSIST_REQUEST_TIMEOUT_MS = 30_000;
/** Participants in one call, the user included: a full mesh is fine at this size (docs/webrtc.md). */
export const MAX_CALL_AGENTS = 4;

// ------------------------------------------------------------------------------------------ state

/** An agent taking part, with its socket's peer id (an agent may have several sockets). */
export interface AssistAgent extends AgentPresence {
  peerId: PeerId;
}

export interface PendingRequest {
  requestId: string;
  feature: AssistFeature;
  agent: AssistAgent;
  /** Server epoch ms when it times out. */
  expiresAt: number;
}

export interface CallState {
  /** The tab the user answered on: the user's side of the call lives there. */
  tabId: string;
  agents: AssistAgent[];
}

export interface RecordingState {
  recordingId: string;
  agent: AssistAgent;
  startedAt: number;
}

/** The whole assist state of one session (R3). */
export interface AssistState {
  sessionId: string;
  call: CallState | null;
  control: { agent: AssistAgent; tabId: string; since: number } | null;
  /** Agents the user let draw (control covers drawing: the holder is listed here too). */
  annotate: AssistAgent[];
  recording: RecordingState | null;
  pending: PendingRequest[];
}

export type AssistEndReason =
  | 'user_ended' // the user hung up, took control back or stopped the recording
  | 'agent_ended' // the agent ended it
  | 'agent_left' // the agent left the session or disconnected
  | 'session_gone'; // the user's tabs are gone

export type RequestOutcome = 'accepted' | 'declined' | 'timeout' | 'cancelled';

// ------------------------------------------------------------------------------------- signalling

/** simple-peer's `signal` payloads (opaque to the server beyond these checks). */
export type PeerSignal =
  | { type: 'offer' | 'answer' | 'pranswer' | 'rollback'; sdp: string }
  | { type: 'candidate'; candidate: { candidate: string; sdpMLineIndex?: number | null; sdpMid?: string | null; usernameFragment?: string | null } }
  | { type: 'renegotiate'; renegotiate: true }
  | { type: 'transceiverRequest'; transceiverRequest: { kind: 'audio' | 'video'; init?: Record<string, unknown> } };

export const MAX_SDP_BYTES = 64 * 1024;

/**
 * Which of a tab↔agent pair's peers a signal belongs to. The pair has up to two: the call's (no
 * channel: call media) and the canvases' (`canvas`: canvas video only). Kept apart so that a call
 * ending, which closes its peer (docs/decisions.md, repeated calls), never interrupts canvas video,
 * and so that canvas video never waits for a call's renegotiation. Agent↔agent peers have none.
 */
export const PEER_CHANNELS = ['canvas'] as const;
export type PeerChannel = (typeof PEER_CHANNELS)[number];

/** What a client sends: `to` is a peer of the same session. Agents name the session; a tab's is its token's. */
export interface SignalOut {
  sessionId?: string;
  to: PeerId;
  signal: PeerSignal;
  channel?: PeerChannel;
}
/** What a client receives: `from` is set by the server (R5); `channel` as sent. */
export interface SignalIn {
  sessionId: string;
  from: PeerId;
  signal: PeerSignal;
  channel?: PeerChannel;
}

/** ICE configuration handed out per session (`TANDEM_ICE_SERVERS`, TURN REST credentials). */
export interface RtcConfig {
  iceServers: { urls: string | string[]; username?: string; credential?: string }[];
}

// ------------------------------------------------------------------------------------------ canvas

/** One `<canvas>` of the user's page streamed as video: `nodeId` is its rrweb mirror id. */
export interface CanvasStreamInfo {
  nodeId: number;
  /** `MediaStream.id` of the stream carrying it on the tab↔agent peer. */
  streamId: string;
}

// ----------------------------------------------------------------------------------------- control

/**
 * Remote control input, in the user's viewport CSS pixels (the agent's replay has the user's viewport
 * size; the agent divides out its own scale). `nodeId` is the rrweb mirror id of the target: the
 * plugin maps by node id first and by coordinates only when the id is unknown.
 */
export type ControlInput =
  | { type: 'pointer'; x: number; y: number }
  | { type: 'click'; x: number; y: number; nodeId?: number; button?: 0 | 1 | 2 }
  | { type: 'dblclick'; x: number; y: number; nodeId?: number }
  | { type: 'mousedown' | 'mousemove' | 'mouseup'; x: number; y: number; nodeId?: number; button?: 0 | 1 | 2 }
  | { type: 'wheel'; x: number; y: number; dx: number; dy: number; nodeId?: number }
  | { type: 'scroll'; nodeId?: number; left: number; top: number }
  | { type: 'key'; key: string; code?: string; shift?: boolean; ctrl?: boolean; alt?: boolean; meta?: boolean }
  | { type: 'text'; text: string; nodeId?: number }
  | { type: 'select'; nodeId: number; value: string }
  | { type: 'navigate'; url: string };

export type ControlInputType = ControlInput['type'];
export const CONTROL_INPUT_TYPES: readonly ControlInputType[] = [
  'pointer', 'click', 'dblclick', 'mousedown', 'mousemove', 'mouseup', 'wheel', 'scroll', 'key', 'text', 'select', 'navigate',
];
/** Longest `text` input accepted in one message (a paste, not a document). */
export const MAX_CONTROL_TEXT = 10_000;

// -------------------------------------------------------------------------------------- annotation

/** A stroke in the user's viewport CSS pixels; sent in pieces while drawing (same `id`, more points). */
export interface AnnotationStroke {
  /** 1-64 characters of [A-Za-z0-9_-]: the server refuses anything else. */
  id: string;
  /** Flat [x0, y0, x1, y1, ...] of this piece. */
  points: number[];
  color: string;
  width: number;
  /** The pen was lifted: the stroke starts fading. */
  done: boolean;
}
export const MAX_STROKE_POINTS = 2_000;

// -------------------------------------------------------------------------------------- recordings

/** A call recording stored with its session (metadata in ClickHouse, media on disk). */
export interface CallRecording {
  recordingId: string;
  sessionId: string;
  agentId: string;
  agentName: string;
  /** Epoch ms when recording started (agent's clock corrected to the server's). */
  startedAt: number;
  durationMs: number;
  bytes: number;
  mimeType: string;
  /** False while chunks are still arriving. */
  complete: boolean;
}

export const RECORDING_ROUTES = {
  /** POST (agent, `record` granted): start a recording → `{recordingId}`; GET: list. */
  list: (sessionId: string) => `/api/v1/sessions/${encodeURIComponent(sessionId)}/recordings`,
  /** PUT body = webm bytes of chunk `index` (0, 1, 2, … in order). */
  chunk: (recordingId: string, index: number) => `/api/v1/recordings/${encodeURIComponent(recordingId)}/chunks/${index}`,
  /** POST `{durationMs}`: the recording ended. */
  finish: (recordingId: string) => `/api/v1/recordings/${encodeURIComponent(recordingId)}/finish`,
  /** GET the webm (Range supported); `?download=1` sets Content-Disposition. */
  media: (recordingId: string) => `/api/v1/recordings/${encodeURIComponent(recordingId)}/media`,
} as const;

/** Optional JSON body of the start POST. */
export interface StartRecordingRequest {
  /** When MediaRecorder started, on the server's clock (epoch ms); default: when the POST arrives. */
  startedAt?: number;
  /** MediaRecorder's mimeType (`video/webm;codecs=vp8,opus`); default `video/webm`. */
  mimeType?: string;
}

/** `GET RECORDING_ROUTES.list(sessionId)`: the session's recordings, oldest first. */
export interface RecordingListResponse {
  items: CallRecording[];
}

export interface StartRecordingResponse {
  recordingId: string;
  /** Largest chunk the server accepts, bytes. */
  maxChunkBytes: number;
}

// ------------------------------------------------------------------------------------- event maps

/** Sent when the server refuses a message that has no ack (R2). */
export interface AssistRefusal {
  sessionId?: string;
  event: string;
  code: ErrorCode;
  message: string;
}

/**
 * `assist:end`, the same shape from both sides (one type, so the merged socket.io maps agree):
 * an agent names `sessionId` (required) and ends its own share of `feature`; a tab's session is its
 * token's, and `agentPeerId` ends one agent's share only (absent: everyone's).
 */
export interface AssistEndRequest {
  sessionId?: string;
  feature: AssistFeature;
  agentPeerId?: PeerId;
}

/** tab → server */
export interface TabRtcToServerEvents {
  /** The user's answer to `assist:request`. */
  'assist:answer': (answer: { requestId: string; accepted: boolean }) => void;
  /** The user ends a feature: hang up, take control back, stop drawing or recording. */
  'assist:end': (req: AssistEndRequest) => void;
  'rtc:signal': (msg: SignalOut) => void;
  /** The canvases this tab streams now (replaces the previous list); relayed to its watchers. */
  'canvas:streams': (msg: { streams: CanvasStreamInfo[] }) => void;
}

/** server → tab */
export interface ServerToTabRtcEvents {
  /** Ask the user (prompt naming the agent). Answer with `assist:answer`. */
  'assist:request': (req: PendingRequest) => void;
  'assist:state': (state: AssistState) => void;
  /** ICE servers for this session; sent before the first peer is needed. */
  'rtc:config': (config: RtcConfig) => void;
  'rtc:signal': (msg: SignalIn) => void;
  /** From the agent holding control only (R2). */
  'control:input': (msg: { agentPeerId: PeerId; input: ControlInput }) => void;
  /** From an agent granted `annotate` only (R2). */
  'annotate:stroke': (msg: { agentPeerId: PeerId; stroke: AnnotationStroke }) => void;
  /** An agent wants the tab's canvases (it started watching, or lost its peer): stream them to it. */
  'canvas:want': (msg: { agentPeerId: PeerId }) => void;
  /**
   * An agent stopped watching this tab (it switched to another tab of the session): stop streaming
   * canvases to it. (Nobody watching at all is `live:stop`.)
   */
  'canvas:stop': (msg: { agentPeerId: PeerId }) => void;
  'assist:refused': (refusal: AssistRefusal) => void;
}

/** agent → server */
export interface AgentRtcToServerEvents {
  'assist:request': (
    req: { sessionId: string; feature: AssistFeature },
    ack: (result: AckResult<{ requestId: string }>) => void,
  ) => void;
  /** Withdraw a pending request, or end a feature this agent has (hang up, release control, stop drawing or recording). */
  'assist:end': (req: AssistEndRequest) => void;
  'rtc:signal': (msg: SignalOut) => void;
  'control:input': (msg: { sessionId: string; input: ControlInput }) => void;
  'annotate:stroke': (msg: { sessionId: string; stroke: AnnotationStroke }) => void;
  /**
   * Ask the watched tab for its canvases again (the agent lost its peer, or reloaded its view): the
   * server sends that tab `canvas:want`. Starting to watch a tab does this by itself.
   */
  'canvas:want': (msg: { sessionId: string }) => void;
}

/** server → agent */
export interface ServerToAgentRtcEvents {
  'assist:state': (state: AssistState) => void;
  /** What became of this agent's request. */
  'assist:result': (msg: { sessionId: string; requestId: string; feature: AssistFeature; outcome: RequestOutcome }) => void;
  /** A feature this agent had ended (someone else ended it, or its tab went away). */
  'assist:ended': (msg: { sessionId: string; feature: AssistFeature; reason: AssistEndReason }) => void;
  'rtc:config': (msg: { sessionId: string } & RtcConfig) => void;
  'rtc:signal': (msg: SignalIn) => void;
  /** The watched tab's canvas streams (stream id → rrweb node id). */
  'canvas:streams': (msg: { sessionId: string; tabId: string; streams: CanvasStreamInfo[] }) => void;
  'assist:refused': (refusal: AssistRefusal) => void;
}
