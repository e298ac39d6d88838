import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LiveEventsMessage } from '@tandem/protocol';
import { bufferedBytes } from './backpressure.js';
import type { AssistNamespace, AssistServer, AssistSocket } from './types.js';

/**
 * Live event batches (and every other message) to sockets on another node (issue 9, the rooms-2-nodes bench).
 *
 * Through socket.io's Redis adapter (`nsp.to(id).emit`) one batch costs: a msgpack encode of the
 * whole packet on the home, a JSON encode there too for the local sockets of the room (there are none:
 * the adapter encodes before it looks), a msgpack decode on the edge and a JSON encode again for the
 * agent's socket. Here the home encodes the socket.io packet once, exactly as socket.io would for a
 * local socket (the server's own encoder), and publishes it with the recipients' ids, once per batch
 * and edge node, on that node's own channel; the edge writes the same string to each socket's
 * engine.io connection (what socket.io itself does with an encoded packet). Nothing is decoded on the way.
 *
 * Order: the adapter's messages and these leave on the same Redis connection (the adapter's publish
 * client) and arrive on the same subscriber connection, and Redis delivers one connection's publishes
 * to a subscriber in the order they were made; so a batch never overtakes, nor is overtaken by, any
 * other message to the same agent (`agents`, `live:ended`...). The per-tab `seq` checks it anyway.
 */
export class ClusterRelay {
  private readonly channel: string;
  private readonly onMessage = (channel: string, payload: string) => {
    if (channel === this.channel) this.deliver(payload);
  };

  constructor(private readonly deps: {
    nodeId: string;
    /** The adapter's publish connection (order with the adapter's own messages, see above). */
    pub: Redis;
    /** The adapter's subscriber connection. */
    sub: Redis;
    server: AssistServer;
    nsp: AssistNamespace;
    log: Logger;
    onError(op: string): void;
    /**
     * Queue size above which an agent is behind (config.liveBackpressureBytes). A socket already over
     * it gets no more batches here: its home marks it behind once told (`onFull`, cluster-buffers.ts),
     * and uWS, whose own buffer is only a little larger, would otherwise drop what comes meanwhile.
     */
    limitBytes?: number;
    onFull?(socket: AssistSocket): void;
  }) {
    this.channel = relayChannel(deps.nodeId);
    deps.sub.on('message', this.onMessage);
    deps.sub.subscribe(this.channel).catch((err: unknown) => {
      deps.onError('relay-subscribe');
      deps.log.error({ err }, 'live: cannot subscribe to the relay channel');
    });
  }

  /**
   * Sends a batch to agent sockets of `edge`. False when the packet cannot go this way (binary
   * attachments, which socket.io sends as several frames): the caller uses the adapter.
   */
  send(edge: string, socketIds: string[], msg: LiveEventsMessage): boolean {
    return this.emit(edge, socketIds, 'live:events', [msg]);
  }

  /**
   * Any message to sockets of `edge` (a tab hosted here, an agent watching here: their socket is
   * there), instead of the adapter's broadcast that every node would hear. False as `send`.
   * Only live batches are held back from a socket over the limit (their gap is repaired by a resync);
   * anything else is written, as socket.io would.
   */
  emit(edge: string, socketIds: string[], event: string, args: unknown[]): boolean {
    const encoded = this.deps.server.encoder.encode({ type: EVENT, nsp: this.deps.nsp.name, data: [event, ...args] });
    if (encoded.length !== 1 || typeof encoded[0] !== 'string') return false;
    const kind = event === 'live:events' ? BATCH : OTHER;
    // Socket ids are base64url (socket.io's ids): no comma, no newline.
    void this.deps.pub.publish(relayChannel(edge), `${kind}${socketIds.join(',')}\n${encoded[0]}`).catch(() => this.deps.onError('relay-publish'));
    return true;
  }

  private deliver(payload: string): void {
    const nl = payload.indexOf('\n');
    if (nl < 0) return;
    const packet = payload.slice(nl + 1);
    const batch = payload[0] === BATCH;
    for (const id of payload.slice(1, nl).split(',')) {
      const socket = this.deps.nsp.sockets.get(id);
      // As socket.io's own send: nothing is written to a connection that is no longer open.
      if (!socket?.connected || socket.conn.readyState !== 'open') continue;
      const limit = this.deps.limitBytes;
      if (batch && limit !== undefined && bufferedBytes(socket, limit) > limit) {
        this.deps.onFull?.(socket);
        continue;
      }
      socket.conn.write(packet);
    }
  }

  close(): void {
    this.deps.sub.off('message', this.onMessage);
  }
}

/** socket.io-parser's PacketType.EVENT (not a dependency of ours: the encoder is the server's). */
const EVENT = 2;
/** First character of a relayed message: a live batch (held back from a socket over its limit), or anything else. */
const BATCH = 'b';
const OTHER = 'm';

export const relayChannel = (nodeId: string) => `tandem:relay#${nodeId}`;
