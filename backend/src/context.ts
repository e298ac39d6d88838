import type { Logger } from 'pino';
import type { LiveSession, RecordingState } from '@tandem/protocol';
import type { ProjectRecord, Store } from '@tandem/storage';
import type { ServerConfig } from './config.js';
import type { TokenSigner } from './auth/tokens.js';
import type { Metrics } from './metrics.js';
import type { Uploader } from './recordings/uploads.js';
import type { AssetProxy } from './assets/proxy.js';
import type { AssetLinkSigner } from './assets/signing.js';
import type { AgentRecords } from './live/agent-records.js';

/** Everything a route needs, built once at start-up. */
export interface AppContext {
  config: ServerConfig;
  log: Logger;
  store: Store;
  signer: TokenSigner;
  metrics: Metrics;
  /**
   * Per-address and per-tab budgets. On a cluster `start` and `login` are one budget for all nodes (Redis,
   * live/state): a client must not get N times the sign-in attempts by being balanced over N nodes.
   */
  limits: { start: Limiter; batch: Limiter; login: Limiter };
  projects: ProjectCache;
  /** The replay asset proxy and the signer of its links. */
  assets?: { proxy: AssetProxy; signer: AssetLinkSigner };
  /** Live rooms (set once socket.io is attached): what HTTP routes need to know about them. */
  live?: LiveDirectory;
  /** Assist grants HTTP routes check (call recordings). */
  assist?: AssistDirectory;
  /**
   * The agent records every sign-in check reads (live/agent-records.ts; set with `live`): each dashboard
   * request checked its cookie's agent with a chDB query, and an open's /auth/me and /open both waited on
   * one. Without it, requests read storage.
   */
  agents?: Pick<AgentRecords, 'get'>;
}

/** A token bucket by key: in memory (RateLimiter), or shared by the nodes (live/state SharedLimiter). */
export interface Limiter {
  take(key: string): boolean | Promise<boolean>;
}

/** What the recording routes may know and do about live assist grants (on a cluster, asked of the session's home). */
export interface AssistDirectory {
  /** The session's live recording grant if it is this agent's, else null. */
  recordingGrant(projectId: string, sessionId: string, agent: { id: string; via: 'login' | 'watch-link' }): RecordingState | null | Promise<RecordingState | null>;
  /** The granted recording got its id (the agent started uploading): everyone's `assist:state` shows it. */
  recordingStarted(projectId: string, sessionId: string, recordingId: string): void | Promise<void>;
  /** Called with the id of a started recording whose grant ended (stopped, hung up, agent gone, session gone). */
  onRecordingEnded(listener: (recordingId: string) => void): void;
  /**
   * Cluster only: a chunk or finish for an upload another node holds is answered by that node (its answer,
   * or its TandemError); null when no other live node holds it (handle it here).
   */
  forwardRecording?(recordingId: string, call: RecordingCall): Promise<unknown>;
  /** Cluster only: how this node answers the chunks and finishes other nodes forward to it. */
  serveRecordings?(handler: (call: RecordingCall) => Promise<unknown>): void;
}

/** A recording request forwarded to the node holding the upload (JSON over the cluster bus: the body is base64). */
export type RecordingCall =
  | { op: 'chunk'; uploader: Uploader; recordingId: string; index: number; body: string }
  | { op: 'finish'; uploader: Uploader; recordingId: string; durationMs: number };

/** Read-only view of the live rooms for HTTP routes (watch links, `/api/v1/live`). */
export interface LiveDirectory {
  /** The live session a visitor is in now (their most recently connected one, on any node), if any. */
  sessionOfVisitor(projectId: string, visitorId: string): Promise<string | undefined>;
  isLive(projectId: string, sessionId: string): Promise<boolean>;
  /** The project's live sessions now, on every node. */
  list(projectId: string): Promise<LiveSession[]>;
  /** For /readyz: Redis (`off` without TANDEM_REDIS_URL) and whether this node is draining. */
  status(): Promise<{ redis: 'ok' | 'down' | 'off'; draining: boolean; node: string }>;
  /** Drops everything cached about a project (settings changed, e.g. requireConsent). */
  projectChanged(projectId: string): void;
  /** An agent was removed: their open live sockets close now, not at the next periodic re-check. */
  agentRemoved(projectId: string, agentId: string): void;
}

/** Project lookups by key happen on every start; they change rarely, so keep them for a short while. */
export class ProjectCache {
  private readonly byKey = new Map<string, { project: ProjectRecord | null; until: number }>();
  private readonly byId = new Map<string, { project: ProjectRecord | null; until: number }>();
  // 30 s: a new allowed-origin setting takes effect within half a minute without a restart.
  private static readonly TTL_MS = 30_000;
  private generation = 0;

  constructor(private readonly store: Store) {}

  async byProjectKey(key: string): Promise<ProjectRecord | null> {
    return this.cached(this.byKey, key, () => this.store.getProjectByKey(key));
  }

  async byProjectId(id: string): Promise<ProjectRecord | null> {
    return this.cached(this.byId, id, () => this.store.getProject(id));
  }

  /** Forgets a project (its settings changed): the next lookup by id or key reads storage. */
  invalidate(projectId: string): void {
    this.generation++;
    this.byId.delete(projectId);
    for (const [key, hit] of this.byKey) if (hit.project?.id === projectId) this.byKey.delete(key);
  }

  private async cached(map: Map<string, { project: ProjectRecord | null; until: number }>, k: string, load: () => Promise<ProjectRecord | null>) {
    const hit = map.get(k);
    if (hit && hit.until > Date.now()) return hit.project;
    const generation = this.generation;
    const project = await load();
    // A change landed while this read was in flight: the answer may predate it, so do not keep it.
    if (generation !== this.generation) return project;
    if (map.size > 10_000) map.clear(); // unknown keys from scanners must not grow this forever
    map.set(k, { project, until: Date.now() + ProjectCache.TTL_MS });
    return project;
  }
}
