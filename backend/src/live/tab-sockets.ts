import type { TabPage } from '@tandem/protocol';
import type { TabForwarding } from './forwarding.js';
import type { Memberships } from './memberships.js';
import type { RoomDirectory } from './room-directory.js';
import type { RoomHooks } from './room-hooks.js';
import { TabRoom, presence, type LiveRoom } from './rooms.js';
import type { TabIdentity, TabPeer } from './types.js';

/** A tab still connected when its room moved to another node (registry.movedAway). */
export interface MovedTab {
  peerId: string;
  tabId: string;
  page: TabPage;
  clockOffsetMs: number;
  /** Hosted here for another node (cluster-tabs.ts). */
  remote: boolean;
}

export interface TabSocketsDeps {
  rooms: RoomDirectory;
  fwd: TabForwarding;
  members: Memberships;
  hooks?: RoomHooks;
  /** How long a disconnected tab keeps its place (config.liveGraceMs). */
  graceMs: number;
  /** The registry is shutting down: nothing changes any more. */
  closed(): boolean;
  /** A tab attached: the cluster side (if any) is told (registry's RoomObserver). */
  attached(room: LiveRoom, openedNow: boolean): void;
  /** A tab left for good and the room still has tabs (the cluster side may move the room). */
  removed(room: LiveRoom): void;
  /** The room's last tab left. */
  endRoom(room: LiveRoom): void;
}

/**
 * The tabs of the live rooms, found by their current socket id (split from registry.ts): a tab
 * socket connecting, reconnecting (a newer socket replaces the older one), sending its page, clock
 * and events, answering consent, leaving (at once, or after the grace period). A socket that was
 * replaced is no longer found, so it can no longer act on the room.
 */
export class TabSockets {
  private readonly byPeer = new Map<string, TabRoom>();

  constructor(private readonly deps: TabSocketsDeps) {}

  /** A tab socket passed the handshake. A newer socket for the same tab replaces the older one. */
  connected(identity: TabIdentity, peer: TabPeer): void {
    const { rooms, fwd } = this.deps;
    const now = Date.now();
    const project = rooms.project(identity.projectId);
    const existing = project.sessions.get(identity.sessionId);
    const room = existing ?? rooms.openRoom(project, identity, now);
    let tab = room.tabs.get(identity.tabId);
    if (tab) {
      if (tab.graceTimer) clearTimeout(tab.graceTimer);
      tab.graceTimer = undefined;
      const old = tab.peer;
      if (old && old.id !== peer.id) {
        this.byPeer.delete(old.id);
        old.disconnect();
      }
      tab.page = identity.page;
      tab.updatedAt = now;
    } else {
      tab = new TabRoom(room, identity.tabId, identity.page, now);
      room.tabs.set(identity.tabId, tab);
    }
    tab.peer = peer;
    this.byPeer.set(peer.id, tab);
    // A new socket is a new plugin instance (reload) or a reconnect: it forwards nothing yet, and
    // whoever watched must start over from a snapshot.
    tab.forwarding = false;
    tab.lastSeq = -1;
    tab.snapshotAskedAt = 0;
    for (const m of tab.watchers.keys()) {
      fwd.forget(m);
      tab.watchers.set(m, 'awaiting');
    }
    if (identity.page.userId) room.userId = identity.page.userId;
    room.lastConnectAt = now;
    if (room.members.size) {
      const agents = presence(room);
      peer.emit('agents', agents);
      if (room.consent === 'pending') peer.emit('consent:request', { agents });
    }
    fwd.reconcile(tab, 'join');
    this.deps.hooks?.tabAttached(tab);
    this.deps.attached(room, !existing);
    rooms.changed(room, true);
  }

  /** The tab keeps its place (and its watchers) for the grace period, then leaves. */
  disconnected(peerId: string): void {
    const tab = this.detach(peerId);
    if (!tab) return;
    tab.graceTimer = setTimeout(() => this.remove(tab), this.deps.graceMs);
    tab.graceTimer.unref();
    this.deps.rooms.changed(tab.session, false);
  }

  /** The tab left on purpose (`tab:leave`: the site stopped the tracker): gone now, no grace period. */
  left(peerId: string): void {
    const tab = this.detach(peerId);
    if (tab) this.remove(tab);
  }

