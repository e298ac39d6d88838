import { randomUUID } from 'node:crypto';
import type { TandemEvent } from '@tandem/protocol';
import type { Driver, IngestBatch, SessionStart } from '../src/index.js';

/** Event builders shaped like what the tracker sends (rrweb events + seq). */

export const uid = (prefix: string) => `${prefix}-${randomUUID()}`;

const ev = (type: number, seq: number, timestamp: number, data: unknown) => ({ type, seq, timestamp, data }) as unknown as TandemEvent;

export const meta = (seq: number, ts: number, href: string) => ev(4, seq, ts, { href, width: 1280, height: 720 });
export const fullSnapshot = (seq: number, ts: number) =>
  ev(2, seq, ts, { node: { type: 0, childNodes: [], id: 1 }, initialOffset: { top: 0, left: 0 } });
export const click = (seq: number, ts: number) => ev(3, seq, ts, { source: 2, type: 2, id: 5, x: 10, y: 20 });
export const mouseMove = (seq: number, ts: number) =>
  ev(3, seq, ts, { source: 1, positions: [{ x: seq % 100, y: 3, id: 5, timeOffset: 0 }] });
export const consoleLog = (seq: number, ts: number, level: string, ...payload: string[]) =>
  ev(6, seq, ts, { plugin: 'rrweb/console@1', payload: { level, payload, trace: ['at f (app.js:1:2)'] } });
export const custom = (seq: number, ts: number, tag: string, payload: unknown) => ev(5, seq, ts, { tag, payload });
export const jsError = (seq: number, ts: number, message: string) =>
  custom(seq, ts, 'tandem/error@1', { kind: 'error', name: 'TypeError', message, stack: 'TypeError: x\n  at a.js:1:1', source: 'https://s/a.js', line: 1, column: 7 });
export const network = (seq: number, ts: number, url: string, status: number) =>
  custom(seq, ts, 'tandem/network@1', { kind: 'fetch', method: 'post', url, status, startTs: ts - 5, durationMs: 42, requestBytes: 10, responseBytes: 200 });
export const page = (seq: number, ts: number, url: string, title = '') =>
  custom(seq, ts, 'tandem/page@1', { url, title, via: 'pushState' });
export const identify = (seq: number, ts: number, userId: string) => custom(seq, ts, 'tandem/identify@1', { userId });

/** n filler events from seq `from`, 1 ms apart. */
export function moves(from: number, n: number, ts0: number): TandemEvent[] {
  return Array.from({ length: n }, (_, i) => mouseMove(from + i, ts0 + i));
}

export const CHROME_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
export const FIREFOX_UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0';

export function start(projectId: string, sessionId: string, tabId: string, over: Partial<SessionStart> = {}): SessionStart {
  return {
    projectId, sessionId, tabId, visitorId: 'visitor-1', userId: '', startedAt: Date.now(), url: 'https://shop.test/',
    referrer: '', userAgent: CHROME_UA, screen: '1280x720', language: 'en-US', timezone: 'Europe/Paris', ip: '127.0.0.1',
    ...over,
  };
}

export const batch = (projectId: string, sessionId: string, tabId: string, events: TandemEvent[]): IngestBatch =>
  ({ projectId, sessionId, tabId, events });

export async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

/**
 * A driver that passes every call to `real` except those given in `overrides`: how the writer tests watch,
 * hold or refuse some calls (INSERTs into `sessions`, a lookup) of a real ClickHouse.
 */
export function wrapDriver(real: Driver, overrides: Partial<Omit<Driver, 'kind'>>): Driver {
  return {
    kind: real.kind,
    query: (sql, params, o) => real.query(sql, params, o),
    queryLines: (sql, params, format) => real.queryLines(sql, params, format),
    command: (sql, params) => real.command(sql, params),
    insert: (table, rows, o) => real.insert(table, rows, o),
    close: () => real.close(),
    ...overrides,
  };
}
