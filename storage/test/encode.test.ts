import { describe, expect, it } from 'vitest';
import { chTime, checkIdentifier, decodeCursor, encodeCursor, toTabSeparated } from '../src/encode.js';

describe('encode', () => {
  it('formats epoch ms as UTC DateTime64 text, clamped to the type range', () => {
    expect(chTime(1_795_386_060_045)).toBe('2026-11-22 22:21:00.045');
    expect(chTime(1_795_386_061_000)).toBe('2026-11-22 22:21:01.000');
    expect(chTime(1_795_386_060_007)).toBe('2026-11-22 22:21:00.007');
    expect(chTime(-5)).toBe('1970-01-01 00:00:00.000');
    expect(chTime(Number.NaN)).toBe('1970-01-01 00:00:00.000');
    expect(chTime(1e20)).toBe('2299-12-31 00:00:00.000');
  });

  it('escapes TSV cells and refuses non-primitive values', () => {
    const rows = [{ a: 'x\ty\nz\\w\r', b: 3, c: true, d: null }];
    expect(toTabSeparated(rows, ['a', 'b', 'c', 'd'])).toBe('x\\ty\\nz\\\\w\\r\t3\t1\t\\N');
    expect(toTabSeparated([{ a: ['x'] }], ['a'])).toBeNull();
  });

  it('round-trips cursors and rejects garbage', () => {
    const c = encodeCursor(1_795_386_060_045, 'sess-1');
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c)).toEqual({ startedAt: 1_795_386_060_045, sessionId: 'sess-1' });
    expect(decodeCursor('%%%')).toBeNull();
    expect(decodeCursor(Buffer.from('[1,2]').toString('base64url'))).toBeNull();
  });

  it('accepts only plain identifiers as database names', () => {
    expect(checkIdentifier('tandem_test_1')).toBe('tandem_test_1');
    expect(() => checkIdentifier('x; DROP DATABASE y')).toThrow();
    expect(() => checkIdentifier('1abc')).toThrow();
  });
});
