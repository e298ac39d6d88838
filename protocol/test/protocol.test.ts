import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERROR_STATUS, PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS, TANDEM_EVENT, TandemError, isErrorBody } from '../src/index.js';

describe('protocol', () => {
  it('gives every error code a 4xx/5xx status', () => {
    for (const code of ERROR_CODES) {
      expect(ERROR_STATUS[code], code).toBeGreaterThanOrEqual(400);
      expect(ERROR_STATUS[code], code).toBeLessThan(600);
    }
  });

  it('keeps error codes append-only: the first codes keep their positions', () => {
    // Deprecate, never renumber: published clients may switch on these.
    expect(ERROR_CODES.slice(0, 6)).toEqual(['bad_json', 'bad_request', 'unsupported_version', 'unknown_project', 'origin_not_allowed', 'unauthorized']);
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });

  it('serialises TandemError as the HTTP error body', () => {
    const err = new TandemError('payload_too_large', 'too big');
    expect(err.status).toBe(413);
    expect(err.toBody()).toEqual({ error: { code: 'payload_too_large', message: 'too big' } });
    expect(isErrorBody(err.toBody())).toBe(true);
    expect(isErrorBody({ error: 'nope' })).toBe(false);
  });

  it('serves its own version and versions its event tags', () => {
    expect(SUPPORTED_PROTOCOL_VERSIONS).toContain(PROTOCOL_VERSION);
    for (const tag of Object.values(TANDEM_EVENT)) expect(tag).toMatch(/^tandem\/[a-z-]+@\d+$/);
  });
});
