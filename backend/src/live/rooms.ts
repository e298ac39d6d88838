import type { AgentPresence, LiveSession, LiveTab, TabPage } from '@tandem/protocol';
import type { AgentIdentity, AgentPeer, TabPeer } from './types.js';
import type { Throttle } from './throttle.js';

/**
 * The live rooms' data: project → session → tabs + agents, all in memory (DESIGN.md §7: the backend
 * is stateless apart from live rooms). Only plain state and read-only views live here; what changes
 * it is in registry.ts.
 */

/**
 * Where one agent is in one tab's stream:
 * - `awaiting`: needs a fresh start; gets nothing until a batch with a Meta event (a snapshot) arrives;
 * - `live`: gets every batch, consecutive from that Meta on;
 * - `behind`: its socket's queue went over the limit; gets nothing until it drains, then `awaiting`.
 */
export type WatchState = 'awaiting' | 'live' | 'behind';

/** One agent socket (dashboard page or watch link). */
export class AgentConn {
  /** Sessions this socket has joined, by session id. */
  readonly memberships = new Map<string, Member>();
  listSubscribed = false;
  constructor(readonly peer: AgentPeer, readonly identity: AgentIdentity) {}
}

/** An agent socket in one session, watching one of its tabs. */
export interface Member {
  readonly conn: AgentConn;
  readonly session: LiveRoom;
  tab: TabRoom;
}

export class TabRoom {
  /** The tab's socket; undefined while it is away (within its grace period). */
  peer: TabPeer | undefined;
  updatedAt: number;
  clockOffsetMs = 0;
  readonly watchers = new Map<Member, WatchState>();
  /** live:start sent and live:stop not since, on the current socket. */
  forwarding = false;
  /** Last seq relayed in this forwarding run (-1: none yet). */
  lastSeq = -1;
  /** When a snapshot was asked for and no Meta event has arrived since (0: none pending). */
  snapshotAskedAt = 0;
  graceTimer: NodeJS.Timeout | undefined;
  /** Size of the last packet the socket received: the live:events being handled (for byte metrics). */
  lastPacketBytes = 0;

  constructor(readonly session: LiveRoom, readonly tabId: string, public page: TabPage, readonly connectedAt: number) {
    this.updatedAt = connectedAt;
  }
}

export type ConsentState = 'none' | 'pending' | 'accepted';

/** A live session: the room `<projectId>:<sessionId>`. */
export class LiveRoom {
  readonly tabs = new Map<string, TabRoom>();
  /** Agent sockets in the session, by socket id. */
  readonly members = new Map<string, Member>();
  /** `pending` stops all forwarding until a tab answers; `accepted` lasts for the session's life. */
  consent: ConsentState = 'none';
  userId = '';
  browser = '';
  os = '';
  startedAt: number;
  /** The stored row was asked for (once, when an agent first sees the session). */
  storedLookup = false;
  /** Last time a tab (re)connected: which live session of a visitor is the current one. */
  lastConnectAt: number;
  changed!: Throttle;

  constructor(readonly projectId: string, readonly sessionId: string, readonly visitorId: string, now: number) {
    this.startedAt = now;
    this.lastConnectAt = now;
  }
}

export class ProjectRooms {
  readonly sessions = new Map<string, LiveRoom>();
  readonly listeners = new Set<AgentConn>();
  listChanged!: Throttle;
}

/** Agents present, once each (an agent with two dashboard tabs open is one person in the banner). */
export function presence(room: LiveRoom): AgentPresence[] {
  const seen = new Map<string, AgentPresence>();
  for (const { conn } of room.members.values()) {
    const { agentId, name, via } = conn.identity;
    const key = `${via}:${agentId}`;
    if (!seen.has(key)) seen.set(key, { id: agentId, name, via });
  }
  return [...seen.values()];
}

/** The tab the user is on: focused, else visible, else the most recently updated; connected ones first. */
export function activeTab(room: LiveRoom): TabRoom | undefined {
  let best: TabRoom | undefined;
  let bestScore = -1;
  for (const tab of room.tabs.values()) {
    const score = (tab.peer ? 4 : 0) + (tab.page.focused ? 2 : 0) + (tab.page.visible ? 1 : 0);
    if (score > bestScore || (score === bestScore && best && tab.updatedAt > best.updatedAt)) {
      best = tab;
      bestScore = score;
    }
  }
  return best;
}

export function toLiveTab(tab: TabRoom): LiveTab {
  const watchers = new Set<string>();
  for (const m of tab.watchers.keys()) watchers.add(m.conn.identity.agentId);
  return { ...tab.page, tabId: tab.tabId, connectedAt: tab.connectedAt, clockOffsetMs: tab.clockOffsetMs, watchers: [...watchers] };
}

export function toLiveSession(room: LiveRoom): LiveSession {
  return {
    sessionId: room.sessionId,
    visitorId: room.visitorId,
    userId: room.userId,
    startedAt: room.startedAt,
    activeTabId: activeTab(room)?.tabId ?? '',
    tabs: [...room.tabs.values()].map(toLiveTab),
    agents: presence(room),
    browser: room.browser,
    os: room.os,
    awaitingConsent: room.consent === 'pending',
  };
}
