import { describe, expect, it } from 'vitest';
import { takeEarlySocket, type EarlySocketStash } from '../src/lib/live/early-socket';

/** What takeEarlySocket uses of the inline script's WebSocket. */
function stashOf(url: string, readyState: number) {
  const calls = { stop: 0, close: 0 };
  const ws = { readyState, close: () => void calls.close++ } as unknown as WebSocket;
  const stash: EarlySocketStash = { url, ws, queue: [], stop: () => void calls.stop++ };
  return { scope: { __tandemEarlySocket: stash } as { __tandemEarlySocket?: EarlySocketStash }, stash, calls };
}

const URL_ = 'ws://127.0.0.1:4300/socket.io/?EIO=4&transport=websocket';

describe('the early WebSocket (index.html) taken over by the socket.io client', () => {
  it('is handed over once, for the same URL, open or still connecting, and stops its own buffering', () => {
    for (const readyState of [0, 1]) {
      const { scope, stash, calls } = stashOf(URL_, readyState);
      expect(takeEarlySocket(URL_, scope)).toBe(stash);
      expect(calls).toEqual({ stop: 1, close: 0 });
      // A reconnect opens its own.
      expect(takeEarlySocket(URL_, scope)).toBeNull();
    }
  });

  it('is closed and forgotten when the client wants another URL or the socket is closing', () => {
    const other = stashOf(URL_.replace('4300', '4301'), 1);
    expect(takeEarlySocket(URL_, other.scope)).toBeNull();
    expect(other.calls).toEqual({ stop: 1, close: 1 });
    expect(other.scope.__tandemEarlySocket).toBeUndefined();
    const closing = stashOf(URL_, 2);
    expect(takeEarlySocket(URL_, closing.scope)).toBeNull();
    expect(closing.calls.close).toBe(1);
  });

  it('is none when the page did not open one (other routes, development)', () => {
    expect(takeEarlySocket(URL_, {})).toBeNull();
  });
});
