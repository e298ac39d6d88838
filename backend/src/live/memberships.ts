import type { AckResult, ErrorCode, JoinResult, LiveEndReason } from '@tandem/protocol';
import type { TabForwarding } from './forwarding.js';
import type { RoomDirectory } from './room-directory.js';
import type { RoomHooks } from './room-hooks.js';
import { activeTab, presence, toLiveSession, type AgentConn, type LiveRoom, type Member, type TabRoom } from './rooms.js';

export type Fail = { ok: false; error: { code: ErrorCode; message: string } };
export const fail = (code: ErrorCode, message: string): Fail => ({ ok: false, error: { code, message } });

/**
 * Agents in sessions: joining, switching tabs, leaving, being dismissed (split from registry.ts).
 * Each change updates the room, tells the tabs who is present, and lets forwarding follow.
 */
export class Memberships {
  constructor(
    private readonly opts: { maxSessionsPerAgent: number },
    private readonly rooms: RoomDirectory,
    private readonly fwd: TabForwarding,
    private readonly hooks: RoomHooks | undefined,
  ) {}

  join(conn: AgentConn, room: LiveRoom, tabId: string | undefined, requireConsent: boolean): AckResult<JoinResult> {
    const wanted = tabId ? room.tabs.get(tabId) : undefined;
    const existing = conn.memberships.get(room.sessionId);
    if (existing) {
      // Joining again (e.g. the view was reopened): switch if asked, and start over from a snapshot.
      if (wanted && wanted !== existing.tab) this.move(existing, wanted, 'tab_switch');
      else if (existing.tab.watchers.get(existing) !== 'behind') {
        existing.tab.watchers.set(existing, 'awaiting');
        this.fwd.startWatching(existing.tab, 'join');
      }
      this.hooks?.memberJoined(existing);
      return this.result(existing);
    }
    if (conn.memberships.size >= this.opts.maxSessionsPerAgent) {
      return fail('forbidden', `At most ${this.opts.maxSessionsPerAgent} live sessions at once per connection`);
    }
    const tab = wanted ?? activeTab(room);
    if (!tab) return fail('not_found', 'This session is not live');
    this.rooms.lookupStored(room);
    const member: Member = { conn, session: room, tab };
    room.members.set(conn.peer.id, member);
    conn.memberships.set(room.sessionId, member);
    tab.watchers.set(member, 'awaiting');
    if (room.consent === 'none' && requireConsent) room.consent = 'pending';
    const agents = presence(room);
    for (const t of room.tabs.values()) {
      if (!t.peer) continue;
      t.peer.emit('agents', agents);
      if (room.consent === 'pending') t.peer.emit('consent:request', { agents });
    }
    this.fwd.startWatching(tab, 'join');
    this.hooks?.memberJoined(member);
    this.rooms.changed(room, true);
    return this.result(member);
  }

  private result(member: Member): AckResult<JoinResult> {
    return {
      ok: true,
      session: toLiveSession(member.session),
      tabId: member.tab.tabId,
      capabilities: [...member.conn.identity.capabilities],
      serverTime: Date.now(),
    };
  }

  move(member: Member, target: TabRoom, reason: 'tab_switch'): void {
    const old = member.tab;
    old.watchers.delete(member);
    this.fwd.forget(member);
    this.fwd.reconcile(old, reason);
    member.tab = target;
    target.watchers.set(member, 'awaiting');
    this.fwd.startWatching(target, reason);
    this.rooms.changed(member.session, true);
  }

  /** Removes one agent from one session (leave, disconnect, link expiry). */
  remove(member: Member): void {
    const room = member.session;
    const tab = member.tab;
    this.detach(member);
    this.fwd.reconcile(tab, 'join');
    if (!room.members.size && room.consent === 'pending') room.consent = 'none';
    const agents = presence(room);
    for (const t of room.tabs.values()) t.peer?.emit('agents', agents);
    this.rooms.changed(room, true);
  }

  detach(member: Member): void {
    member.tab.watchers.delete(member);
    this.fwd.forget(member);
    member.session.members.delete(member.conn.peer.id);
    member.conn.memberships.delete(member.session.sessionId);
    this.hooks?.memberLeft(member);
  }

  /** Every agent leaves the session (user stop, consent declined); the tabs stop and drop the banner. */
  dismiss(room: LiveRoom, reason: LiveEndReason): void {
    for (const member of [...room.members.values()]) {
      member.conn.peer.emit('live:ended', { sessionId: room.sessionId, reason });
      this.detach(member);
    }
    for (const tab of room.tabs.values()) {
      tab.forwarding = false;
      tab.snapshotAskedAt = 0;
      tab.peer?.emit('live:stop');
      tab.peer?.emit('agents', []);
    }
    this.rooms.changed(room, true);
  }

  /** The tab is gone for good: its watchers follow the user to the tab they are on now. */
  followUser(room: LiveRoom, gone: TabRoom): void {
    const next = activeTab(room)!;
    const moved = [...gone.watchers.keys()];
    gone.watchers.clear();
    for (const m of moved) {
      this.fwd.forget(m);
      m.tab = next;
      next.watchers.set(m, 'awaiting');
    }
    if (moved.length) this.fwd.startWatching(next, 'tab_switch');
  }
}
