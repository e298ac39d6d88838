import { TandemError } from '@tandem/protocol';
import {
  addDelta, countersOf, deriveCounted, emptyDelta, emptyRows, sessionDeltaRow, type PendingRows, type Row, type SessionDelta,
  type SessionState, type TabState,
} from './derive.js';
import { pageKeyRows, urlKeyRows } from './search-keys.js';
import { attrsRow, attrsSignature } from './session-attrs.js';
import { createDeltaQueue } from './writer-deltas.js';
import { countedSeqs, createUncounter, type TabCount } from './writer-uncount.js';
import { applyStart, createStateLoader, newSession } from './state.js';
import type { Driver, IngestBatch, SeqClaimer, SessionStart, WriterStats } from './types.js';

/**
 * The batching writer. Many concurrent writeBatch/startSession calls land in one open *group*; a group
 * is written as one INSERT per table when it holds `maxPendingEvents` events or `maxDelayMs` after its
 * first call. Groups are written one at a time, in order, so a tab's ackSeq only moves forward and two
 * flushes never interleave. Each call resolves only after its group's INSERTs succeeded.
 *
 * Failure: the failed group and the one queued behind it are rejected, and all cached state is dropped
 * (counters and seqs were advanced optimistically when the calls were queued), to be reloaded from
 * storage on next touch. Trackers retry; the retried events are then still new and get written.
 * One exception: when only the session delta INSERT (the last one) fails, the group's events are stored,
 * so the group succeeds and its delta rows are carried to the next flush (see `writeDeltas`).
 *
 * Deferred deltas: with a carry file, a group's session delta rows are appended to it once its events are
 * stored, and the group is acknowledged then. When another group already waits, the rows wait too (up to
 * DEFER_MAX_MS) and go with a later flush's delta INSERT: under load one `sessions` INSERT (and its views)
 * per DEFER_MAX_MS instead of one per flush (docs/decisions.md, "s15-ingest"). When nothing waits, they are
 * written before the ack, so a quiet writer's acknowledged batch is counted in `sessions` at once.
 * Each delta INSERT has a deduplication token of its own, sealed with its rows in the carry file before it is
 * sent, so sending the same rows again never counts them twice (writer-deltas.ts).
 */

export interface WriterOptions {
  maxPendingEvents: number;
  maxDelayMs: number;
  maxQueuedEvents: number;
  /**
   * Where carried delta rows are kept while they wait (a small JSON file in the backend's data dir), so a
   * process killed while holding them loses no count: the next writer started with the same file writes
   * them. Absent: kept in memory only.
   */
  carryFile?: string;
  /** No other writer stores these tables (StoreOptions.soleWriter): nothing is looked up before a flush. */
  soleWriter?: boolean;
}

