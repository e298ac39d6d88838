import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket as NetSocket } from 'node:net';
import type { JoinResult, TandemEvent } from '@tandem/protocol';
import { login, startTab, startTestServer, type TestServer } from './helpers.js';
import { agentSocket, call, connected, record, sleep, tabSocket, waitFor } from './live-helpers.js';

// Its own file (and server): a small backpressure threshold, so a slow agent falls behind after a
// few hundred KB instead of 4 MiB.
const THRESHOLD = 256 * 1024;
let server: TestServer;
let cookie: string;
beforeAll(async () => {
  server = await startTestServer({ liveBackpressureBytes: THRESHOLD });
  cookie = await login(server);
});
afterAll(async () => server?.dispose());

const PAD = 'x'.repeat(16 * 1024);

/** `count` events from `from`; a Meta + FullSnapshot first when `meta`. Each ~16 KB. */
function events(from: number, count: number, meta: boolean): TandemEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const seq = from + i;
    if (meta && i === 0) return { seq, type: 4, timestamp: Date.now(), data: { href: 'http://shop.test/', width: 1, height: 1 } };
    if (meta && i === 1) return { seq, type: 2, timestamp: Date.now(), data: { node: { type: 0, childNodes: [], id: 1 }, initialOffset: { top: 0, left: 0 } } };
    return { seq, type: 5, timestamp: Date.now(), data: { tag: 'pad', payload: PAD } };
  }) as unknown as TandemEvent[];
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(20_000) })).text();
  const m = text.match(new RegExp(`^${name} (\\d+)`, 'm'));
  return m ? Number(m[1]) : 0;
}

describe('backpressure', () => {
  it('a slow agent is marked behind instead of losing events, then restarts from a fresh snapshot', async () => {
    const tab = await startTab(server);
    const t = tabSocket(server, tab);
    const tabRec = record(t, ['live:start', 'live:stop']);
    await connected(t);
    const slow = agentSocket(server, { cookie });
    const fast = agentSocket(server, { cookie });
    const slowRec = record(slow, ['live:events', 'live:ended']);
    const fastRec = record(fast, ['live:events']);
    await connected(slow);
    await connected(fast);
    try {
      expect((await call<JoinResult & { ok: boolean }>(slow, 'live:join', { sessionId: tab.sessionId })).ok).toBe(true);
      expect((await call<JoinResult & { ok: boolean }>(fast, 'live:join', { sessionId: tab.sessionId })).ok).toBe(true);
      await waitFor(() => tabRec.of('live:start').length >= 1);
      t.emit('live:events', { events: events(0, 3, true) });
      await waitFor(() => slowRec.of('live:events').length === 1 && fastRec.of('live:events').length === 1, 3_000, 'first batch');

      // The slow agent stops reading its TCP socket: the kernel buffers fill, then the server's queue.
      const raw = (slow.io as unknown as { engine: { transport: { ws: { _socket: NetSocket } } } }).engine.transport.ws._socket;
      raw.pause();
      const behindBefore = await metric('tandem_live_behind_total');
      let seq = 3;
      // Up to ~40 MB in 128 KB batches (under the threshold, so the fast agent, which reads, stays
      // under it), paced; stop as soon as the slow one is behind.
      for (let i = 0; i < 320; i++) {
        t.emit('live:events', { events: events(seq, 8, false) });
        seq += 8;
        await sleep(5);
        if (i % 8 === 7 && (await metric('tandem_live_behind_total')) > behindBefore) break;
      }
      expect(await metric('tandem_live_behind_total')).toBeGreaterThan(behindBefore);
      const sentWhileBehind = seq;
      // More events while it is behind: nothing is queued for it.
      t.emit('live:events', { events: events(seq, 8, false) });
      seq += 8;

      const startsBefore = tabRec.of('live:start').length;
      raw.resume();
      // Once its queue has drained, the tab is asked for a snapshot for it.
      await waitFor(() => tabRec.of('live:start').slice(startsBefore).some((s: { reason: string }) => s.reason === 'behind'), 10_000, 'live:start behind');
      t.emit('live:events', { events: events(seq, 4, true) });
      const restartAt = seq;
      seq += 4;
      await waitFor(() => slowRec.of('live:events').some((m: { events: TandemEvent[] }) => m.events[0].seq === restartAt), 10_000, 'restart');

      // What the slow agent got: consecutive batches up to where it fell behind, then the new run
      // from its Meta — never a batch with a hole in it, never anything after the hole but a Meta.
      const got = slowRec.of('live:events').flatMap((m: { events: TandemEvent[] }) => m.events) as TandemEvent[];
      const restart = got.findIndex((e) => e.seq === restartAt);
      const before = got.slice(0, restart).map((e) => e.seq);
      expect(before).toEqual([...Array(before.length).keys()]);
      expect(before.length).toBeLessThan(sentWhileBehind);
      expect(got[restart].type).toBe(4);
      expect(got.slice(restart).map((e) => e.seq)).toEqual([restartAt, restartAt + 1, restartAt + 2, restartAt + 3]);
      // The fast agent got everything, in order.
      await waitFor(() => fastRec.of('live:events').flatMap((m: { events: TandemEvent[] }) => m.events).length === seq, 10_000, 'fast agent complete');
      const fastSeqs = fastRec.of('live:events').flatMap((m: { events: TandemEvent[] }) => m.events.map((e) => e.seq));
      expect(fastSeqs).toEqual([...Array(seq).keys()]);
      expect(await metric('tandem_live_resyncs_total\\{reason="behind"\\}')).toBeGreaterThanOrEqual(1);
    } finally {
      t.close();
      slow.close();
      fast.close();
    }
  });
});

