import type { ErrorCode } from '@tandem/protocol';

/** Handshake refusals that retrying cannot fix (until a new token, for the first and last). */
export const FATAL_CONNECT_CODES: ReadonlySet<string> = new Set<ErrorCode>(['unauthorized', 'unsupported_version', 'forbidden']);

export type ConnectFailureKind = 'fatal' | 'rate_limited' | 'retry';

/** The server refuses a handshake with `err.message` = code and `err.data` = `{code, message}`. */
export function connectErrorCode(err: unknown): string {
  const e = err as { message?: unknown; data?: { code?: unknown } } | null;
  if (e && e.data && typeof e.data.code === 'string') return e.data.code;
  return e && typeof e.message === 'string' ? e.message : String(err);
}

export function classifyConnectError(code: string): ConnectFailureKind {
  if (FATAL_CONNECT_CODES.has(code)) return 'fatal';
  if (code === 'rate_limited') return 'rate_limited';
  return 'retry';
}

/**
 * Delay before our own retry of a refused handshake (socket.io retries transport failures itself
 * but not a refusal by the server): 1 s doubling to 60 s; rate limited: 5 s doubling to 120 s.
 * Jitter between 50% and 100% spreads a crowd of tabs after a server restart.
 */
export function retryDelay(attempt: number, kind: ConnectFailureKind, random: () => number = Math.random): number {
  const base = kind === 'rate_limited' ? 5_000 : 1_000;
  const cap = kind === 'rate_limited' ? 120_000 : 60_000;
  const d = Math.min(cap, base * 2 ** Math.max(0, Math.min(attempt, 16)));
  return Math.round(d * (0.5 + 0.5 * random()));
}
