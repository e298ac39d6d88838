import type {
  CallRecording,
  CanvasRecording,
  ConsoleEntry,
  ErrorEntry,
  EventRangeQuery,
  Keyframe,
  TabTimeline,
  NetworkEntry,
  SessionDetail,
  SessionListResponse,
  SessionQuery,
  SessionStatsQuery,
  SessionStatsResponse,
  TandemEvent,
} from '@tandem/protocol';

/**
 * The smallest surface both ClickHouse drivers (embedded chDB, remote @clickhouse/client) provide.
 * Everything above it (migrations, writer, readers) is plain SQL shared by both drivers.
 * Params use ClickHouse server-side binding: `{name:Type}` in the SQL.
 */
export interface Driver {
  readonly kind: 'chdb' | 'remote';
  /** SELECT returning rows parsed from JSONEachRow. */
  query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>, opts?: QueryOptions): Promise<T[]>;
  /**
   * SELECT streamed as JSONEachRow lines (one row per string, no trailing newline).
   * `format: 'TabSeparatedRaw'` yields unescaped TSV lines instead (used to stream stored JSON verbatim).
   */
  queryLines(sql: string, params?: Record<string, unknown>, format?: LineFormat): AsyncIterable<string>;
  /** DDL or any statement without a result. */
  command(sql: string, params?: Record<string, unknown>): Promise<void>;
  /**
   * INSERT of rows (objects keyed by column name), durable when the promise resolves. Never deduplicated by its
   * content: each INSERT has an `insert_deduplication_token`, `opts.dedupToken` or else a random one (see
   * InsertOptions).
   */
  insert(table: string, rows: Record<string, unknown>[], opts?: InsertOptions): Promise<void>;
  close(): Promise<void>;
}

export interface InsertOptions {
  /**
   * ClickHouse's `insert_deduplication_token` for this INSERT: a table with a deduplication window (migration 21:
   * `sessions`, `session_search`, `session_facets`; every Replicated table on a cluster) drops an INSERT whose token
   * it has seen, and with a token never compares content. The writer gives each session delta INSERT a token it
   * keeps with the rows until the INSERT is known to have succeeded (writer-deltas.ts), so the same rows sent again
   * count once. Absent: a random token, so that two equal blocks (two writers' equal delta rows) both count: with no
   * token ClickHouse would drop the second by its content, and `insert_deduplicate = 0` does not stop it on
   * ClickHouse 26 (its `deduplicate_insert`, default `enable`, overrides it).
   */
  dedupToken?: string;
}

export type LineFormat = 'JSONEachRow' | 'TabSeparatedRaw';

/** A read for a page: aborted when the page's request is (its tab closed or navigated away). */
export interface ReadOptions {
  signal?: AbortSignal;
}

export interface QueryOptions {
  /**
   * A read nobody is waiting on to draw (a page's panels and timeline, asked after its first frame): the
   * embedded driver runs it only when no other call waits for a connection, so an open's reads pass it.
   * The remote driver ignores it (the server schedules its own queries).
   */
  background?: boolean;
  /** Aborted before the call got a connection (the page that asked was closed): it is not run, and rejects. */
  signal?: AbortSignal;
}

export interface ProjectRecord {
  id: string;
  name: string;
  /** Public key put in the snippet. */
  key: string;
  /** Origins allowed to post ingest requests; empty = any origin. */
  allowedOrigins: string[];
  createdAt: number;
  /** Users must accept before an agent sees their page (the assist plugin asks them). */
  requireConsent: boolean;
  /** Canvas recording level the start answer gives trackers. */
  canvasRecording: CanvasRecording;
}

/** What createProject takes: `requireConsent` defaults to false, `canvasRecording` to off. */
export type ProjectInput = Omit<ProjectRecord, 'requireConsent' | 'canvasRecording'> & {
  requireConsent?: boolean;
  canvasRecording?: CanvasRecording;
};

/**
 * An API key for the REST API (`Authorization: Bearer tk_...`). Only a hash of the secret is stored:
 * SHA-256 suits a random 256-bit secret (a slow KDF is for guessable passwords).
 */