  /** The tab's socket is gone: it forwards nothing now. Returns the tab unless unknown or shutting down. */
  private detach(peerId: string): TabRoom | undefined {
    const tab = this.byPeer.get(peerId);
    if (!tab) return undefined;
    this.byPeer.delete(peerId);
    tab.peer = undefined;
    tab.forwarding = false;
    return this.deps.closed() ? undefined : tab;
  }

  page(peerId: string, page: TabPage): void {
    const tab = this.byPeer.get(peerId);
    if (!tab) return;
    tab.page = page;
    tab.updatedAt = Date.now();
    if (page.userId) tab.session.userId = page.userId;
    this.deps.rooms.changed(tab.session, true);
  }

  clockOffset(peerId: string, offsetMs: number): void {
    const tab = this.byPeer.get(peerId);
    if (!tab || tab.clockOffsetMs === offsetMs) return;
    tab.clockOffsetMs = offsetMs;
    this.deps.rooms.changed(tab.session, false);
  }

  /** `live:events` from a tab; `packetBytes` is the size of the message as received (for metrics). */
  events(peerId: string, raw: unknown, packetBytes: number): void {
    const tab = this.byPeer.get(peerId);
    if (!tab) return;
    tab.lastPacketBytes = packetBytes;
    this.deps.fwd.relay(tab, raw);
  }

  consentAnswer(peerId: string, accepted: boolean): void {
    const room = this.byPeer.get(peerId)?.session;
    if (!room || room.consent !== 'pending') return;
    if (accepted) {
      room.consent = 'accepted';
      for (const tab of room.tabs.values()) this.deps.fwd.reconcile(tab, 'join');
      this.deps.rooms.changed(room, true);
    } else {
      room.consent = 'none';
      this.deps.members.dismiss(room, 'consent_declined');
    }
  }

  /** The user pressed stop on the banner: every agent leaves; a consent project will ask again. */
  userStop(peerId: string): void {
    const room = this.byPeer.get(peerId)?.session;
    if (!room) return;
    room.consent = 'none';
    this.deps.members.dismiss(room, 'user_stopped');
  }

  /** The tab whose current socket this is. */
  ofPeer(peerId: string): TabRoom | undefined {
    return this.byPeer.get(peerId);
  }

  /** Every tab socket connected here (and hosted for another node). */
  peers(): TabPeer[] {
    const tabs: TabPeer[] = [];
    for (const tab of this.byPeer.values()) if (tab.peer) tabs.push(tab.peer);
    return tabs;
  }

  /** The room moved to another node: its connected tabs are let go here (the caller hands them over). */
  releaseRoom(room: LiveRoom): MovedTab[] {
    const tabs: MovedTab[] = [];
    for (const tab of room.tabs.values()) {
      if (tab.graceTimer) clearTimeout(tab.graceTimer);
      tab.graceTimer = undefined;
      const peer = tab.peer;
      if (!peer) continue;
      if (tab.forwarding) peer.emit('live:stop');
      tabs.push({ peerId: peer.id, tabId: tab.tabId, page: tab.page, clockOffsetMs: tab.clockOffsetMs, remote: !!peer.remote });
      this.byPeer.delete(peer.id);
      tab.peer = undefined;
      tab.forwarding = false;
    }
    return tabs;
  }

  counts(): { tabs: number; forwardingTabs: number } {
    let forwardingTabs = 0;
    let tabs = 0;
    for (const tab of this.byPeer.values()) {
      // Tab sockets on this node only: a tab hosted for another node counts there.
      if (tab.peer?.remote) continue;
      tabs++;
      if (tab.forwarding) forwardingTabs++;
    }
    return { tabs, forwardingTabs };
  }

  clear(): void {
    this.byPeer.clear();
  }

  /** Grace period over: the tab is gone. Its watchers follow the user to the tab they are on now. */
  private remove(tab: TabRoom): void {
    tab.graceTimer = undefined;
    const room = tab.session;
    if (room.tabs.get(tab.tabId) !== tab || tab.peer) return;
    room.tabs.delete(tab.tabId);
    this.deps.hooks?.tabRemoved(tab);
    if (!room.tabs.size) {
      this.deps.endRoom(room);
      return;
    }
    this.deps.members.followUser(room, tab);
    this.deps.rooms.changed(room, true);
    this.deps.removed(room);
  }
}
