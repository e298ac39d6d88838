import type { Logger } from 'pino';
import type { TabPage } from '@tandem/protocol';
import type { LiveRegistry } from './registry.js';
import { parseOffset, parsePage } from './schemas.js';
import { isTabRoomEvent, localTabPeer, tabMessageToRegistry } from './tab-messages.js';
import type { AssistNamespace, AssistSocket, TabIdentity, TabPeer } from './types.js';

/**
 * Tabs of one session on two nodes at once (issue 9): a session has one room, at its home (the node
 * its newest tab connected to, cluster-link.ts). A tab whose socket is on another node is *hosted*
 * by the home: the home's registry holds it as a TabPeer like any other and reaches it through the
 * Redis adapter (`to(socketId).emit`), and the tab's node (here called its *edge*) forwards what the
 * tab sends for the room to the home. So the agent sees every tab of the session, can switch between
 * them, and gets events, snapshots, control and calls for the one it watches, whatever node each tab's
 * socket is on; control, consent and the order of events are still decided in one place.
 *
 * A tab goes away to the home when the home moves to another node while the tab is still connected
 * here (registry.movedAway hands it over). It comes back here when the home dies (liveness), drains
 * (`live:tab-release`) or moves to this node (`live:home`); it follows the home when the home moves
 * elsewhere. The home drops a hosted tab (grace period, as a dropped socket) when its edge dies.
 *
 * Not taken: refusing a second node's tab and making the browser reconnect to the home (a balancer
 * cannot be told where to send one tab), or merging two nodes' rooms at the agent (two nodes would
 * decide control and consent for one session).
 */

export interface ClusterTabsDeps {
  nsp: AssistNamespace;
  node: string;
  registry: LiveRegistry;
  log: Logger;
  /** Runs an assist message of a hosted tab (same handlers and limits as a local socket). */
  dispatchTab(socketId: string, event: string, msg: unknown, refuse: (event: string, refusal: unknown) => void): void;
}

export interface TabInterServerEvents {
  'live:tab-host': (m: { to: string; from: string; socketId: string; identity: TabIdentity; clockOffsetMs: number }) => void;
  'live:tab-event': (m: { to: string; socketId: string; event: string; args: unknown[] }) => void;
  'live:tab-gone': (m: { to: string; socketId: string }) => void;
  'live:tab-release': (m: { to: string; socketId: string }) => void;
}

/** A tab socket here whose session another node serves. */
interface AwayTab {
  home: string;
  identity: TabIdentity;
  clockOffsetMs: number;
  socket: AssistSocket;
}

/** Tab messages the edge answers itself (the clock is the edge's; the ack cannot cross nodes). */
const LOCAL_EVENTS = new Set(['clock:ping']);

export class ClusterTabs {
  /** Edge side: tab socket id → where its session is served. */
  private readonly away = new Map<string, AwayTab>();
  /** Sockets with the routing middleware installed (once per socket). */
  private readonly routed = new WeakSet<AssistSocket>();
  /** Home side: hosted tab socket id → its edge node. */
  private readonly hosted = new Map<string, string>();

  constructor(private readonly deps: ClusterTabsDeps) {
    const nsp = deps.nsp as unknown as { on(ev: string, fn: (m: never) => void): void };
    nsp.on('live:tab-host', (m: Parameters<TabInterServerEvents['live:tab-host']>[0]) => this.onHost(m));
    nsp.on('live:tab-event', (m: Parameters<TabInterServerEvents['live:tab-event']>[0]) => this.onEvent(m));
    nsp.on('live:tab-gone', (m: { to: string; socketId: string }) => {
      if (m.to === deps.node) this.dropHosted(m.socketId, true);
    });
    nsp.on('live:tab-release', (m: { to: string; socketId: string }) => {
      if (m.to === deps.node) this.attachHere(m.socketId);
    });
  }

  // ------------------------------------------------------------------------------- edge (tab here)

  /** A tab connected here goes to the session's home (the room here moved there). */
  sendAway(socketId: string, page: TabPage, clockOffsetMs: number, home: string): void {
    const socket = this.deps.nsp.sockets.get(socketId);
    if (!socket?.connected || socket.data.role !== 'tab') return;
    const identity: TabIdentity = { ...socket.data, page };
    this.away.set(socketId, { home, identity, clockOffsetMs, socket });
    if (!this.routed.has(socket)) {
      this.routed.add(socket);
      socket.use((packet, next) => this.route(socket, packet as unknown[], next));
      socket.on('disconnect', () => this.gone(socket.id));
    }
    this.emit('live:tab-host', { to: home, from: this.deps.node, socketId, identity, clockOffsetMs });
  }