export interface ApiKeyRecord {
  id: string;
  projectId: string;
  name: string;
  /** First characters of the secret, shown to recognise the key. */
  prefix: string;
  /** hex SHA-256 of the whole secret. */
  secretHash: string;
  createdAt: number;
  /** Agent id of the creator. */
  createdBy: string;
  /** Last time the key authenticated a request (recorded at most about once a minute), or null. */
  lastUsedAt: number | null;
  revoked: boolean;
}

/** What createApiKey takes: a new key is never used nor revoked. */
export type ApiKeyInput = Omit<ApiKeyRecord, 'lastUsedAt' | 'revoked'>;

export interface AgentRecord {
  id: string;
  projectId: string;
  email: string;
  name: string;
  role: 'admin' | 'agent';
  /** KDF hash string (scheme$params$salt$hash); never leaves the backend. */
  passwordHash: string;
  createdAt: number;
  disabled: boolean;
}

/** What the backend knows when a tab calls /ingest/v1/start. */
export interface SessionStart {
  projectId: string;
  sessionId: string;
  tabId: string;
  visitorId: string;
  userId: string;
  startedAt: number; // server time, epoch ms
  url: string;
  referrer: string;
  userAgent: string;
  screen: string; // "1280x720"
  language: string;
  timezone: string;
  ip: string;
}

/** One accepted batch, already validated and authenticated by the backend. */
export interface IngestBatch {
  projectId: string;
  sessionId: string;
  tabId: string;
  /** In any order (the writer sorts by seq). May repeat seqs already stored (retries): the writer drops those. */
  events: TandemEvent[];
}

/**
 * Bounds of streamEvents, all optional and inclusive (see EventRangeQuery in protocol for the HTTP
 * form). `fromSeq` with `tabId`, e.g. a keyframe's metaSeq so Meta + FullSnapshot come first, is a
 * primary-key range: cheap at any session length.
 */
export type EventStreamOptions = EventRangeQuery;

/** A keyframe plus the Meta event that precedes it (the protocol's Keyframe carries both now). */
export type StoredKeyframe = Keyframe;

export interface StoreOptions {
  /** Data retention in days for the TTL of every table (default 30). */
  retentionDays?: number;
  /**
   * Event JSON older than this is recompressed with ZSTD(19) at its next merge (migration 8; default 60
   * minutes). Inserts stay at ZSTD(3): ZSTD(19) compresses at a few MB/s, far below what ingest writes.
   * The bytes bench sets 0 to measure the at-rest size at once.
   */
  recompressAfterMinutes?: number;
  /** The writer flushes when this many events are pending (default 5,000) ... */
  maxPendingEvents?: number;
  /** ... or this long after the first pending one (default 50 ms): bounds ack latency. */
  maxDelayMs?: number;
  /**
   * writeBatch rejects with `unavailable` while more events than this wait for storage (default 200,000):
   * bounds memory when storage is slower than ingest; trackers retry with backoff.
   */
  maxQueuedEvents?: number;
  /** ClickHouse database holding the tables (default `tandem`); tests use a throwaway one. */
  database?: string;
  /**
   * A file where session counter rows that could not be written yet are kept (the backend's data dir), so a
   * process killed while holding them loses no count: the next start writes them. Absent: memory only.
   */
  carryFile?: string;
  /**
   * ClickHouse cluster name (`CLICKHOUSE_CLUSTER`, remote driver only): migrations create replicated
   * `<table>_local` tables and `Distributed` tables under the usual names, ON CLUSTER (see ddl.ts).
   */
  cluster?: string;
  /**
   * This process is the store's only writer (embedded chDB: its data directory is locked to one process;
   * openStore sets it). A flush then skips looking up which of its seqs another writer stored already:
   * there is none, and a restarted process starts each tab from its stored max(seq). Default false (a
   * shared ClickHouse: other backends may write the same tabs).
   */
  soleWriter?: boolean;
}

/** A call recording's metadata as stored (the media file lives in the backend's data dir). */
export interface StoredCallRecording extends CallRecording {
  projectId: string;
}

