import type { Logger } from 'pino';
import type { TabPage } from '@tandem/protocol';
import type { NodeBus } from './cluster-bus.js';
import type { ClusterRelay } from './cluster-relay.js';
import type { LiveRegistry } from './registry.js';
import { parseOffset, parsePage } from './schemas.js';
import { isTabRoomEvent, localTabPeer, tabMessageToRegistry } from './tab-messages.js';
import type { AssistNamespace, AssistSocket, TabIdentity, TabPeer } from './types.js';

/**
 * Tabs of one session on two nodes at once (issue 9): a session has one room, at its home (the node
 * its newest tab connected to, cluster-link.ts). A tab whose socket is on another node is *hosted*
 * by the home: the home's registry holds it as a TabPeer like any other and reaches it on its node's
 * own channel (cluster-relay.ts), and the tab's node (here called its *edge*) forwards what the
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
  /** Messages between the tab's node and the home, on the addressed node's channel (cluster-bus.ts). */
  bus: NodeBus;
  /** What the home sends a hosted tab, on the tab's node's channel. */
  relay: ClusterRelay;
  node: string;
  registry: LiveRegistry;
  log: Logger;
  /** Runs an assist message of a hosted tab (same handlers and limits as a local socket). */
  dispatchTab(socketId: string, event: string, msg: unknown, refuse: (event: string, refusal: unknown) => void): void;
}

/** Node messages of hosted tabs (cluster-bus.ts), each for one node. */
export interface TabNodeMessages {
  'live:tab-host': { from: string; socketId: string; identity: TabIdentity; clockOffsetMs: number };
  'live:tab-event': { socketId: string; event: string; args: unknown[] };
  'live:tab-gone': { socketId: string };
  'live:tab-release': { socketId: string };
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
    deps.bus.on('live:tab-host', (m: TabNodeMessages['live:tab-host']) => this.onHost(m));
    deps.bus.on('live:tab-event', (m: TabNodeMessages['live:tab-event']) => this.onEvent(m));
    deps.bus.on('live:tab-gone', (m: TabNodeMessages['live:tab-gone']) => this.dropHosted(m.socketId, true));
    deps.bus.on('live:tab-release', (m: TabNodeMessages['live:tab-release']) => this.attachHere(m.socketId));
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
    this.send(home, 'live:tab-host', { from: this.deps.node, socketId, identity, clockOffsetMs });
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
    this.send(away.home, 'live:tab-event', { socketId: socket.id, event, args });
  }

  private gone(socketId: string): void {
    const away = this.away.get(socketId);
    if (!away) return;
    this.away.delete(socketId);
    this.send(away.home, 'live:tab-gone', { socketId });
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
        this.send(m.node, 'live:tab-host', { from: this.deps.node, socketId, identity: away.identity, clockOffsetMs: away.clockOffsetMs });
      }
    }
  }

  // ---------------------------------------------------------------------------- home (rooms here)

  private onHost(m: TabNodeMessages['live:tab-host']): void {
    const nsp = this.deps.nsp;
    this.hosted.set(m.socketId, m.from);
    const peer: TabPeer = {
      id: m.socketId,
      remote: true,
      emit: (event, ...args) => {
        this.emitTo(m.socketId, event as string, args);
        return true;
      },
      disconnect: () => nsp.in(m.socketId).disconnectSockets(true),
    };
    this.deps.registry.tabConnected(m.identity, peer);
    if (m.clockOffsetMs) this.deps.registry.tabClockOffset(m.socketId, m.clockOffsetMs);
  }

  private onEvent(m: TabNodeMessages['live:tab-event']): void {
    if (!this.hosted.has(m.socketId)) return;
    const { registry } = this.deps;
    const id = m.socketId;
    const [msg] = m.args as [unknown];
    if (isTabRoomEvent(m.event)) {
      if (m.event === 'tab:leave') this.hosted.delete(id);
      return tabMessageToRegistry(registry, id, m.event, msg);
    }
    this.deps.dispatchTab(id, m.event, msg, (_event, refusal) => this.emitTo(id, 'assist:refused', [refusal]));
  }

  /** A message to a hosted tab: on its node's channel, or through the adapter (node unknown, binary packet). */
  private emitTo(socketId: string, event: string, args: unknown[]): void {
    const edge = this.hosted.get(socketId);
    if (edge && this.deps.relay.emit(edge, [socketId], event, args)) return;
    (this.deps.nsp.to(socketId).emit as (ev: string, ...a: unknown[]) => boolean)(event, ...args);
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

  /** A hosted tab goes back to its own node, which serves its session from then on (cluster-link.ts tabRemoved). */
  release(socketId: string): void {
    const edge = this.hosted.get(socketId);
    if (edge) this.send(edge, 'live:tab-release', { socketId });
  }

  /** This node drains: tabs it hosts go back to their own nodes, which serve their sessions from now on. */
  releaseAll(): void {
    for (const [socketId, edge] of [...this.hosted]) {
      this.send(edge, 'live:tab-release', { socketId });
    }
  }

  /** Tab sockets here served by another node, and tabs hosted here for another node (for counts). */
  counts(): { away: number; hosted: number } {
    return { away: this.away.size, hosted: this.hosted.size };
  }

  private send<E extends keyof TabNodeMessages>(to: string, event: E, m: TabNodeMessages[E]): void {
    this.deps.bus.send(to, event, m);
  }
}

