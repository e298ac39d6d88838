import { describe, expect, it } from 'vitest';
import { TandemError } from '@tandem/protocol';
import { requestWatchLink } from '../src/watch-link.js';
import { Tracker } from '../src/tracker.js';

function fakeFetch(answer: () => Response | Promise<Response>) {
  const calls: { url: string; init: RequestInit }[] = [];
  const f = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return answer();
  }) as unknown as typeof fetch;
  return { f, calls };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });

describe('requestWatchLink', () => {
  it('POSTs a CORS simple request with the token in the query and resolves watch_url', async () => {
    const { f, calls } = fakeFetch(() =>
      json(200, { watch_url: 'https://h.test/watch/w1', embed_url: 'https://h.test/embed/w1', sessionId: 's', expiresAt: 1 }),
    );
    await expect(requestWatchLink(f, 'https://h.test', 'a b+c')).resolves.toBe('https://h.test/watch/w1');
    expect(calls[0].url).toBe('https://h.test/ingest/v1/watch_url?token=a%20b%2Bc');
    expect(calls[0].init).toMatchObject({ method: 'POST', body: '{}', mode: 'cors', credentials: 'omit', headers: { 'Content-Type': 'text/plain' } });
  });

  it("rejects with a TandemError carrying the server's code, message and status", async () => {
    const { f } = fakeFetch(() => json(403, { error: { code: 'forbidden', message: 'live assist is off for this project' } }));
    const err = await requestWatchLink(f, 'https://h.test', 't').catch((e) => e);
    expect(err).toBeInstanceOf(TandemError);
    expect(err).toMatchObject({ code: 'forbidden', message: 'live assist is off for this project', status: 403 });
  });

  it('without an error body: unavailable for 5xx, bad_request for 4xx, internal for a 200 without a link', async () => {
    const e5 = await requestWatchLink(fakeFetch(() => new Response('oops', { status: 502 })).f, 'h', 't').catch((e) => e);
    expect(e5).toMatchObject({ code: 'unavailable', status: 502 });
    const e4 = await requestWatchLink(fakeFetch(() => new Response('', { status: 404 })).f, 'h', 't').catch((e) => e);
    expect(e4).toMatchObject({ code: 'bad_request', status: 404 });
    const e2 = await requestWatchLink(fakeFetch(() => json(200, { nope: 1 })).f, 'h', 't').catch((e) => e);
    expect(e2).toMatchObject({ code: 'internal', status: 200 });
  });

  it('a network failure is unavailable with status 0', async () => {
    const f = (async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof fetch;
    const err = await requestWatchLink(f, 'h', 't').catch((e) => e);
    expect(err).toBeInstanceOf(TandemError);
    expect(err).toMatchObject({ code: 'unavailable', status: 0 });
    expect(err.message).toContain('Failed to fetch');
  });
});

describe('Tracker.getWatchLink', () => {
  it('rejects at once when the tracker is disabled (no browser here)', async () => {
    const t = new Tracker({ projectKey: 'pk', ingestUrl: 'https://h.test', onError: () => {} });
    const err = await t.getWatchLink().catch((e) => e);
    expect(err).toBeInstanceOf(TandemError);
  });
});
