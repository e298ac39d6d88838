import { describe, expect, it } from 'vitest';
import { classifyResponse, Transport } from '../src/transport.js';

describe('classifyResponse', () => {
  it('2xx is ok with the ackSeq', () => {
    expect(classifyResponse(200, { ackSeq: 12 })).toEqual({ kind: 'ok', ackSeq: 12 });
  });
  it('400 drops the batch (bad input never gets better)', () => {
    const r = classifyResponse(400, { error: { code: 'bad_json', message: 'nope' } });
    expect(r).toMatchObject({ kind: 'drop', status: 400, code: 'bad_json' });
  });
  it('401 asks for a new token', () => {
    expect(classifyResponse(401, { error: { code: 'unauthorized', message: 'expired' } }).kind).toBe('unauthorized');
  });
  it('413 splits', () => {
    expect(classifyResponse(413, null).kind).toBe('too_large');
  });
  it.each([429, 500, 502, 503, 0])('%i retries later', (status) => {
    expect(classifyResponse(status, null).kind).toBe('retry');
  });
  it('honours Retry-After on 429', () => {
    expect(classifyResponse(429, null, '7')).toMatchObject({ kind: 'retry', retryAfterMs: 7_000 });
  });
});

interface Call {
  url: string;
  init: RequestInit;
}

function fakeFetch(answer: () => Response | Promise<Response>) {
  const calls: Call[] = [];
  const f = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return answer();
  }) as unknown as typeof fetch;
  return { f, calls };
}

describe('Transport.sendBatch', () => {
  it('is a CORS simple request: text/plain, token in the query, no Authorization, no cookies', async () => {
    const { f, calls } = fakeFetch(() => new Response(JSON.stringify({ ackSeq: 3 }), { status: 200 }));
    const t = new Transport('https://ingest.test', f);
    const r = await t.sendBatch('a b/c', new Uint8Array([0x1f, 0x8b]), true);
    expect(r).toEqual({ kind: 'ok', ackSeq: 3 });
    const { url, init } = calls[0];
    expect(url).toBe('https://ingest.test/ingest/v1/batch?token=a%20b%2Fc');
    const headers = new Headers(init.headers);
    expect(headers.get('content-type')).toBe('text/plain');
    expect([...headers.keys()]).toEqual(['content-type']);
    expect(init.credentials).toBe('omit');
    expect(init.keepalive).toBe(true);
    expect(init.method).toBe('POST');
  });

  it('turns a network failure into a retry, never a throw', async () => {
    const { f } = fakeFetch(() => {
      throw new TypeError('Failed to fetch');
    });
    const r = await new Transport('https://ingest.test', f).sendBatch('t', 'x', false);
    expect(r).toMatchObject({ kind: 'retry', status: 0 });
  });

  it('copes with a non-JSON error body', async () => {
    const { f } = fakeFetch(() => new Response('<html>bad gateway</html>', { status: 502 }));
    const r = await new Transport('https://ingest.test', f).sendBatch('t', 'x', false);
    expect(r).toMatchObject({ kind: 'retry', status: 502 });
  });
});

describe('Transport.start', () => {
  it('posts the StartRequest and returns the answer', async () => {
    const answer = { v: 1, sessionId: 's', tabId: 't', visitorId: 'v', token: 'k', tokenExpiresAt: 1, serverTime: 1, ackSeq: -1, config: { maxBatchBytes: 1, flushIntervalMs: 1, checkoutEveryNms: 1 } };
    const { f, calls } = fakeFetch(() => new Response(JSON.stringify(answer), { status: 200 }));
    const res = await new Transport('https://ingest.test', f).start({ v: 1, projectKey: 'pk', url: 'https://shop.test/', clientTime: 1 });
    expect(res).toEqual(answer);
    expect(calls[0].url).toBe('https://ingest.test/ingest/v1/start');
    expect(JSON.parse(String(calls[0].init.body)).projectKey).toBe('pk');
  });

  it('throws a TandemError carrying the server code and status', async () => {
    const { f } = fakeFetch(() => new Response(JSON.stringify({ error: { code: 'unknown_project', message: 'no such key' } }), { status: 401 }));
    await expect(new Transport('https://ingest.test', f).start({ v: 1, projectKey: 'x', url: 'u', clientTime: 1 })).rejects.toMatchObject({
      name: 'TandemError',
      code: 'unknown_project',
      status: 401,
    });
  });
});
