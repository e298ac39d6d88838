import { describe, expect, it } from 'vitest';
import { formatBytes, formatClock, formatDuration, formatMs, formatRelative, urlPath } from '../src/lib/format';

describe('formatClock', () => {
  it('shows minutes and seconds, hours only when needed', () => {
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(5_400)).toBe('0:05');
    expect(formatClock(754_000)).toBe('12:34');
    expect(formatClock(3_723_000)).toBe('1:02:03');
  });
  it('clamps negative times', () => {
    expect(formatClock(-500)).toBe('0:00');
  });
});

describe('formatDuration', () => {
  it('uses the two largest units', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(45_900)).toBe('45s');
    expect(formatDuration(192_000)).toBe('3m 12s');
    expect(formatDuration(180_000)).toBe('3m');
    expect(formatDuration(3_840_000)).toBe('1h 4m');
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(183_600_000)).toBe('2d 3h');
  });
});

describe('formatBytes and formatMs', () => {
  it('scales by 1024', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1_258_291)).toBe('1.2 MB');
    expect(formatBytes(150 * 1024)).toBe('150 KB');
  });
  it('switches to seconds at 1000 ms', () => {
    expect(formatMs(87.4)).toBe('87 ms');
    expect(formatMs(1_430)).toBe('1.4 s');
  });
});

describe('formatRelative', () => {
  const now = Date.UTC(2024, 0, 10, 12);
  it('describes recent and older times', () => {
    expect(formatRelative(now - 2_000, now)).toBe('just now');
    expect(formatRelative(now - 30_000, now)).toBe('30 sec. ago');
    expect(formatRelative(now - 5 * 60_000, now)).toBe('5 min. ago');
    expect(formatRelative(now - 3 * 3_600_000, now)).toBe('3 hr. ago');
    expect(formatRelative(now - 24 * 3_600_000, now)).toBe('yesterday');
  });
});

describe('urlPath', () => {
  it('drops the origin and keeps query and hash', () => {
    expect(urlPath('https://shop.example/cart?x=1#top')).toBe('/cart?x=1#top');
    expect(urlPath('not a url')).toBe('not a url');
  });
});