/** Counters of the writer, for metrics and for tests that check grouping. */
export interface WriterStats {
  /** writeBatch + startSession calls received. */
  calls: number;
  /** Flushes attempted (each writes every table with pending rows). */
  flushes: number;
  /** driver.insert calls made by the writer. */
  inserts: number;
  /** Flushes that failed (their calls were rejected). */
  failedFlushes: number;
  /** Events written (after dropping duplicates). */
  eventsWritten: number;
  /** Events dropped as already stored or already queued. */
  eventsDropped: number;
  /** Events written whose seq another writer had stored first (found at flush time): not counted again. */
  eventsAlreadyStored: number;
  /** Session delta rows whose INSERT failed after their events were stored, kept for a later flush. */
  deltaRowsCarried: number;
  /** Events written whose (tab, seq) another writer claimed first (`SeqClaimer`): not counted again. */
  eventsClaimedElsewhere: number;
  /** Claims that failed (the claimer threw): their events were counted as if no claimer were set. */
  seqClaimFailures: number;
}

/** A tab's seqs to claim, as ascending disjoint inclusive ranges `[lo, hi]`. */
export interface SeqClaim {
  projectId: string;
  sessionId: string;
  tabId: string;
  ranges: [number, number][];
}

/**
 * Claims (tab, seq) pairs for counting, atomically across every writer of the database (the backend's is
 * in Redis): resolves, per claim in order, with the ranges THIS call won; a seq claimed before by anyone is
 * not in them. Two writers storing the same seq at the same moment both pass the `events` lookup (each
 * looks before the other's INSERT lands); the claim makes exactly one of them count it.
 */
export type SeqClaimer = (claims: SeqClaim[]) => Promise<[number, number][][]>;

/**
 * Tandem's storage API. One implementation over any Driver; a contract test suite runs it on every driver.
 * Every read is scoped by projectId: nothing crosses projects.
 */
export interface Store {
  readonly driver: Driver;
  /** Applies numbered migrations not yet applied (idempotent). */
  migrate(): Promise<void>;
  /**
   * Runs `fn` while no other process on this database runs `exclusive` with the same name (a lock
   * table `<name>_lock`; a holder that died is taken over after a minute). For work several backends
   * starting together must do once, such as creating the default project.
   */
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T>;

  /** Creates or replaces (same id) a project. */
  createProject(project: ProjectInput): Promise<void>;
  getProjectByKey(key: string): Promise<ProjectRecord | null>;
  getProject(id: string): Promise<ProjectRecord | null>;
  listProjects(): Promise<ProjectRecord[]>;

  /** Creates or replaces (same id) an agent; a removed agent's id comes back to life this way. */
  createAgent(agent: AgentRecord): Promise<void>;
  /** The agent with this email (any case), removed agents excluded. */
  getAgentByEmail(email: string): Promise<AgentRecord | null>;
  /** Removed agents excluded (disabled ones are returned, with `disabled: true`). */
  getAgent(id: string): Promise<AgentRecord | null>;
  /** The project's agents (disabled included, removed excluded), oldest first. */
  listAgents(projectId: string): Promise<AgentRecord[]>;
  /** Sets `disabled`; false when the project has no such agent. */
  setAgentDisabled(projectId: string, agentId: string, disabled: boolean): Promise<boolean>;
  /** Removes the agent (its email becomes free); false when the project has no such agent. */
  removeAgent(projectId: string, agentId: string): Promise<boolean>;

  createApiKey(key: ApiKeyInput): Promise<void>;
  /** The project's keys that are not revoked, newest first. */
  listApiKeys(projectId: string): Promise<ApiKeyRecord[]>;
  /** Revokes the key; false when the project has no such (unrevoked) key. */
  revokeApiKey(projectId: string, keyId: string): Promise<boolean>;
  /** The unrevoked key with this secret hash, or null. */
  findApiKeyByHash(secretHash: string): Promise<ApiKeyRecord | null>;
  /** Records a use of the key (callers throttle this: it is one INSERT). */
  touchApiKey(projectId: string, keyId: string, at: number): Promise<void>;

