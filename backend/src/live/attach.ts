import { Server } from 'socket.io';
import type { TemplatedApp } from 'uWebSockets.js';
import { ASSIST_NAMESPACE, ASSIST_SOCKET_PATH, type AckResult, type JoinResult, type LiveEventsMessage } from '@tandem/protocol';
import type { AppContext, AssistDirectory, LiveDirectory } from '../context.js';
import { AssistHub } from './assist-hub.js';
import { AgentRecords } from './agent-records.js';
import { AssistSockets } from './assist-socket.js';
import { bufferedBytes } from './backpressure.js';
import { NodeBus } from './cluster-bus.js';
import { ClusterLink, REMOTE_TIMEOUT_MS } from './cluster-link.js';
import { clusterRecordings } from './cluster-recordings.js';
import { ClusterRelay } from './cluster-relay.js';
import { ConsentPolicy } from './consent.js';
import { createHandshake } from './handshake.js';
import { rtcConfigFor, rtcRefreshMs } from './ice.js';
import { LiveRegistry } from './registry.js';
import { StoredSessionLookup } from './session-info.js';
import { TAB_ROOM_EVENTS, localTabPeer, tabMessageToRegistry } from './tab-messages.js';
import { mergeSessions, type SharedLimiter } from './state/live-state.js';
import type { RateLimitConfig } from '../config.js';
import { setupLiveState } from './state/setup.js';
import type { AgentIdentity, AgentPeer, AssistNamespace, AssistServer, AssistSocket, TabIdentity } from './types.js';

export interface LiveServer {
  io: AssistServer;
  registry: LiveRegistry;
  /** Assist features' state (calls, control, drawing, recording grants). */
  assist: AssistHub;
  /** What HTTP routes may know and do about live rooms (`ctx.live`). */
  directory: LiveDirectory;
  /** The assist grants HTTP routes check (`ctx.assist`). */
  assistDirectory: AssistDirectory;
  /** The agent records sign-in checks read (`ctx.agents`): kept 30 s, forgotten at once on removal. */
  agents: AgentRecords;
  /** Resolves once the shared state (Redis) answers; the node must not take traffic before. */
  ready: Promise<void>;
  /** Rooms are shared with other nodes (TANDEM_REDIS_URL). */
  clustered: boolean;
  /** A token bucket shared by every node (Redis), or this process's own without TANDEM_REDIS_URL. */
  limiter(name: string, config: RateLimitConfig): SharedLimiter;
  /**
   * SIGTERM on a node of a cluster: refuse new sockets, close every socket's transport so its client
   * reconnects at once (through the load balancer, to another node), and wait until they are gone.
   */
  drain(): Promise<void>;
  /** Closes every socket and stops the timers; call before the store closes. */
  close(): Promise<void>;
}

/** setTimeout cannot wait longer than this (about 24.8 days); links are shorter, but never overflow. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * socket.io on the same uWS app (and port) as HTTP, namespace `/assist` (DESIGN.md §3 Live, §7).
 * Every socket passes the handshake middleware, then its events go to the registry.
 */
