import { beforeEach, describe, expect, it, vi } from 'vitest';

/** The IndexedDB store's opener arrives with the idle chunk (gzip-sync.ts); each test gets the module fresh. */
async function fresh() {
  vi.resetModules();
  return import('../src/gzip-sync.js');
}

beforeEach(() => {
  vi.useRealTimers();
});

describe('the store opener from the idle chunk', () => {
  it('reaches whoever waits for it when the chunk brings it', async () => {
    const m = await fresh();
    const opener = async () => null;
    const waiting = m.storeOpenerWithin(10_000);
    m.setStoreOpener(opener);
    expect(await waiting).toBe(opener);
    expect(await m.storeOpenerWithin(0)).toBe(opener); // later callers get it at once
  });

  it('lets waiters go on without a store when the chunk cannot load, or at their deadline', async () => {
    const m = await fresh();
    const failed = m.storeOpenerWithin(10_000);
    m.setStoreOpener(null);
    expect(await failed).toBeNull();
    vi.useFakeTimers();
    const late = m.storeOpenerWithin(30_000);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(await late).toBeNull();
  });
});
