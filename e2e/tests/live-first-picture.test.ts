/**
 * The live view's first picture is built without side work in the dashboard's own document: rrweb's
 * replayer used to create (and remove) a hidden iframe in the dashboard, in the first picture's animation
 * frame, when it replayed the adopted stylesheet of the user page's assist banner (its "untainted
 * Element prototype" check failed on every page: patches/rrweb-replay-untainted-element.mjs). With the
 * build's patch, only the live stage's own replay iframe is made.
 */
import { describe, expect, it } from 'vitest';
import { useBackendAndBrowser } from './support/fixture.js';
import { agentContext, openLiveView, openUserPage, sessionIdOf, stageFrame, waitForAssist, waitForStageText } from './support/live.js';
import { waitFor } from './support/browser.js';

const e2e = useBackendAndBrowser();

/** In the agent's page, before its scripts: every iframe added to the dashboard's document, and where. */
const IFRAME_WATCH_INIT = `(() => {
  window.__iframesAdded = [];
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) {
      if (n.nodeName !== 'IFRAME') continue;
      window.__iframesAdded.push({ inStage: !!n.closest('[data-testid="live-stage"]'), hidden: n.style.display === 'none', parent: n.parentElement ? n.parentElement.tagName : null });
    }
  }).observe(document, { childList: true, subtree: true });
})();`;

describe('live view first picture', () => {
  it("draws the user's page with no hidden iframe made in the dashboard (rrweb's untainted-prototype check passes)", async () => {
    const userContext = await e2e.browser.newContext();
    const user = await userContext.newPage();
    await openUserPage(user, e2e.backend.url, '<h1>First picture</h1><p id="p">hello</p>');
    const sessionId = await sessionIdOf(user);
    await waitForAssist(user, 'assist socket connected', (s) => s.connected);

    const agent = await agentContext(e2e.browser, e2e.backend.url, await e2e.agentCookie());
    await agent.addInitScript(IFRAME_WATCH_INIT);
    const view = await openLiveView(agent, e2e.backend.url, sessionId);
    await waitForStageText(view, 'First picture');
    // The user's banner (its shadow root's adopted stylesheet is what rrweb replays) is up while watched.
    await waitForAssist(user, 'forwarding', (s) => s.forwarding);
    // Later events (the banner's stylesheet among them) are applied too: a change after them is drawn.
    await user.evaluate(() => {
      document.getElementById('p')!.textContent = 'after the banner';
    });
    await waitForStageText(view, 'after the banner');
    const added = await view.evaluate(() => (window as any).__iframesAdded as { inStage: boolean; hidden: boolean; parent: string | null }[]);
    // The stage's replay iframe was made (the watch works) …
    expect(added.filter((f) => f.inStage).length).toBeGreaterThanOrEqual(1);
    // … and nothing else: no hidden iframe appended to the dashboard's body by the replayer.
    expect(added.filter((f) => !f.inStage)).toEqual([]);
    // Still sandboxed without scripts (the patch touches rrweb's prototype check only).
    await waitFor('the replay iframe', async () => (await stageFrame(view).locator('#p').count()) === 1);
    const sandbox = await view.locator('[data-testid="live-stage"] iframe').first().getAttribute('sandbox');
    expect(sandbox ?? '').not.toContain('allow-scripts');

    await agent.close();
    await userContext.close();
  });
});
