import type { LiveSession } from '@tandem/protocol';
import { LiveRoom, ProjectRooms, toLiveSession } from './rooms.js';
import { describeUserAgent, type StoredSessionInfo } from './session-info.js';
import { Throttle } from './throttle.js';
import type { TabIdentity } from './types.js';

export interface RoomDirectoryOptions {
  /** live:list at most this often per project (250 ms: ≤ 4/s). */
  listIntervalMs: number;
  /** live:session at most this often per session for small changes (clock offsets); page and tab changes go at once. */
  sessionIntervalMs: number;
}

export interface RoomDirectoryDeps {
  /** Fills in a session's stored start (and browser/os/user when still unknown), later. */
  lookup?: { lookup(projectId: string, sessionId: string, done: (info: StoredSessionInfo | null) => void): void };
  /** A project's list changed (throttled): tell its listeners. */
  publishList(projectId: string, project: ProjectRooms): void;
  /** A session changed (throttled): tell its members. */
  publishSession(room: LiveRoom): void;
}

/**
 * Where the rooms are: project → session, the throttles that turn changes into `live:session` and
 * `live:list`, and the read-only questions HTTP asks (split from registry.ts, which changes the rooms).
 * Every lookup starts from the caller's project: nothing here can reach another project's sessions.
 */
export class RoomDirectory {
  readonly projects = new Map<string, ProjectRooms>();
  closed = false;

  constructor(private readonly opts: RoomDirectoryOptions, private readonly deps: RoomDirectoryDeps) {}

  /** The project's rooms, created on first use. */
  project(projectId: string): ProjectRooms {
    let project = this.projects.get(projectId);
    if (!project) {
      const p = new ProjectRooms();
      p.listChanged = new Throttle(this.opts.listIntervalMs, () => this.deps.publishList(projectId, p));
      this.projects.set(projectId, p);
      project = p;
    }
    return project;
  }

  room(projectId: string, sessionId: string): LiveRoom | undefined {
    return this.projects.get(projectId)?.sessions.get(sessionId);
  }

  openRoom(project: ProjectRooms, identity: TabIdentity, now: number): LiveRoom {
    const room = new LiveRoom(identity.projectId, identity.sessionId, identity.visitorId, now);
    Object.assign(room, describeUserAgent(identity.userAgent));
    // Page changes and tab switches go out at once, but no more than every 50 ms.
    room.changed = new Throttle(this.opts.sessionIntervalMs, () => this.deps.publishSession(room), Math.min(50, this.opts.sessionIntervalMs));
    project.sessions.set(identity.sessionId, room);
    return room;
  }

  /** The room is gone: it leaves the list. */
  removeRoom(room: LiveRoom): void {
    room.changed.cancel();
    const project = this.projects.get(room.projectId);
    if (!project || project.sessions.get(room.sessionId) !== room) return;
    project.sessions.delete(room.sessionId);
    project.listChanged.schedule();
    this.dropIfEmpty(room.projectId, project);
  }

  dropIfEmpty(projectId: string, project: ProjectRooms): void {
    if (project.sessions.size || project.listeners.size) return;
    project.listChanged.cancel();
    this.projects.delete(projectId);
  }

  changed(room: LiveRoom, urgent: boolean): void {
    if (this.closed) return;
    room.changed.schedule(urgent);
    this.projects.get(room.projectId)?.listChanged.schedule();
  }

  /**
   * Fills in the session's stored start (and browser/os/user when still unknown) in the background.
   * Only for sessions an agent sees (listed or joined): idle tabs nobody looks at cost no query.
   */
  lookupStored(room: LiveRoom): void {
    if (room.storedLookup || !this.deps.lookup) return;
    room.storedLookup = true;
    this.deps.lookup.lookup(room.projectId, room.sessionId, (info) => {
      if (!info || this.room(room.projectId, room.sessionId) !== room) return;
      if (info.startedAt > 0) room.startedAt = info.startedAt;
      if (!room.userId && info.userId) room.userId = info.userId;
      if (!room.browser && info.browser) room.browser = info.browser;
      if (!room.os && info.os) room.os = info.os;
      this.changed(room, false);
    });
  }

  /** The project's sessions here, newest first; `lookup`: fill in stored details (for sessions an agent sees). */
  listOf(project: ProjectRooms, lookup = true): LiveSession[] {
    if (lookup) for (const room of project.sessions.values()) this.lookupStored(room);
    return [...project.sessions.values()].sort((a, b) => b.startedAt - a.startedAt).map(toLiveSession);
  }

  list(projectId: string): LiveSession[] {
    const project = this.projects.get(projectId);
    return project ? this.listOf(project) : [];
  }

  sessionOfVisitor(projectId: string, visitorId: string): string | undefined {
    let best: LiveRoom | undefined;
    for (const room of this.projects.get(projectId)?.sessions.values() ?? []) {
      if (room.visitorId === visitorId && (!best || room.lastConnectAt > best.lastConnectAt)) best = room;
    }
    return best?.sessionId;
  }

  sessionCount(): number {
    let sessions = 0;
    for (const p of this.projects.values()) sessions += p.sessions.size;
    return sessions;
  }

  /** Stops every throttle and grace timer. */
  close(): void {
    this.closed = true;
    for (const project of this.projects.values()) {
      project.listChanged.cancel();
      for (const room of project.sessions.values()) {
        room.changed.cancel();
        for (const tab of room.tabs.values()) if (tab.graceTimer) clearTimeout(tab.graceTimer);
      }
    }
    this.projects.clear();
  }
}
