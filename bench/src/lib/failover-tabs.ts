import { randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { ASSIST_NAMESPACE, PROTOCOL_VERSION } from '@tandem/protocol';
import { RECONNECT, paceReconnect } from '../../../assist-plugin/src/handshake.js';
import { TokenSigner } from '../../../backend/src/auth/tokens.js';
import { rng } from '../ingest-load.js';
import { mutationBatch, startOfRun } from './live-events.js';

/**
 * The failover bench's simulated tabs (bench/src/failover.ts): socket.io clients behaving like the
 * assist plugin (its reconnection pace, `resume` after the first connect, a Meta + FullSnapshot on
 * `live:start`, then 5 small batches/s while forwarding).
 *
 * The unwatched tabs (most of them) live in a child process of their own (TANDEM_FAILOVER_TABS_CHILD),
 * so that their reconnection storm, which on a loaded 2-core machine keeps one process busy for
 * seconds, does not delay the measuring process's own clock readings: at load 30, with every tab in one
 * process, all 26 watched tabs were stamped "reconnected" at the same 3.2 s and "asked for a snapshot"
 * 0 ms later, i.e. when that process got round to it.
 */

/** Brand-new tab sockets per address before the connect limit (config.liveConnectRateLimit burst 50). */
export const TABS_PER_ADDRESS = 40;

export interface SimTab {
  index: number;
  sessionId: string;
  socket: Socket;
  ip: string;
  seq: number;
  forwarding: boolean;
  timer?: NodeJS.Timeout;
  connectedAt: number;
  reconnectedAt: number;
  connects: number;
  /** Failover steps of this tab (0 = not yet): its socket closed, and the next live:start it got. */
  closedAt: number;
  startedAt: number;
}

const newId = () => randomBytes(12).toString('base64url');

export interface TabsContext {
  url: string;
  signer: TokenSigner;
  projectId: string;
  r: () => number;
  /** Handshake refusals the tabs got, by code (connect limit, drain, network). */
  refusals: Record<string, number>;
}

export async function openTab(c: TabsContext, index: number): Promise<SimTab> {
  const sessionId = newId();
  const { token } = await c.signer.signSession({ pid: c.projectId, sid: sessionId, tid: newId(), vid: newId() });
  const ip = `10.${100 + Math.floor(index / TABS_PER_ADDRESS / 250)}.${Math.floor(index / TABS_PER_ADDRESS) % 250}.1`;
  let resume = false;
  const socket = io(c.url + ASSIST_NAMESPACE, {
    transports: ['websocket'], forceNew: true, reconnection: true, reconnectionDelay: RECONNECT.delayMs, reconnectionDelayMax: RECONNECT.maxMs,
    randomizationFactor: RECONNECT.jitter, timeout: 20_000, extraHeaders: { 'x-forwarded-for': ip },
    auth: (cb) => cb({ role: 'tab', v: PROTOCOL_VERSION, token, resume, page: { url: 'https://shop.example.com/cart', title: 'Cart', visible: true, focused: true } }),
  });
  const tab: SimTab = { index, sessionId, socket, ip, seq: 0, forwarding: false, connectedAt: 0, reconnectedAt: 0, connects: 0, closedAt: 0, startedAt: 0 };
  const nextId = { value: 100 };
  socket.on('connect', () => {
    tab.connects++;
    if (!tab.connectedAt) tab.connectedAt = Date.now();
    else tab.reconnectedAt = Date.now();
    resume = true; // as the plugin: once connected, later handshakes resume
    paceReconnect(socket.io, false);
  });
  socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
    const code = err.data?.code ?? err.message;
    c.refusals[code] = (c.refusals[code] ?? 0) + 1;
  });
  socket.on('disconnect', () => {
    if (!tab.closedAt) tab.closedAt = Date.now();
    paceReconnect(socket.io, tab.forwarding); // as the plugin: a watched tab comes back first
    tab.forwarding = false;
    if (tab.timer) clearInterval(tab.timer);
  });
  socket.on('live:start', () => {
    const now = Date.now();
    if (tab.reconnectedAt && !tab.startedAt) tab.startedAt = now;
    socket.emit('live:events', { events: startOfRun(tab.seq, now) });
    tab.seq += 2;
    if (tab.timer) clearInterval(tab.timer);
    tab.forwarding = true;
    // 5 batches/s of 1–2 small mutations while someone watches.
    tab.timer = setInterval(() => {
      if (!socket.connected) return;
      const n = 1 + Math.floor(c.r() * 2);
      socket.emit('live:events', { events: mutationBatch(c.r, tab.seq, Date.now(), n, nextId) });
      tab.seq += n;
    }, 200);
  });
  socket.on('live:stop', () => {
    tab.forwarding = false;
    if (tab.timer) clearInterval(tab.timer);
  });
  return tab;
}

/**
 * Opens tabs `from`..`to` (exclusive) 100 at a time, each batch connected before the next: a real
 * site's tabs arrive over time, and 2,000 handshakes at once on a loaded 2-core machine only measure
 * socket.io's connect timeout.
 */
export async function openTabs(c: TabsContext, from: number, to: number, out: SimTab[]): Promise<void> {
  for (let i = from; i < to; i += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, to - i) }, (_, k) => openTab(c, i + k)));
    out.push(...batch);
    const deadline = Date.now() + 120_000;
    while (!batch.every((t) => t.socket.connected)) {
      if (Date.now() > deadline) {
        throw new Error(`tabs not connected in 120 s (${out.filter((t) => t.socket.connected).length} of ${out.length}; refusals ${JSON.stringify(c.refusals)})`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

// ---------------------------------------------------------------------------------- the child

export type ToTabsChild =
  | { type: 'open'; url: string; secret: string; projectId: string; from: number; to: number; seed: number }
  | { type: 'reset' }
  | { type: 'report' }
  | { type: 'stop' };

export interface TabTimes { index: number; sessionId: string; reconnectedAt: number }

async function childMain(): Promise<void> {
  const tabs: SimTab[] = [];
  let ctx: TabsContext | undefined;
  const send = (m: Record<string, unknown>) => process.send?.(m);
  process.on('message', async (m: ToTabsChild) => {
    try {
      if (m.type === 'open') {
        ctx = { url: m.url, signer: new TokenSigner(m.secret), projectId: m.projectId, r: rng(m.seed), refusals: {} };
        await openTabs(ctx, m.from, m.to, tabs);
        send({ type: 'opened', tabs: tabs.map((t) => ({ index: t.index, sessionId: t.sessionId, reconnectedAt: 0 })) });
      } else if (m.type === 'reset') {
        for (const t of tabs) Object.assign(t, { reconnectedAt: 0, closedAt: 0, startedAt: 0 });
        send({ type: 'reset' });
      } else if (m.type === 'report') {
        const times: TabTimes[] = tabs.map((t) => ({ index: t.index, sessionId: t.sessionId, reconnectedAt: t.reconnectedAt }));
        send({ type: 'report', times, refusals: ctx?.refusals ?? {} });
      } else if (m.type === 'stop') {
        for (const t of tabs) t.socket.disconnect();
        setTimeout(() => process.exit(0), 200);
      }
    } catch (err) {
      send({ type: 'error', message: (err as Error).message });
    }
  });
}

if (process.env.TANDEM_FAILOVER_TABS_CHILD === '1' && process.send) void childMain();
