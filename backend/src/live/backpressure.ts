import type { AssistSocket } from './types.js';

interface EnginePacket {
  data?: unknown;
}
interface EngineConn {
  writeBuffer?: EnginePacket[];
  transport?: { name?: string; socket?: { getBufferedAmount?: () => number } };
}

function packetBytes(data: unknown): number {
  if (typeof data === 'string') return data.length;
  if (data && typeof (data as ArrayBufferLike).byteLength === 'number') return (data as ArrayBufferLike).byteLength;
  return 0;
}

/**
 * Bytes queued towards a socket that the network has not taken yet. Two places hold them:
 * - engine.io's own writeBuffer: packets waiting for the transport (all of them with HTTP long-polling,
 *   which only sends when the client's next GET arrives; briefly during a transport upgrade);
 * - with the websocket transport on uWS, the uWS WebSocket's backpressure buffer
 *   (engine.io/build/transports-uws/websocket.js keeps it as `transport.socket`).
 * Counting stops once past `cap`: callers only need to know whether it is over their threshold.
 */
export function bufferedBytes(socket: AssistSocket, cap = Number.MAX_SAFE_INTEGER): number {
  const conn = socket.conn as unknown as EngineConn;
  let bytes = 0;
  const ws = conn.transport?.name === 'websocket' ? conn.transport.socket : undefined;
  if (ws?.getBufferedAmount) {
    try {
      bytes += ws.getBufferedAmount();
    } catch {
      // uWS throws on a WebSocket that has closed; nothing is queued there any more.
    }
  }
  for (const p of conn.writeBuffer ?? []) {
    if (bytes > cap) break;
    bytes += packetBytes(p.data);
  }
  return bytes;
}

/**
 * Polls agents marked "behind" until their queue has drained, then hands them back (the registry asks
 * the tab for a fresh snapshot). A timer rather than uWS's drain callback: engine.io owns the uWS
 * `ws` behavior and does not expose drain, and polling sockets have no such event at all. The timer
 * only runs while someone is behind.
 */
export class DrainWatcher<K> {
  private readonly waiting = new Map<K, () => number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly lowWaterBytes: number,
    private readonly onDrained: (key: K) => void,
    private readonly intervalMs = 100,
  ) {}

  watch(key: K, buffered: () => number): void {
    this.waiting.set(key, buffered);
    if (!this.timer) {
      this.timer = setInterval(() => this.check(), this.intervalMs);
      this.timer.unref();
    }
  }

  forget(key: K): void {
    this.waiting.delete(key);
    if (!this.waiting.size) this.stop();
  }

  get size(): number {
    return this.waiting.size;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    for (const [key, buffered] of this.waiting) {
      if (buffered() > this.lowWaterBytes) continue;
      this.waiting.delete(key);
      this.onDrained(key);
    }
    if (!this.waiting.size) this.stop();
  }
}
