import type { ChildProcess } from 'node:child_process';
import { createServer, type Server as HttpServer } from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { ASSIST_NAMESPACE, type LiveEventsMessage } from '@tandem/protocol';
import { ClusterRelay } from '../src/live/cluster-relay.js';
import type { AssistNamespace, AssistServer } from '../src/live/types.js';
import { startTestRedis } from './redis-server.js';

/**
 * Live batches to another node's agents (cluster-relay.ts) against a real redis-server and two real
 * socket.io servers sharing it through the Redis adapter, as two backend nodes do: what arrives is what
 * was sent, and in the order it was sent relative to the adapter's own messages to the same socket.
 */
let redis: ChildProcess;
let port: number;
const closers: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  ({ child: redis, port } = await startTestRedis());
});

afterAll(async () => {
  for (const c of closers.reverse()) await c();
  redis?.kill('SIGKILL');
});

interface Node {
  nsp: AssistNamespace;
  relay: ClusterRelay;
  url: string;
  errors: string[];
}

async function node(id: string): Promise<Node> {
  const pub = new Redis(port, '127.0.0.1');
  const sub = pub.duplicate();
  const http: HttpServer = createServer();
  const server = new Server(http, { adapter: createAdapter(pub, sub, { key: 'tandem:sio' }), serveClient: false }) as unknown as AssistServer;
  const nsp = server.of(ASSIST_NAMESPACE);
  const errors: string[] = [];
  const relay = new ClusterRelay({ nodeId: id, pub, sub, server, nsp, log: pino({ level: 'silent' }), onError: (op) => errors.push(op) });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  closers.push(async () => {
    relay.close();
    await server.close();
    // QUIT after what is pending (the adapter unsubscribes as it closes): nothing is cut mid-command.
    await Promise.all([pub.quit(), sub.quit()]).catch(() => {});
  });
  // The subscription is made asynchronously: wait until Redis counts it.
  for (let i = 0; i < 100 && !(await pub.pubsub('NUMSUB', `tandem:relay#${id}`).then((r) => Number(r[1]))); i++) await sleep(20);
  return { nsp, relay, url: `http://127.0.0.1:${(http.address() as net.AddressInfo).port}`, errors };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function agentOn(n: Node): Promise<{ client: ClientSocket; id: string }> {
  const client = connect(n.url + ASSIST_NAMESPACE, { transports: ['websocket'], forceNew: true, reconnection: false });
  closers.push(() => void client.disconnect());
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('connect_error', reject);
  });
  for (let i = 0; i < 100 && !n.nsp.sockets.has(client.id!); i++) await sleep(10);
  return { client, id: client.id! };
}

const batch = (seq: number): LiveEventsMessage => ({
  sessionId: 'session-1', tabId: 'tab-1',
  events: [{ seq, type: 3, timestamp: 1_700_000_000_000 + seq, data: { source: 0, texts: [], attributes: [], removes: [], adds: [{ parentId: 1, nextId: null, node: { type: 3, textContent: `ü "${seq}"\n`, id: 100 + seq } }] } }],
} as unknown as LiveEventsMessage);

describe('ClusterRelay (two socket.io servers, one Redis)', () => {
  it('delivers a batch to agents on the other node once per edge, unchanged, in order with the adapter\'s own messages', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const one = await agentOn(b);
    const two = await agentOn(b);
    const got: [string, unknown][][] = [[], []];
    for (const [i, s] of [one.client, two.client].entries()) {
      s.on('live:events', (m: LiveEventsMessage) => got[i].push(['live:events', m]));
      s.on('agents', (m: unknown) => got[i].push(['agents', m]));
    }
    const published: string[] = [];
    const probe = new Redis(port, '127.0.0.1');
    closers.push(() => void probe.disconnect());
    await probe.subscribe('tandem:relay#node-b');
    probe.on('message', (_c, m: string) => published.push(m));

    // From node A: batches through the relay, other messages through the adapter, interleaved.
    for (let seq = 0; seq < 50; seq++) {
      expect(a.relay.send('node-b', [one.id, two.id], batch(seq))).toBe(true);
      if (seq % 5 === 0) (a.nsp.to([one.id, two.id]).emit as (ev: string, ...args: unknown[]) => boolean)('agents', [{ seq }]);
    }
    const expected: [string, unknown][] = [];
    for (let seq = 0; seq < 50; seq++) {
      expected.push(['live:events', batch(seq)]);
      if (seq % 5 === 0) expected.push(['agents', [{ seq }]]);
    }
    for (let i = 0; i < 200 && (got[0].length < expected.length || got[1].length < expected.length); i++) await sleep(20);
    expect(got[0]).toEqual(expected);
    expect(got[1]).toEqual(expected);
    // One publish per batch for both agents of that node, not one per agent.
    for (let i = 0; i < 100 && published.length < 50; i++) await sleep(20);
    expect(published).toHaveLength(50);
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
  });

  it('an unknown or disconnected socket id is skipped; the others still get the batch', async () => {
    const a = await node('node-c');
    const b = await node('node-d');
    const agent = await agentOn(b);
    const gone = await agentOn(b);
    gone.client.disconnect();
    for (let i = 0; i < 100 && b.nsp.sockets.has(gone.id); i++) await sleep(10);
    const got: LiveEventsMessage[] = [];
    agent.client.on('live:events', (m: LiveEventsMessage) => got.push(m));
    a.relay.send('node-d', ['no-such-socket', gone.id, agent.id], batch(7));
    for (let i = 0; i < 100 && !got.length; i++) await sleep(20);
    expect(got).toEqual([batch(7)]);
  });
});