  /** Records a tab (re)starting in a session; creates the session row if new. */
  startSession(start: SessionStart): Promise<void>;
  /** Highest seq durably stored for the tab, or -1. */
  getAckSeq(projectId: string, sessionId: string, tabId: string): Promise<number>;
  /**
   * Writes the batch's new events plus the rows derived from them (console, network, errors, page
   * visits, keyframes, session counters). Resolves with the tab's ackSeq once the rows are durable.
   * Many concurrent calls are grouped into one INSERT per table.
   */
  writeBatch(batch: IngestBatch): Promise<number>;

  listSessions(projectId: string, query: SessionQuery): Promise<SessionListResponse>;
  /** Sessions and errors per day over the same filters as listSessions (no paging). */
  sessionStats(projectId: string, query: SessionStatsQuery): Promise<SessionStatsResponse>;
  getSession(projectId: string, sessionId: string): Promise<SessionDetail | null>;
  /** The tabs' spans and the keyframes only (what a share link's window is planned from); empty lists for no such session. */
  getTabsAndKeyframes(projectId: string, sessionId: string): Promise<Pick<SessionDetail, 'tabs' | 'keyframes'>>;
  /** getSession's summary and pages, without the tabs and keyframes; null for no such session. */
  getSessionSummaryAndPages(projectId: string, sessionId: string): Promise<Omit<SessionDetail, 'tabs' | 'keyframes'> | null>;
  /** The visitor's most recently started session in the project, or null. */
  latestSessionOfVisitor(projectId: string, visitorId: string): Promise<string | null>;
  /** Events as their stored JSON strings (each with seq), ordered by (tabId, seq), deduplicated. */
  streamEvents(projectId: string, sessionId: string, opts?: EventStreamOptions): AsyncIterable<string>;
  /** The session's keyframes (one tab's when tabId is given), ordered by (ts, tabId, seq). */
  getKeyframes(projectId: string, sessionId: string, tabId?: string): Promise<Keyframe[]>;
  /**
   * One tab's clicks, custom events, identify calls and (thinned) input moments; empty lists for an unknown tab.
   * A background read (QueryOptions) in parts; `signal` aborted (the page gone) stops it between parts.
   */
  getTimeline(projectId: string, sessionId: string, tabId: string, opts?: ReadOptions): Promise<TabTimeline>;
  /** The panels: background reads (QueryOptions), not run when `signal` was aborted while they waited. */
  getConsole(projectId: string, sessionId: string, opts?: ReadOptions): Promise<ConsoleEntry[]>;
  getNetwork(projectId: string, sessionId: string, opts?: ReadOptions): Promise<NetworkEntry[]>;
  getErrors(projectId: string, sessionId: string, opts?: ReadOptions): Promise<ErrorEntry[]>;

  /** Writes a new version of a recording's metadata (created at start, rewritten by every chunk and finish). */
  saveCallRecording(recording: StoredCallRecording): Promise<void>;
  /** The newest version of one recording of the project, or null (unknown, other project, or expired). */
  getCallRecording(projectId: string, recordingId: string): Promise<StoredCallRecording | null>;
  /** A session's recordings, oldest first. */
  listCallRecordings(projectId: string, sessionId: string): Promise<StoredCallRecording[]>;

  /** Writes everything pending now. */
  flush(): Promise<void>;
  /**
   * Counts only the seqs this claimer grants (set by a clustered backend before it takes traffic; null:
   * the `events` lookup alone decides, enough for one writer). Optional for stand-in Stores.
   */
  setSeqClaimer?(claimer: SeqClaimer | null): void;
  /** Writer counters (optional so stand-in Stores need not provide them; createStore always does). */
  readonly stats?: WriterStats;
  /** Flushes, then closes the driver. */
  close(): Promise<void>;
}

/** What createStore/openStore return: a Store whose counters are always there. */
export interface TandemStore extends Store {
  readonly stats: WriterStats;
  setSeqClaimer(claimer: SeqClaimer | null): void;
}
