import { expect, it } from 'vitest';
import { fetchEvents, useBackendAndBrowser } from './support/fixture.js';
import { waitFor } from './support/browser.js';

const e2e = useBackendAndBrowser();

async function storedSeqs(sessionId: string): Promise<number[]> {
  const text = await fetchEvents(e2e.backend.url, await e2e.agentCookie(), sessionId);
  return text.trim() ? text.trim().split('\n').map((l) => JSON.parse(l).seq as number) : [];
}

it('keeps every event exactly once when the backend is SIGKILLed mid-session and restarted', async () => {
  const context = await e2e.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${e2e.backend.url}/demo/list.html`);
  const sessionId = await waitFor('tracker session', () =>
    page.evaluate(() => new Promise<string>((resolve) => (window as any).Tandem('getSessionId', resolve))),
  );
  // Every event the tracker emits from now on, as the page saw it.
  await page.evaluate(() => {
    (window as any).__maxSeq = -1;
    (window as any).Tandem.tracker.bus.subscribe((e: { seq: number }) => {
      (window as any).__maxSeq = Math.max((window as any).__maxSeq, e.seq);
    });
  });
  const maxSeq = () => page.evaluate(() => (window as any).__maxSeq as number);

  for (let i = 0; i < 3; i++) await page.click('#add-item');
  const before = await waitFor('first events stored', async () => ((await storedSeqs(sessionId)).length > 2 ? storedSeqs(sessionId) : null));
  expect(before[0]).toBe(0);

  await e2e.backend.stop('SIGKILL');
  // The user goes on while the backend is down; the tracker must keep and retry these.
  for (let i = 0; i < 6; i++) {
    await page.click(i % 2 ? '#remove-item' : '#add-item');
    await page.waitForTimeout(400);
  }
    expect(await maxSeq()).toBeGreaterThan(before[before.length - 1]);

  await e2e.backend.start();
  for (let i = 0; i < 3; i++) await page.click('#add-item');
  await page.waitForTimeout(300);
  const last = await maxSeq();

  const seqs = await waitFor(
    `all seqs up to ${last} stored after the restart`,
    async () => {
      const s = await storedSeqs(sessionId);
      return s.length && s[s.length - 1] >= last ? s : null;
    },
    60_000,
    1000,
  );
  // Exactly once: contiguous from 0, no duplicates, nothing lost.
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(seqs).toEqual([...Array(seqs.length).keys()]);
  expect(seqs.length).toBeGreaterThan(last);
  await context.close();
});