  /** socket.use middleware of a tab socket: while its session is served elsewhere, its messages go there. */
  private route(socket: AssistSocket, packet: unknown[], next: (err?: Error) => void): void {
    const away = this.away.get(socket.id);
    const event = packet[0] as string;
    if (!away || LOCAL_EVENTS.has(event)) return next();
    if (event === 'tab:page') {
      const page = parsePage(packet[1]);
      if (page) away.identity = { ...away.identity, page };
    } else if (event === 'clock:offset') {
      const offset = parseOffset(packet[1]);
      if (offset !== null) away.clockOffsetMs = offset;
    } else if (event === 'tab:leave') {
      this.away.delete(socket.id);
    }
    const args = typeof packet[packet.length - 1] === 'function' ? packet.slice(1, -1) : packet.slice(1);
    this.emit('live:tab-event', { to: away.home, socketId: socket.id, event, args });
  }

  private gone(socketId: string): void {
    const away = this.away.get(socketId);
    if (!away) return;
    this.away.delete(socketId);
    this.emit('live:tab-gone', { to: away.home, socketId });
  }

  /** The tab's session is served here again (its home died, drained, or moved here): the room here takes it. */
  private attachHere(socketId: string): void {
    const away = this.away.get(socketId);
    if (!away) return;
    this.away.delete(socketId);
    const { socket, identity, clockOffsetMs } = away;
    if (!socket.connected) return;
    this.deps.registry.tabConnected(identity, localTabPeer(socket));
    if (clockOffsetMs) this.deps.registry.tabClockOffset(socket.id, clockOffsetMs);
  }

  /** A node now serves a session: tabs here that were away follow it (or come back here). */
  onHome(m: { projectId: string; sessionId: string; node: string }): void {
    for (const [socketId, away] of [...this.away]) {
      const { projectId, sessionId } = away.identity;
      if (projectId !== m.projectId || sessionId !== m.sessionId || away.home === m.node) continue;
      if (m.node === this.deps.node) {
        this.attachHere(socketId);
      } else {
        away.home = m.node;
        this.emit('live:tab-host', { to: m.node, from: this.deps.node, socketId, identity: away.identity, clockOffsetMs: away.clockOffsetMs });
      }
    }
  }

  // ---------------------------------------------------------------------------- home (rooms here)

  private onHost(m: Parameters<TabInterServerEvents['live:tab-host']>[0]): void {
    if (m.to !== this.deps.node) return;
    const nsp = this.deps.nsp;
    this.hosted.set(m.socketId, m.from);
    const peer: TabPeer = {
      id: m.socketId,
      remote: true,
      emit: (event, ...args) => (nsp.to(m.socketId).emit as (ev: string, ...a: unknown[]) => boolean)(event as string, ...args),
      disconnect: () => nsp.in(m.socketId).disconnectSockets(true),
    };
    this.deps.registry.tabConnected(m.identity, peer);
    if (m.clockOffsetMs) this.deps.registry.tabClockOffset(m.socketId, m.clockOffsetMs);
  }

  private onEvent(m: Parameters<TabInterServerEvents['live:tab-event']>[0]): void {
    if (m.to !== this.deps.node || !this.hosted.has(m.socketId)) return;
    const { registry } = this.deps;
    const id = m.socketId;
    const [msg] = m.args as [unknown];
    if (isTabRoomEvent(m.event)) {
      if (m.event === 'tab:leave') this.hosted.delete(id);
      return tabMessageToRegistry(registry, id, m.event, msg);
    }
    this.deps.dispatchTab(id, m.event, msg, (_event, refusal) =>
      (this.deps.nsp.to(id).emit as (ev: string, ...a: unknown[]) => boolean)('assist:refused', refusal));
  }

  /** A hosted tab is no longer ours: its socket closed (grace period here), or its room moved on. */
  dropHosted(socketId: string, disconnected: boolean): void {
    if (!this.hosted.delete(socketId)) return;
    if (disconnected) this.deps.registry.tabDisconnected(socketId);
  }

  // ---------------------------------------------------------------------------------- liveness

  /** Hosted tabs of dead edges are dropped (their tabs reconnect elsewhere); away tabs of dead homes come back. */
  checkLiveness(alive: Set<string>): void {
    for (const [socketId, edge] of [...this.hosted]) if (!alive.has(edge)) this.dropHosted(socketId, true);
    for (const [socketId, away] of [...this.away]) if (!alive.has(away.home)) this.attachHere(socketId);
  }

  /** This node drains: tabs it hosts go back to their own nodes, which serve their sessions from now on. */
  releaseAll(): void {
    for (const [socketId, edge] of [...this.hosted]) {
      this.emit('live:tab-release', { to: edge, socketId });
    }
  }

  /** Tab sockets here served by another node, and tabs hosted here for another node (for counts). */
  counts(): { away: number; hosted: number } {
    return { away: this.away.size, hosted: this.hosted.size };
  }

  private emit(event: keyof TabInterServerEvents, m: unknown): void {
    (this.deps.nsp as unknown as { serverSideEmit(ev: string, m: unknown): void }).serverSideEmit(event, m);
  }
}

