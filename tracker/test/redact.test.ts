import { describe, expect, it } from 'vitest';
import { REDACTED, isSensitiveKey, redactUrl } from '../src/redact.js';

describe('redactUrl', () => {
  it('redacts values of sensitive-looking query keys', () => {
    const out = new URL(
      redactUrl('https://api.example.com/x?token=abc&api_key=k1&secret=s&password=p&auth=a&session_id=z&page=2&q=shoes'),
    );
    for (const k of ['token', 'api_key', 'secret', 'password', 'auth', 'session_id']) expect(out.searchParams.get(k)).toBe(REDACTED);
    expect(out.searchParams.get('page')).toBe('2');
    expect(out.searchParams.get('q')).toBe('shoes');
    expect(out.toString()).not.toMatch(/abc|k1|=s&|=p&/);
  });

  it('matches keys case-insensitively and in compound names', () => {
    const out = redactUrl('https://x.test/?accessToken=1&X-Api-Key=2&Authorization=3&sessionid=4&refresh_token=5');
    expect(out).not.toMatch(/=[1-5](&|$)/);
  });

  it('keeps innocent keys that merely contain "key" inside a word', () => {
    const out = new URL(redactUrl('https://x.test/?keyword=boots&monkey=1&key=secret1'));
    expect(out.searchParams.get('keyword')).toBe('boots');
    expect(out.searchParams.get('monkey')).toBe('1');
    expect(out.searchParams.get('key')).toBe(REDACTED);
  });

  it('redacts tokens in the fragment and credentials in the authority', () => {
    const out = redactUrl('https://user:hunter2@x.test/cb#access_token=ya29&state=xyz&section=2');
    expect(out).not.toContain('hunter2');
    expect(out).not.toContain('ya29');
    expect(out).not.toContain('xyz');
    expect(out).toContain('section=2');
  });

  it('leaves a plain hash anchor alone and resolves relative URLs', () => {
    expect(redactUrl('/demo/#section-2', 'https://shop.test/a/b')).toBe('https://shop.test/demo/#section-2');
    expect(redactUrl('items?token=1', 'https://shop.test/demo/')).toBe(`https://shop.test/demo/items?token=${REDACTED}`);
  });

  it('returns unparseable input unchanged rather than throwing', () => {
    expect(redactUrl('not a url')).toBe('not a url');
  });
});

describe('isSensitiveKey', () => {
  it.each(['token', 'id_token', 'jwt', 'pwd', 'passwd', 'otp', 'code', 'sig', 'signature', 'clientSecret', 'privateKey'])('%s is sensitive', (k) => {
    expect(isSensitiveKey(k)).toBe(true);
  });
  it.each(['page', 'q', 'sort', 'keyword', 'lang', 'utm_source', 'id'])('%s is not', (k) => {
    expect(isSensitiveKey(k)).toBe(false);
  });
});