export function attachLive(app: TemplatedApp, ctx: AppContext): LiveServer {
  const { config, log, metrics } = ctx;
  const shared = setupLiveState(config, log, metrics, REMOTE_TIMEOUT_MS);
  const { state } = shared;
  let draining = false;
  const io: AssistServer = new Server({
    ...(shared.adapter ? { adapter: shared.adapter } : {}),
    path: ASSIST_SOCKET_PATH,
    // The client is bundled into the tracker/plugin and the dashboard; nothing to serve.
    serveClient: false,
    maxHttpBufferSize: config.liveMaxMessageBytes,
    // Tabs live on customers' sites: long-polling from them needs CORS. No credentials: tabs carry
    // their token in `auth`, and agents (who use the cookie) are same-origin.
    cors: { origin: true, credentials: false },
  });
  // uWS's default maxBackpressure (64 KiB) silently DROPS sends to a slow socket. Our own limit marks
  // such an agent behind and restarts it from a snapshot; uWS must hold at least that much plus the
  // largest message sent while just under it, or a message would vanish before we notice.
  io.attachApp(app, { maxBackpressure: config.liveBackpressureBytes + 2 * config.liveMaxMessageBytes } as Parameters<AssistServer['attachApp']>[1]);
  const nsp: AssistNamespace = io.of(ASSIST_NAMESPACE);

  const lookup = new StoredSessionLookup(ctx.store, log);
  const assist = new AssistHub({
    log, metrics, requestTimeoutMs: config.assistRequestTimeoutMs, rtcConfig: (sessionId) => rtcConfigFor(config, sessionId), rtcRefreshMs: rtcRefreshMs(config),
  });
  const registry = new LiveRegistry(
    { graceMs: config.liveGraceMs, backpressureBytes: config.liveBackpressureBytes, maxSessionsPerAgent: config.liveMaxSessionsPerAgent },
    {
      log,
      metrics,
      consent: new ConsentPolicy(ctx.projects, ctx.store),
      lookup,
      multicast: (peers: AgentPeer[], msg: LiveEventsMessage) => {
        // Agents on other nodes: one publish per edge node (cluster-relay.ts), not the adapter.
        const local = cluster && peers.some((p) => p.remote) ? cluster.relayEvents(peers, msg) : peers;
        // One encode for all recipients (socket.io's broadcast), still in order per socket. Sockets
        // all on this node skip the adapter (no Redis round trip); any left on another node go through it.
        if (local.length === 1) local[0].emit('live:events', msg);
        else if (local.length) (local.some((p) => p.remote) ? nsp : nsp.local).to(local.map((p) => p.id)).emit('live:events', msg);
      },
      hooks: assist,
    },
  );
  assist.attach(registry);
  const assistSockets = new AssistSockets(assist, log);
  const relay = shared.redis
    ? new ClusterRelay({
      nodeId: state.nodeId, ...shared.redis, server: io, nsp, log, onError: (op) => metrics.redisErrors.inc({ op }),
      limitBytes: config.liveBackpressureBytes, onFull: (socket) => cluster?.agentFull(socket),
    })
    : undefined;
  // Messages for one node go on its own channel, not to every node (cluster-bus.ts).
  const bus = shared.redis
    ? new NodeBus({ nodeId: state.nodeId, ...shared.redis, log, onError: (op) => metrics.redisErrors.inc({ op }), timeoutMs: REMOTE_TIMEOUT_MS })
    : undefined;
  const cluster = relay && bus
    ? new ClusterLink({
      nsp, state, registry, log, metrics, graceMs: config.liveGraceMs, relay, bus, backpressureBytes: config.liveBackpressureBytes,
      dispatchTab: (socketId, event, msg, refuse) => assistSockets.dispatchTab(socketId, event, msg, refuse),
      dispatchAgent: (socketId, event, args, refuse) => assistSockets.dispatchAgent(socketId, event, args, refuse),
      projectChanged: (projectId) => registry.projectChanged(projectId),
      control: (room) => {
        const control = assist.state(room).control;
        return control ? { agentPeerId: control.agent.peerId, tabId: control.tabId } : null;
      },
    })
    : undefined;
  registry.observe(cluster);
  metrics.liveCounts.read = () => {
    const counts = registry.counts();
    return {
      ...counts,
      // Tab sockets on this node whose session another node serves count here, where the socket is.
      tabs: counts.tabs + (cluster?.tabs.counts().away ?? 0),
      remoteAgents: cluster?.remoteCount() ?? 0,
      proxiedSessions: cluster?.proxiedCount() ?? 0,
      draining: draining ? 1 : 0,
    };
  };

  const agentRecords = new AgentRecords(ctx.store);
  // A removal on another node: its handshakes read storage again here too.
  if (cluster) nsp.on('live:agent-removed', (agentId) => agentRecords.forget(agentId));
  nsp.use(createHandshake(ctx, {
    ip: state.limiter('connect-ip', config.liveConnectRateLimit),
    project: state.limiter('connect-project', config.liveProjectConnectRateLimit),
    draining: () => draining,
    agents: agentRecords,
  }));

  nsp.on('connection', (socket) => {
    const data = socket.data;
    if (data.role === 'tab') onTab(socket, data);
    else onAgent(socket, data);
  });

  function onTab(socket: AssistSocket, identity: TabIdentity): void {
    const id = socket.id;
    log.debug({ sessionId: identity.sessionId, tabId: identity.tabId }, 'live: tab connected');
    // The size of the packet being dispatched, read by the live:events handler that runs right after.
    let packetBytes = 0;
    socket.conn.on('packet', (p: { data?: unknown }) => {
      packetBytes = typeof p.data === 'string' ? p.data.length : 0;
    });
    registry.tabConnected(identity, localTabPeer(socket));
    const on = socket.on as (event: string, listener: (msg: unknown) => void) => AssistSocket;
    for (const event of TAB_ROOM_EVENTS) on.call(socket, event, (msg) => tabMessageToRegistry(registry, id, event, msg, packetBytes));
    socket.on('clock:ping', (_clientTime, ack) => {
      if (typeof ack === 'function') ack(Date.now());
    });
    assistSockets.bindTab(socket);
    socket.on('disconnect', () => registry.tabDisconnected(id));
  }

  function onAgent(socket: AssistSocket, identity: AgentIdentity): void {
    const id = socket.id;
    log.debug({ agentId: identity.agentId, via: identity.via }, 'live: agent connected');
    registry.agentConnected(identity, {
      id,
      emit: (event, ...args) => untypedEmit(socket, event, args),
      bufferedBytes: () => bufferedBytes(socket, config.liveBackpressureBytes),
    });
    // Agents in rooms of other nodes: what they send for those rooms goes there.
    if (cluster) socket.use((packet, next) => cluster.route(socket, packet, next));
    // One room per signed-in agent, so removing the agent closes its sockets on every node.
    if (identity.via === 'login') void socket.join(agentRoom(identity.projectId, identity.agentId));
    let expiry: NodeJS.Timeout | undefined;
    if (identity.expiresAt !== undefined) {
      expiry = setTimeout(() => {
        registry.expireWatchLink(id);
        socket.disconnect(true);
      }, Math.min(MAX_TIMER_MS, Math.max(0, identity.expiresAt - Date.now())));
      expiry.unref();
    }
    socket.on('live:list:subscribe', (ack) => {
      if (typeof ack !== 'function') return;
      const result = registry.subscribeList(id);
      if (!cluster || !result.ok) return ack(result);
      cluster.sessions(identity.projectId).then((sessions) => ack({ ok: true, sessions }), () => ack(result));
    });
    socket.on('live:list:unsubscribe', () => registry.unsubscribeList(id));
    const join = (req: { sessionId?: unknown; tabId?: unknown } | undefined, ack: (result: AckResult<JoinResult>) => void) => {
      registry.join(id, req).then(ack, (err) => {
        log.error({ err }, 'live: join failed');
        ack({ ok: false, error: { code: 'internal', message: 'Internal server error' } });
      });
    };
    socket.on('live:join', (req, ack) => {
      if (typeof ack === 'function') join(req, ack);
    });
    socket.on('live:watch-tab', (req, ack) => {
      const result = registry.watchTab(id, req);
      if (typeof ack === 'function') ack(result);
    });
    socket.on('live:resync', (req) => registry.resync(id, req));
    socket.on('live:leave', (req) => registry.leave(id, req?.sessionId));
    assistSockets.bindAgent(socket);
    socket.on('clock:ping', (_agentTime, ack) => {
      if (typeof ack === 'function') ack(Date.now());
    });
    // The handshake's join (AgentHandshake.join): as a `live:join` packet would go, through the cluster
    // route first (the session may be served by another node), answered with `live:joined`.
    const early = (socket.handshake.auth as { join?: unknown } | undefined)?.join;
    if (early && typeof early === 'object') {
      const req = early as { sessionId?: unknown; tabId?: unknown };
      const answer = (result: AckResult<JoinResult>) => {
        if (socket.connected) socket.emit('live:joined', { sessionId: String(req.sessionId), result });
      };
      if (cluster) cluster.route(socket, ['live:join', req, answer], () => join(req, answer));
      else join(req, answer);
    }
    socket.on('disconnect', () => {
      if (expiry) clearTimeout(expiry);
      cluster?.agentGone(id);
      registry.agentDisconnected(id);
    });
  }

  /**
   * Removed or disabled agents lose their sockets within liveAgentRecheckMs (HTTP checks the agent at
   * every request; a socket only at its handshake). A storage error keeps everyone connected.
   */
  let rechecking = false;
  const recheck = setInterval(() => {
    if (rechecking) return;
    rechecking = true;
    void recheckAgents().finally(() => (rechecking = false));
  }, config.liveAgentRecheckMs);
  recheck.unref();
  async function recheckAgents(): Promise<void> {
    const byAgent = new Map<string, AssistSocket[]>();
    for (const s of nsp.sockets.values()) {
      if (s.data.role !== 'agent' || s.data.via !== 'login') continue;
      const list = byAgent.get(s.data.agentId) ?? [];
      list.push(s);
      byAgent.set(s.data.agentId, list);
    }
    for (const [agentId, sockets] of byAgent) {
      let agent;
      try {
        agent = await ctx.store.getAgent(agentId);
      } catch (err) {
        log.warn({ err }, 'live: cannot re-check agents');
        return;
      }
      agentRecords.refreshed(agentId, agent);
      if (agent && !agent.disabled && agent.projectId === sockets[0].data.projectId) continue;
      log.info({ agentId }, 'live: agent removed or disabled; closing its sockets');
      for (const s of sockets) s.disconnect(true);
    }
  }

  const directory: LiveDirectory = {
    async sessionOfVisitor(projectId, visitorId) {
      const here = registry.sessionOfVisitor(projectId, visitorId);
      if (here || !cluster) return here;
      // On another node: the visitor's session with the newest tab.
      const theirs = (await cluster.sessions(projectId)).filter((s) => s.visitorId === visitorId);
      return mergeSessions([theirs]).sort((a, b) => newestTab(b) - newestTab(a))[0]?.sessionId;
    },
    async isLive(projectId, sessionId) {
      return registry.isLive(projectId, sessionId) || (!!cluster && (await state.homeOf(projectId, sessionId)) !== null);
    },
    async list(projectId) {
      return cluster ? cluster.sessions(projectId) : registry.list(projectId);
    },
    async status() {
      const redis = !state.shared ? 'off' : (await state.ready()) ? 'ok' : 'down';
      return { redis, draining, node: state.nodeId };
    },
    projectChanged: (projectId) => {
      registry.projectChanged(projectId);
      if (cluster) nsp.serverSideEmit('live:project-changed', projectId);
    },
    agentRemoved(projectId, agentId) {
      agentRecords.forget(agentId);
      if (cluster) nsp.serverSideEmit('live:agent-removed', agentId);
      // Through the adapter: the agent's sockets on every node.
      nsp.in(agentRoom(projectId, agentId)).disconnectSockets(true);
    },
  };

  // On a cluster the grant is asked of the session's home (cluster-recordings.ts).
  const assistDirectory: AssistDirectory = cluster && bus ? clusterRecordings({ nsp, bus, state, assist, log }) : {
    recordingGrant: (projectId, sessionId, agent) => assist.recordingGrant(projectId, sessionId, agent),
    recordingStarted: (projectId, sessionId, recordingId) => assist.recordingStarted(projectId, sessionId, recordingId),
    onRecordingEnded: (listener) => assist.onRecordingEnded((rec) => listener(rec.recordingId)),
  };

  let closed = false;
  return {
    io,
    registry,
    assist,
    directory,
    assistDirectory,
    agents: agentRecords,
    ready: shared.ready,
    clustered: state.shared,
    limiter: (name, cfg) => state.limiter(name, cfg),
    async drain() {
      draining = true;
      log.info({ sockets: nsp.sockets.size }, 'live: draining: moving every socket to the other nodes');
      // Closing the transport (not a socket.io disconnect) is what makes socket.io clients reconnect
      // by themselves; tabs present their token and skip the connect limit wherever they land.
      const rooms = registry.sessions();
      // Tabs hosted here for other nodes go back to them first (their sockets are not ours to close).
      cluster?.drain();
      for (const s of nsp.sockets.values()) s.conn.close();
      // Done when the sockets are gone and every session served here is served by another node (its
      // tabs reconnected there after socket.io's reconnection delay, ~0.5-1.5 s), or at the timeout.
      const until = Date.now() + config.drainTimeoutMs;
      const moved = async () => {
        for (const r of rooms) if ((await state.homeOf(r.projectId, r.sessionId)) === state.nodeId) return false;
        return true;
      };
      while (Date.now() < until && (nsp.sockets.size || !(await moved()))) await new Promise((r) => setTimeout(r, 100));
      log.info({ sockets: nsp.sockets.size, sessions: rooms.length }, 'live: drained');
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(recheck);
      cluster?.close();
      relay?.close();
      registry.close();
      lookup.close();
      await io.close();
      await shared.close();
    },
  };
}

function agentRoom(projectId: string, agentId: string): string {
  return `agent:${projectId}:${agentId}`;
}

function newestTab(s: { tabs: { connectedAt: number }[] }): number {
  return s.tabs.reduce((m, t) => Math.max(m, t.connectedAt), 0);
}

/** The peers' emit is typed by the protocol's maps already; socket.io's overloads cannot follow a generic event. */
function untypedEmit(socket: AssistSocket, event: string, args: unknown[]): void {
  (socket.emit as (ev: string, ...a: unknown[]) => boolean).call(socket, event, ...args);
}
