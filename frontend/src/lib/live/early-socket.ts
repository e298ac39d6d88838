import { WebSocket as WebSocketTransport } from 'engine.io-client';

/**
 * A WebSocket the page opened before any module ran: the build's inline script in index.html
 * (vite.config.ts `liveEarlyJoin`) opens `/socket.io/?EIO=4&transport=websocket` as the HTML is
 * parsed on `#/live/<id>`, so the TCP connection, the upgrade and engine.io's open packet are done
 * while the browser still fetches and evaluates the page's modules. The agent's socket.io client then
 * takes it over (`EarlyWebSocketTransport`) instead of opening its own: its namespace handshake, which
 * carries the join, leaves as soon as the early-join chunk runs. Messages that came before (engine.io's
 * open packet) were kept by the inline script and are handed to the transport in arrival order.
 */
export interface EarlySocketStash {
  url: string;
  ws: WebSocket;
  /** message events received before the take-over, in order */
  queue: MessageEvent[];
  /** removes the inline script's listeners (the transport listens from then on) */
  stop(): void;
}

declare global {
  interface Window {
    __tandemEarlySocket?: EarlySocketStash;
  }
}

/**
 * The early WebSocket if it was opened for exactly `url` and is still usable (once: a reconnect opens
 * a new one). One opened for another URL, or already closing, is closed and forgotten.
 */
export function takeEarlySocket(url: string, scope: { __tandemEarlySocket?: EarlySocketStash } = globalThis as never): EarlySocketStash | null {
  const stash = scope.__tandemEarlySocket;
  if (!stash) return null;
  delete scope.__tandemEarlySocket;
  stash.stop();
  const usable = stash.ws.readyState === 0 /* CONNECTING */ || stash.ws.readyState === 1; /* OPEN */
  if (stash.url === url && usable) return stash;
  try {
    stash.ws.close();
  } catch {
    // already closed
  }
  return null;
}

/**
 * engine.io's browser WebSocket transport, which adopts the page's early WebSocket (above) for its
 * first connection when the URL matches. engine.io attaches its listeners to a transport only after
 * `doOpen` returns (Socket `_open`: open, then setTransport), so what the early socket already did
 * (open, engine.io's open packet) is replayed in a microtask, before any later message's task.
 */
export class EarlyWebSocketTransport extends WebSocketTransport {
  override createSocket(uri: string, protocols: string | string[] | undefined, opts: Record<string, unknown>): WebSocket {
    const early = takeEarlySocket(uri);
    if (!early) return super.createSocket(uri, protocols, opts);
    const { ws, queue } = early;
    queueMicrotask(() => {
      if (this.ws !== ws) return; // closed before the replay
      if (ws.readyState === 1) ws.onopen?.(new Event('open'));
      for (const event of queue) {
        if (this.ws !== ws) return;
        ws.onmessage?.(event);
      }
    });
    return ws;
  }
}