interface Group {
  rows: PendingRows;
  counted: Map<TabState, TabCount>;
  /** Sessions touched by this group, with what the group adds to each. */
  sessions: Map<SessionState, SessionDelta>;
  /** Highest seq per tab in this group. */
  tabs: Map<TabState, number>;
  eventCount: number;
  ready: boolean;
  timer: ReturnType<typeof setTimeout> | null;
  done: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function newGroup(): Group {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  done.catch(() => {}); // callers see the rejection; this only stops an unawaited one from crashing Node
  return { rows: emptyRows(), counted: new Map(), sessions: new Map(), tabs: new Map(), eventCount: 0, ready: false, timer: null, done, resolve, reject };
}

const isEmpty = (g: Group) => g.sessions.size === 0 && g.tabs.size === 0;

/** Tabs and sessions idle this long leave the cache (trackers start a new session after 30 min idle). */
const IDLE_EVICT_MS = 30 * 60_000;
const SWEEP_EVERY_MS = 60_000;
/**
 * A failed session delta INSERT is tried again within its flush (a blip: a merge, a busy server: writer-deltas.ts),
 * then its rows wait for the next flush, which is scheduled after CARRY_RETRY_MS, doubling up to
 * CARRY_RETRY_MAX_MS while it keeps failing (ClickHouse down for minutes must not be hammered).
 */
const CARRY_RETRY_MS = 1_000;
/** Deferred delta rows are written at least this often while groups keep coming (see above). */
const DEFER_MAX_MS = 1_000;
const CARRY_RETRY_MAX_MS = 30_000;

export function createWriter(driver: Driver, db: string, opts: WriterOptions) {
  const stats: WriterStats = {
    calls: 0, flushes: 0, inserts: 0, failedFlushes: 0, eventsWritten: 0, eventsDropped: 0, eventsAlreadyStored: 0, deltaRowsCarried: 0,
    eventsClaimedElsewhere: 0, seqClaimFailures: 0,
  };
  /** Set by a clustered backend (Redis): see `uncountClaimedElsewhere`. */
  let claimer: SeqClaimer | null = null;
  const tabs = new Map<string, Promise<TabState>>();
  const sessions = new Map<string, Promise<SessionState>>();
  let open = newGroup();
  let inFlight: Group | null = null;
  /** The in-flight group's whole write, its deltas included (it may be acknowledged before them). */
  let inFlightWrite: Promise<void> = Promise.resolve();
  /** When the oldest deferred delta row was deferred (0: none is). */
  let deferredSince = 0;
  let lastVersion = 0;
  let lastSweep = Date.now();
  /**
   * Session delta rows whose events are stored and that no INSERT took yet (deferred, refused, or left by a process
   * that died). They are counts nobody else holds (a re-sent batch finds its events stored and counts nothing:
   * `uncountStored`), so they go with the next delta INSERT.
   */
  const deltas = createDeltaQueue(opts.carryFile, stats);
  let carryDelay = CARRY_RETRY_MS;
  let carryTimer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  const load = createStateLoader(driver, db);
  const { uncountStored, uncountClaimedElsewhere } = createUncounter(driver, db, stats);
  /**
   * What `session_attrs` holds for each cached session (attrsSignature), so a row is written on a session's
   * first flush and again only when an attribute changes (session-attrs.ts). A session loaded from storage
   * has its row already (written by its first writer, or by migration 10's backfill).
   */
  const attrsWritten = new WeakMap<SessionState, string>();

  const sessionKey = (p: string, s: string) => `${p}\u0000${s}`;
  const tabKey = (p: string, s: string, t: string) => `${p}\u0000${s}\u0000${t}`;

  function tabState(p: string, s: string, t: string): Promise<TabState> {
    const key = tabKey(p, s, t);
    let state = tabs.get(key);
    if (!state) {
      state = load.tab(p, s, t);
      tabs.set(key, state);
      const loading = state;
      loading.catch(() => tabs.get(key) === loading && tabs.delete(key));
    }
    return state;
  }

  /** The cached session, loaded on first touch; created in memory (stored by the next flush) when unknown. */
  function sessionState(p: string, s: string, startedAt: number): Promise<SessionState> {
    const key = sessionKey(p, s);
    let state = sessions.get(key);
    if (!state) {
      // Created inside the shared promise so concurrent first touches get the same object.
      state = load.session(p, s).then((found) => {
        if (found) attrsWritten.set(found, attrsSignature(found));
        return found ?? newSession(p, s, startedAt);
      });
      sessions.set(key, state);
      const loading = state;
      loading.catch(() => sessions.get(key) === loading && sessions.delete(key));
    }
    return state;
  }

  function deltaOf(g: Group, session: SessionState): SessionDelta {
    let d = g.sessions.get(session);
    if (!d) g.sessions.set(session, (d = emptyDelta()));
    return d;
  }

  function queued(): number {
    return open.eventCount + (inFlight?.eventCount ?? 0);
  }

  function schedule(g: Group): void {
    if (g.eventCount >= opts.maxPendingEvents) requestFlush();
    else if (!g.timer) g.timer = setTimeout(requestFlush, opts.maxDelayMs);
  }

  function requestFlush(): void {
    open.ready = true;
    if (!inFlight) void runFlushes();
  }

  async function runFlushes(): Promise<void> {
    while (!inFlight && open.ready && (!isEmpty(open) || deltas.pending() > 0)) {
      const g = open;
      open = newGroup();
      if (g.timer) clearTimeout(g.timer);
      inFlight = g;
      try {
        await (inFlightWrite = writeGroup(g));
      } finally {
        inFlight = null;
      }
      sweep();
    }
    if (isEmpty(open)) open.ready = false;
  }

  async function writeGroup(g: Group): Promise<void> {
    stats.flushes++;
    // Session rows are built now, before any await: they must show exactly this group's events. They are
    // deltas: ClickHouse sums them with every other writer's (migration 6), nothing here holds a total.
    const now = Date.now();
    const attrs: { session: SessionState; signature: string; row: Row }[] = [];
    const sessionRows = new Map([...g.sessions].map(([s, delta]) => {
      lastVersion = Math.max(lastVersion + 1, now * 1000);
      const signature = attrsSignature(s);
      if (attrsWritten.get(s) !== signature) attrs.push({ session: s, signature, row: attrsRow(s, lastVersion, now) });
      return [s, sessionDeltaRow(s, delta, lastVersion, now)] as const;
    }));
    const insert = (table: string, rows: Row[]) => {
      if (rows.length === 0) return Promise.resolve();
      stats.inserts++;
      return driver.insert(`${db}.${table}`, rows);
    };
    let unstored: Map<TabState, number[]>;
    try {
      // Order matters when one INSERT fails. Derived rows first, then events: ackSeq (here, and after a
      // restart from max(seq) in `events`) never covers an event whose derived rows are missing; a retry
      // re-derives them and the copies collapse on (tab_id, seq). Session deltas last: they must not count
      // events that were not stored (a failure before them loses no count: the retry re-derives it).
      const { events, ...derived } = g.rows;
      // The landing URL's list key with the session's attributes (search-keys.ts): a start URL need not be a page visit.
      derived.page_keys = [...derived.page_keys, ...attrs.flatMap((a) => pageKeyRows(a.session.projectId, a.session.sessionId, a.session.startedAt, [a.session.firstUrl]))];
      derived.url_keys = [...derived.url_keys, ...attrs.flatMap((a) => urlKeyRows(a.session.projectId, a.session.sessionId, a.session.startedAt, a.session.firstUrl, 0))];
      // Only another writer can have stored a seq above a tab's ackSeq (a sole writer drops those at queueing).
      unstored = opts.soleWriter ? countedSeqs(g.counted) : await uncountStored(g.counted, sessionRows);
      // session_attrs with the derived rows, before the delta: were it lost after the delta was stored, a
      // reload would find the session and never write it (a second copy collapses on the same key and version).
      await Promise.all([...Object.entries(derived), ['session_attrs', attrs.map((a) => a.row)] as const].map(([table, rows]) => insert(table, rows)));
      await insert('events', events);
    } catch (err) {
      stats.failedFlushes++;
      const next = open;
      open = newGroup();
      if (next.timer) clearTimeout(next.timer);
      tabs.clear();
      sessions.clear();
      g.reject(err);
      next.reject(err);
      // Deferred rows of earlier groups (their events stored) still wait: a flush of their own.
      if (deltas.pending() > 0) scheduleCarried();
      return;
    }
    await uncountClaimedElsewhere(g.counted, sessionRows, unstored, claimer);
    const rows = [...sessionRows.values()];
    // In the file before the ack: a process killed from here on leaves them to its successor.
    const kept = deltas.keep(rows);
    deltas.add(rows);
    const acknowledge = () => {
      for (const a of attrs) attrsWritten.set(a.session, a.signature);
      for (const [tab, maxSeq] of g.tabs) {
        if (maxSeq > tab.ackSeq) tab.ackSeq = maxSeq;
        if (tab.pending === g.done) tab.pending = null;
      }
      stats.eventsWritten += g.eventCount;
      g.resolve();
    };
    // Acknowledged before the delta INSERT only when the rows are in the file and another group waits.
    const early = kept && !isEmpty(open) && !stopped;
    if (early) {
      acknowledge();
      if (deferredSince === 0) deferredSince = now;
      if (now - deferredSince < DEFER_MAX_MS) return;
    }
    deferredSince = 0;
    await writeDeltas();
    if (!early) acknowledge();
  }

  /**
   * The session delta rows, once every other row of their groups is stored. Rows still unwritten after a few
   * tries wait for a flush scheduled for them. The group does not fail: its events are stored, and failing it
   * would make the tracker re-send a batch that then counts nothing.
   */
  async function writeDeltas(): Promise<void> {
    const done = await deltas.write((rows, token) => {
      stats.inserts++;
      return driver.insert(`${db}.sessions`, rows, { dedupToken: token });
    });
    if (done) carryDelay = CARRY_RETRY_MS;
    else scheduleCarried();
  }

  function scheduleCarried(): void {
    if (!carryTimer && !stopped) {
      carryTimer = setTimeout(() => ((carryTimer = null), requestFlush()), carryDelay);
      carryTimer.unref?.();
      carryDelay = Math.min(carryDelay * 2, CARRY_RETRY_MAX_MS);
    }
  }

  /** Drops idle state so memory follows the live sessions, not every session since start. */
  function sweep(): void {
    const now = Date.now();
    if (now - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = now;
    const limit = now - IDLE_EVICT_MS;
    const openTabs = new Set([...open.tabs.keys()].map((t) => tabKey(t.projectId, t.sessionId, t.tabId)));
    const openSessions = new Set([...open.sessions.keys()].map((s) => sessionKey(s.projectId, s.sessionId)));
    for (const [key, p] of tabs) {
      void p.then((t) => {
        if (t.touchedAt < limit && !t.pending && !openTabs.has(key) && tabs.get(key) === p) tabs.delete(key);
      }, () => {});
    }
    for (const [key, p] of sessions) {
      void p.then((s) => {
        if (s.touchedAt < limit && !openSessions.has(key) && sessions.get(key) === p) sessions.delete(key);
      }, () => {});
    }
  }

  async function writeBatch(batch: IngestBatch): Promise<number> {
    stats.calls++;
    const { projectId, sessionId, tabId } = batch;
    let events = batch.events.filter((e) => Number.isInteger(e.seq) && e.seq >= 0 && e.seq <= 0xffffffff);
    if (!events.every((e, i) => i === 0 || e.seq >= events[i - 1].seq)) events = [...events].sort((a, b) => a.seq - b.seq);
    for (;;) {
      const firstTs = Number(events[0]?.timestamp) || Date.now();
      const tabLoad = tabState(projectId, sessionId, tabId);
      const sessionLoad = sessionState(projectId, sessionId, firstTs);
      const [tab, session] = await Promise.all([tabLoad, sessionLoad]);
      // Dropped (failed flush) or evicted while we waited: use the state the cache holds now.
      if (tabs.get(tabKey(projectId, sessionId, tabId)) !== tabLoad || sessions.get(sessionKey(projectId, sessionId)) !== sessionLoad) continue;
      // From here to the enqueue there is no await, so no other call can interleave.
      const fresh = [];
      let last = tab.queuedSeq;
      for (const e of events) if (e.seq > last) (fresh.push(e), (last = e.seq));
      stats.eventsDropped += events.length - fresh.length;
      tab.touchedAt = session.touchedAt = Date.now();
      if (fresh.length === 0) {
        // All already stored or queued: ack once whatever holds them is durable (or reject with it).
        if (tab.pending) await tab.pending;
        return tab.ackSeq;
      }
      if (queued() + fresh.length > opts.maxQueuedEvents) {
        throw new TandemError('unavailable', `storage is behind: ${queued()} events waiting`);
      }
      const g = open;
      if (!session.tabIds.includes(tabId)) session.tabIds.push(tabId);
      const before = countersOf(session);
      let count = g.counted.get(tab);
      if (!count) g.counted.set(tab, (count = { session, seqs: [], extras: new Map() }));
      deriveCounted(fresh, tab, session, g.rows, count.extras);
      for (const e of fresh) count.seqs.push(e.seq);
      addDelta(deltaOf(g, session), session, before);
      tab.queuedSeq = last;
      tab.pending = g.done;
      g.tabs.set(tab, last);
      g.eventCount += fresh.length;
      schedule(g);
      await g.done;
      return tab.ackSeq;
    }
  }

  async function startSession(start: SessionStart): Promise<void> {
    stats.calls++;
    for (;;) {
      const sessionLoad = sessionState(start.projectId, start.sessionId, start.startedAt);
      const session = await sessionLoad;
      if (sessions.get(sessionKey(start.projectId, start.sessionId)) !== sessionLoad) continue;
      applyStart(session, start);
      session.touchedAt = Date.now();
      const g = open;
      const delta = deltaOf(g, session);
      if (start.userId) delta.userIdSet = true;
      schedule(g);
      return g.done;
    }
  }

  async function getAckSeq(projectId: string, sessionId: string, tabId: string): Promise<number> {
    return (await tabState(projectId, sessionId, tabId)).ackSeq;
  }

  /** Writes everything queued now; rejects if one of those writes failed (carried delta rows included). */
  async function flush(): Promise<void> {
    let carriedTried = false;
    for (;;) {
      if (!isEmpty(open) || (deltas.pending() > 0 && !inFlight && !carriedTried)) {
        carriedTried ||= isEmpty(open);
        const g = open;
        requestFlush();
        await g.done;
      } else if (inFlight) {
        // Its whole write: a group can be acknowledged before its delta rows are stored.
        await Promise.all([inFlight.done, inFlightWrite]);
      } else if (deltas.pending() > 0) {
        throw new TandemError('unavailable', `${deltas.pending()} session counter rows could not be written`);
      } else {
        return;
      }
    }
  }

  /** The store is closing: no flush of carried rows is scheduled on its closed driver any more. */
  function stop(): void {
    if (carryTimer) clearTimeout(carryTimer);
    carryTimer = null;
    stopped = true;
  }

  const setSeqClaimer = (c: SeqClaimer | null) => void (claimer = c);
  // Rows a killed process left in the carry file go with the first flush after start (migrations run first: a
  // failure before then is retried like any carried flush).
  if (deltas.pending() > 0) scheduleCarried();
  return { writeBatch, startSession, getAckSeq, flush, stop, setSeqClaimer, stats };
}

export type Writer = ReturnType<typeof createWriter>;
