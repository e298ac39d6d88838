import type { Namespace, Server, Socket } from 'socket.io';
import type {
  Capability, ClientToServerEvents, ServerToAgentEvents, ServerToClientEvents, ServerToTabEvents, TabPage,
} from '@tandem/protocol';

import type { InterServerEvents } from './cluster-link.js';

/** Who a tab socket is, from its verified session token (never from what the client claims). */
export interface TabIdentity {
  role: 'tab';
  projectId: string;
  sessionId: string;
  tabId: string;
  visitorId: string;
  page: TabPage;
  userAgent: string;
}

/** Who an agent socket is: a signed-in agent (whole project) or a watch link (one session). */
export interface AgentIdentity {
  role: 'agent';
  projectId: string;
  agentId: string;
  name: string;
  via: 'login' | 'watch-link';
  capabilities: Capability[];
  /** Watch links only: the one session this socket may join. */
  sessionId?: string;
  /** Watch links only: epoch ms when the link stops working. */
  expiresAt?: number;
}

export type SocketData = TabIdentity | AgentIdentity;

export type AssistServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type AssistNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type AssistSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

type Emitter<Events> = <E extends keyof Events>(event: E, ...args: Events[E] extends (...a: infer A) => void ? A : never) => void;

/**
 * What the registry needs of a tab's socket. An interface (not the socket) so the room logic can be
 * unit-tested with plain objects.
 */
export interface TabPeer {
  readonly id: string;
  /** A tab socket on another node, reached through the Redis adapter (cluster-tabs.ts). */
  readonly remote?: boolean;
  emit: Emitter<ServerToTabEvents>;
  /** Closes the connection (a newer socket replaced this one). */
  disconnect(): void;
}

export interface AgentPeer {
  readonly id: string;
  /** An agent socket on another node, reached through the Redis adapter (cluster-link.ts). */
  readonly remote?: boolean;
  emit: Emitter<ServerToAgentEvents>;
  /** Bytes queued towards this socket and not yet written to the network. */
  bufferedBytes(): number;
}
