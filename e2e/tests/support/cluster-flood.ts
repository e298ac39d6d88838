import { io, type Socket } from 'socket.io-client';
import { ASSIST_NAMESPACE, PROTOCOL_VERSION } from '@tandem/protocol';
import { connected } from './cluster-tabs.js';

/**
 * Raw tab sockets for the connect-limit tests: each claims a client address (`x-forwarded-for`, trusted
 * from loopback), so a flood from one address and tabs resuming after a failover can be told apart.
 */
export function tabSocket(baseUrl: string, token: string, ip: string, resume: boolean): Socket {
  return io(`${baseUrl}${ASSIST_NAMESPACE}`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: { role: 'tab', v: PROTOCOL_VERSION, token, resume, page: { url: 'https://shop.example/cart', title: 'Cart', visible: true, focused: true } },
    extraHeaders: { 'x-forwarded-for': ip },
  });
}

/**
 * One connection attempt: 'ok', the refusal's code, or 'network' (no node answered). A new socket is
 * closed at once; a resuming one stays open (pushed to `keep`, for the test file's afterAll).
 */
export async function tryConnect(baseUrl: string, token: string, ip: string, resume: boolean, keep: Socket[]): Promise<string> {
  const s = tabSocket(baseUrl, token, ip, resume);
  try {
    await connected(s);
    return 'ok';
  } catch (err) {
    const e = err as Error & { data?: { code?: string } };
    return e.data?.code ?? 'network';
  } finally {
    if (!resume) s.disconnect();
    else keep.push(s);
  }
}

/** How many times each result occurs, for a failure message. */
export function countResults(results: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) out[r] = (out[r] ?? 0) + 1;
  return out;
}
