import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ADMIN, PROJECT_KEY } from './support/backend-process.js';
import { useBackendAndBrowser } from './support/fixture.js';
import { waitFor } from './support/browser.js';
import { agentContext, openUserPage, sessionIdOf, waitForAssist, waitForLiveState, waitForStageText } from './support/live.js';

const e2e = useBackendAndBrowser();
const ARTIFACTS = path.resolve(new URL('../artifacts', import.meta.url).pathname);

async function settingsPage(): Promise<Page> {
  const context = await agentContext(e2e.browser, e2e.backend.url, await e2e.agentCookie());
  const page = await context.newPage();
  page.on('dialog', (d) => void d.accept());
  await page.goto(`${e2e.backend.url}/#/settings`);
  await page.getByTestId('settings-page').waitFor();
  return page;
}

function login(email: string, password: string): Promise<Response> {
  return fetch(`${e2e.backend.url}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }),
  });
}

describe('settings page', () => {
  it('shows the project key and snippet, and creates (once), uses and revokes an API key', async () => {
    const page = await settingsPage();
    expect(await page.getByTestId('settings-project-key').textContent()).toContain(PROJECT_KEY);
    const snippet = (await page.getByTestId('settings-snippet').textContent()) ?? '';
    expect(snippet).toContain('/tracker.js');
    expect(snippet).toContain(PROJECT_KEY);

    await page.getByTestId('api-key-name').fill('Helpdesk integration');
    await page.getByTestId('api-key-create').click();
    const secretEl = page.getByTestId('api-key-secret');
    await secretEl.waitFor();
    const secret = ((await secretEl.textContent()) ?? '').match(/tk_[A-Za-z0-9_-]+/)?.[0];
    expect(secret).toBeTruthy();
    const row = page.getByTestId('api-key-row').filter({ hasText: 'Helpdesk integration' });
    await row.waitFor();
    // The list never shows the secret again, only its prefix.
    expect(await page.getByTestId('api-keys').textContent()).toContain('Helpdesk integration');
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'settings.png'), fullPage: true });
    await page.reload();
    await page.getByTestId('settings-page').waitFor();
    await row.waitFor();
    expect(await page.getByTestId('api-key-secret').count()).toBe(0);
    expect(await page.content()).not.toContain(secret!);

    // The key works against the REST API (no visitor yet: 404 means it authenticated).
    const mint = () => fetch(`${e2e.backend.url}/api/v1/visitors/nobody-here-123/watch_url`, {
      method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent: { id: 'a', name: 'A' } }),
    });
    expect((await mint()).status).toBe(404);
    await row.getByTestId('api-key-revoke').click();
    await waitFor('row gone', async () => (await row.count()) === 0);
    expect((await mint()).status).toBe(401);
    await page.context().close();
  });

  it('adds an agent who can then sign in, and removes them', async () => {
    const page = await settingsPage();
    const email = `casey-${Date.now()}@example.com`;
    await page.getByTestId('new-agent-email').fill(email);
    await page.getByTestId('new-agent-name').fill('Casey Support');
    await page.getByTestId('new-agent-password').fill('casey-password-1');
    await page.getByTestId('agent-add').click();
    const row = page.getByTestId('agent-row').filter({ hasText: email });
    await row.waitFor();
    expect((await login(email, 'casey-password-1')).status).toBe(200);
    // No remove button on your own row.
    expect(await page.getByTestId('agent-row').filter({ hasText: ADMIN.email }).getByTestId('agent-remove').count()).toBe(0);
    await row.getByTestId('agent-remove').click();
    await waitFor('agent row gone', async () => (await row.count()) === 0);
    expect((await login(email, 'casey-password-1')).status).toBe(401);
    await page.context().close();
  });
});

describe('consent before watching', () => {
  it('asks the user first when the project requires it: nothing is shown until they accept, and a decline ends it', async () => {
    const page = await settingsPage();
    const toggle = page.getByTestId('consent-toggle');
    if (!(await toggle.isChecked())) await toggle.check();
    await page.locator('[data-testid="consent-status"][data-state="saved"]').waitFor();

    const userCtx = await e2e.browser.newContext();
    const user = await userCtx.newPage();
    await openUserPage(user, e2e.backend.url, `<h1>Private account page</h1>`);
    const sessionId = await sessionIdOf(user);
    await waitForAssist(user, 'connected', (s) => s.connected);

    const agentCtx = await agentContext(e2e.browser, e2e.backend.url, await e2e.agentCookie());
    const view = await agentCtx.newPage();
    await view.goto(`${e2e.backend.url}/#/live/${sessionId}`);
    await waitForLiveState(view, 'waiting-consent');
    const prompt = user.locator('[data-tandem-consent]');
    await prompt.waitFor();
    expect(await prompt.textContent()).toContain('Admin');
    // Not a single live event before the answer.
    expect((await waitForAssist(user, 'still idle', (s) => s.consentPending)).sentMessages).toBe(0);

    await user.locator('[data-tandem-consent-accept]').click();
    await waitForLiveState(view, 'live');
    await waitForStageText(view, 'Private account page');
    await view.close();

    // Consent holds for the session: the next agent sees the page without asking again...
    const view2 = await agentCtx.newPage();
    await view2.goto(`${e2e.backend.url}/#/live/${sessionId}`);
    await waitForLiveState(view2, 'live');
    await waitForStageText(view2, 'Private account page');
    // ...until the user stops the watching, which takes the consent back: the next agent is asked again.
    await user.locator('[data-tandem-stop]').click();
    await waitForLiveState(view2, 'ended');
    const view3 = await agentCtx.newPage();
    await view3.goto(`${e2e.backend.url}/#/live/${sessionId}`);
    await waitForLiveState(view3, 'waiting-consent');
    await user.locator('[data-tandem-consent-decline]').click();
    await waitForLiveState(view3, 'ended');
    expect(await view3.getByTestId('live-ended').getAttribute('data-reason')).toBe('consent_declined');
    expect((await waitForAssist(user, 'not forwarding', (s) => !s.forwarding)).forwarding).toBe(false);

    await toggle.uncheck();
    await page.locator('[data-testid="consent-status"][data-state="saved"]').waitFor();
    await agentCtx.close();
    await userCtx.close();
    await page.context().close();
  });
});
