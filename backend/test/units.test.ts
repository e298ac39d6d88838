import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/rate-limit.js';
import { hashPassword, verifyPassword } from '../src/auth/password.js';
import { TokenSigner } from '../src/auth/tokens.js';
import { parseSessionQuery } from '../src/routes/sessions.js';

describe('RateLimiter', () => {
  it('allows the burst, refuses past it, and refills with time', () => {
    let now = 0;
    const rl = new RateLimiter({ perSecond: 2, burst: 3 }, () => now);
    expect([rl.take('a'), rl.take('a'), rl.take('a'), rl.take('a')]).toEqual([true, true, true, false]);
    expect(rl.take('b')).toBe(true); // keys are independent
    now += 500; // one token back at 2/s
    expect([rl.take('a'), rl.take('a')]).toEqual([true, false]);
  });
});

describe('passwords', () => {
  it('hashes with scrypt and a random salt, and verifies only the right password', async () => {
    const a = await hashPassword('s3cret');
    const b = await hashPassword('s3cret');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('s3cret', a)).toBe(true);
    expect(await verifyPassword('s3cret!', a)).toBe(false);
    expect(await verifyPassword('s3cret', 'plain')).toBe(false);
  });
});

describe('tokens', () => {
  it('keeps session and agent tokens apart (audience)', async () => {
    const signer = new TokenSigner('x'.repeat(40));
    const { token } = await signer.signSession({ pid: 'p', sid: 's', tid: 't', vid: 'v' });
    expect(await signer.verifySession(token)).toEqual({ pid: 'p', sid: 's', tid: 't', vid: 'v' });
    await expect(signer.verifyAgent(token)).rejects.toMatchObject({ code: 'unauthorized' });
    const other = new TokenSigner('y'.repeat(40));
    await expect(other.verifySession(token)).rejects.toMatchObject({ code: 'unauthorized' });
  });
});

describe('session query parsing', () => {
  it('parses filters and refuses nonsense', () => {
    expect(parseSessionQuery(new URLSearchParams('hasErrors=true&minDuration=5000&url=/cart'))).toMatchObject({ hasErrors: true, minDuration: 5000, url: '/cart' });
    expect(() => parseSessionQuery(new URLSearchParams('from=yesterday'))).toThrow(/from must be a number/);
    expect(() => parseSessionQuery(new URLSearchParams('hasErrors=maybe'))).toThrow(/hasErrors/);
  });
});

describe('verified-token cache', () => {
  it('answers a repeated token from the cache but still refuses it once expired', async () => {
    const signer = new TokenSigner('z'.repeat(40));
    const { SignJWT } = await import('jose');
    const key = new TextEncoder().encode('z'.repeat(40));
    const soon = Math.floor(Date.now() / 1000) + 2;
    const token = await new SignJWT({ pid: 'p', sid: 's', tid: 't', vid: 'v' })
      .setProtectedHeader({ alg: 'HS256' }).setIssuer('tandem').setAudience('ingest').setExpirationTime(soon).sign(key);
    expect(await signer.verifySession(token)).toEqual({ pid: 'p', sid: 's', tid: 't', vid: 'v' });
    expect(await signer.verifySession(token)).toEqual({ pid: 'p', sid: 's', tid: 't', vid: 'v' });
    await new Promise((r) => setTimeout(r, soon * 1000 - Date.now() + 50));
    await expect(signer.verifySession(token)).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('remembers an agent cookie that verified until it expires, and never for another audience', async () => {
    const { SignJWT } = await import('jose');
    const key = new TextEncoder().encode('k'.repeat(40));
    const signer = new TokenSigner('k'.repeat(40));
    const soon = Math.floor(Date.now() / 1000) + 2;
    const token = await new SignJWT({ pid: 'p' })
      .setProtectedHeader({ alg: 'HS256' }).setSubject('a1').setIssuer('tandem').setAudience('agent').setExpirationTime(soon).sign(key);
    expect(await signer.verifyAgent(token)).toEqual({ sub: 'a1', pid: 'p' });
    expect(await signer.verifyAgent(token)).toEqual({ sub: 'a1', pid: 'p' });
    await expect(signer.verifySession(token)).rejects.toMatchObject({ code: 'unauthorized' });
    await new Promise((r) => setTimeout(r, soon * 1000 - Date.now() + 50));
    await expect(signer.verifyAgent(token)).rejects.toMatchObject({ code: 'unauthorized' });
  });
});
