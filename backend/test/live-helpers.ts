import { io, type Socket } from 'socket.io-client';
import {
  ASSIST_NAMESPACE, ASSIST_SOCKET_PATH, PROTOCOL_VERSION, type AssistConnectError, type ClientToServerEvents,
  type ServerToClientEvents, type StartResponse, type TabPage,
} from '@tandem/protocol';
import type { RunningServer } from '../src/index.js';

export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

export const PAGE: TabPage = { url: 'http://shop.test/', title: 'Shop', visible: true, focused: true };
export const CHROME_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

let ipCounter = 0;
/** A fresh client address per connection (the server reads X-Forwarded-For like HTTP does), so the
 * per-IP connect limit only bites where a test means it to. */
export function freshIp(): string {
  ipCounter++;
  return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

export interface ConnectOptions {
  ip?: string;
  headers?: Record<string, string>;
  transports?: ('websocket' | 'polling')[];
}

function open(server: RunningServer, auth: Record<string, unknown>, opts: ConnectOptions): Client {
  return io(server.url + ASSIST_NAMESPACE, {
    path: ASSIST_SOCKET_PATH,
    transports: opts.transports ?? ['websocket'],
    auth,
    extraHeaders: { 'x-forwarded-for': opts.ip ?? freshIp(), 'user-agent': CHROME_UA, ...opts.headers },
    reconnection: false,
    forceNew: true,
  }) as Client;
}

/**
 * How long a connect or an ack may take before the test fails naming it: far above any answer seen
 * under the full suite's load, far under the 60 s test timeout, so a hang says where it is.
 */
const ANSWER_MS = 20_000;
const CONNECT_MS = 25_000;

/** Resolves once connected; rejects with the server's AssistConnectError when refused. */
export function connected(socket: Client): Promise<Client> {
  return new Promise((resolve, reject) => {
    // Longer than socket.io-client's own 20 s connect timeout, which reports a transport that never
    // opened as connect_error "timeout"; this one fires when the transport opened but the namespace's
    // handshake (the server's middleware) never answered, and says how far the client got.
    const timer = setTimeout(() => {
      const engine = (socket.io as unknown as { engine?: { readyState?: string; transport?: { name?: string } } }).engine;
      reject(new Error(`no connect within ${CONNECT_MS} ms (engine ${engine?.readyState ?? 'none'}, transport ${engine?.transport?.name ?? 'none'}, auth role ${(socket.auth as { role?: string })?.role ?? 'agent'})`));
    }, CONNECT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('connect_error', (err: Error & { data?: AssistConnectError }) => {
      clearTimeout(timer);
      socket.close();
      reject(Object.assign(new Error(err.message), { data: err.data }));
    });
  });
}

export function tabSocket(server: RunningServer, tab: StartResponse, opts: ConnectOptions & { resume?: boolean; page?: TabPage; v?: number } = {}): Client {
  return open(server, { role: 'tab', v: opts.v ?? PROTOCOL_VERSION, token: tab.token, resume: opts.resume ?? false, page: opts.page ?? PAGE }, opts);
}

export function agentSocket(server: RunningServer, auth: { cookie?: string; watchToken?: string; v?: number }, opts: ConnectOptions = {}): Client {
  return open(
    server,
    { role: 'agent', v: auth.v ?? PROTOCOL_VERSION, ...(auth.watchToken ? { watchToken: auth.watchToken } : {}) },
    { ...opts, headers: { ...(auth.cookie ? { cookie: auth.cookie } : {}), ...opts.headers } },
  );
}

/** A refused handshake: `errMessage` is connect_error's message (the code), `data` its AssistConnectError. */
export async function refusal(socket: Client): Promise<{ errMessage: string; data: AssistConnectError | undefined }> {
  try {
    await connected(socket);
  } catch (err) {
    const e = err as Error & { data?: AssistConnectError };
    return { errMessage: e.message, data: e.data };
  }
  socket.close();
  throw new Error('expected the handshake to be refused');
}

/** Records every emission of the given events, in order, as [event, payload]. */
export function record(socket: Client, events: string[]): { log: [string, any][]; of(name: string): any[] } {
  const log: [string, any][] = [];
  for (const name of events) (socket as unknown as { on(e: string, fn: (...a: any[]) => void): void }).on(name, (...args: any[]) => log.push([name, args[0]]));
  return { log, of: (name: string) => log.filter(([n]) => n === name).map(([, p]) => p) };
}

export async function waitFor<T>(check: () => T | undefined | false, timeoutMs = 5_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Emits with an ack and resolves with the ack's value; rejects, naming the event, when none comes. */
export function call<T>(socket: Client, event: string, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack to ${event} within ${ANSWER_MS} ms`)), ANSWER_MS);
    (socket as unknown as { emit(e: string, ...a: unknown[]): void }).emit(event, ...args, (value: T) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}
