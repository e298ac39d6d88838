import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@tandem/protocol';
import { ResumeFlags, RESUME_KEY_PREFIX, buildTabHandshake, socketTarget } from '../src/handshake.js';
import { classifyConnectError, connectErrorCode, retryDelay } from '../src/retry.js';

const page = { url: 'https://shop.test/cart', title: 'Cart', visible: true, focused: false };

function memoryStorage() {
  const m = new Map<string, string>();
  return { m, getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
}

describe('handshake', () => {
  it('builds the TabHandshake of the protocol', () => {
    expect(buildTabHandshake('tok', false, page)).toEqual({ role: 'tab', v: PROTOCOL_VERSION, token: 'tok', resume: false, page });
  });

  it('resume: false for a new tab, true after a connect, and on a later page of the same tab', () => {
    const storage = memoryStorage();
    const a = new ResumeFlags(storage);
    expect(a.has('tab1')).toBe(false);
    a.mark('tab1');
    expect(a.has('tab1')).toBe(true);
    expect(storage.m.get(RESUME_KEY_PREFIX + 'tab1')).toBe('1');
    const nextPage = new ResumeFlags(storage);
    expect(nextPage.has('tab1')).toBe(true);
    expect(nextPage.has('tab2')).toBe(false);
  });

  it('resume works in memory when storage throws', () => {
    const f = new ResumeFlags({
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
    });
    expect(f.has('t')).toBe(false);
    f.mark('t');
    expect(f.has('t')).toBe(true);
  });

  it('socket target: origin + /assist, path under a prefix, ignore prefix for network capture', () => {
    expect(socketTarget('https://tandem.example.com')).toEqual({
      url: 'https://tandem.example.com/assist',
      path: '/socket.io',
      ignorePrefix: 'https://tandem.example.com/socket.io/',
    });
    expect(socketTarget('https://h.test/tandem/')).toEqual({
      url: 'https://h.test/assist',
      path: '/tandem/socket.io',
      ignorePrefix: 'https://h.test/tandem/socket.io/',
    });
    expect(socketTarget('/relative', 'http://127.0.0.1:4300/page').url).toBe('http://127.0.0.1:4300/assist');
  });
});

describe('connect errors', () => {
  it('reads the code from data.code or the message', () => {
    const e = Object.assign(new Error('rate_limited'), { data: { code: 'rate_limited', message: 'slow down' } });
    expect(connectErrorCode(e)).toBe('rate_limited');
    expect(connectErrorCode(new Error('unauthorized'))).toBe('unauthorized');
    expect(connectErrorCode(new Error('xhr poll error'))).toBe('xhr poll error');
  });

  it('unauthorized / unsupported_version / forbidden stop; rate_limited backs off longer', () => {
    expect(classifyConnectError('unauthorized')).toBe('fatal');
    expect(classifyConnectError('unsupported_version')).toBe('fatal');
    expect(classifyConnectError('forbidden')).toBe('fatal');
    expect(classifyConnectError('rate_limited')).toBe('rate_limited');
    expect(classifyConnectError('internal')).toBe('retry');
    const max = () => 1;
    expect(retryDelay(0, 'retry', max)).toBe(1_000);
    expect(retryDelay(3, 'retry', max)).toBe(8_000);
    expect(retryDelay(30, 'retry', max)).toBe(60_000);
    expect(retryDelay(0, 'rate_limited', max)).toBe(5_000);
    expect(retryDelay(30, 'rate_limited', max)).toBe(120_000);
    expect(retryDelay(0, 'retry', () => 0)).toBe(500);
  });
});
