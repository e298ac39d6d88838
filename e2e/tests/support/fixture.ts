import { rm } from 'node:fs/promises';
import { afterAll, beforeAll } from 'vitest';
import type { Browser } from 'playwright-core';
import { openStore, type TandemStore as Store } from '@tandem/storage';
import { ADMIN, BackendProcess, freePort, tempDataDir } from './backend-process.js';
import { launchChromium } from './browser.js';

export interface E2E {
  backend: BackendProcess;
  browser: Browser;
  dataDir: string;
  /** The admin's cookie, signed in through the API once (for reading what was stored). */
  agentCookie(): Promise<string>;
}

/**
 * One real backend process (temp data dir, free port) and one Chromium per test file, torn down after
 * it. The returned object is filled in by beforeAll, so read its fields inside tests only. `env` is
 * added to the backend's environment, `chromiumArgs` to Chromium's flags (e.g. WEBRTC_CHROMIUM_ARGS).
 */
export function useBackendAndBrowser(opts: { env?: Record<string, string>; chromiumArgs?: string[] } = {}): E2E {
  const e2e = {} as E2E;
  beforeAll(async () => {
    e2e.dataDir = await tempDataDir();
    e2e.backend = new BackendProcess(await freePort(), e2e.dataDir, opts.env);
    await e2e.backend.start();
    e2e.browser = await launchChromium(opts.chromiumArgs);
    // Signed in once: logins are rate limited (as they should be), and the cookie outlives restarts
    // because the signing secret is kept in the data dir.
    let cookie: Promise<string> | null = null;
    e2e.agentCookie = () =>
      (cookie ??= fetch(`${e2e.backend.url}/api/v1/auth/login`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN),
      }).then((res) => {
        const set = res.headers.get('set-cookie');
        if (!set) throw new Error(`login failed with ${res.status}`);
        return set.split(';')[0];
      }));
  });
  afterAll(async () => {
    await e2e.browser?.close();
    await e2e.backend?.stop('SIGKILL');
    if (e2e.dataDir) await rm(e2e.dataDir, { recursive: true, force: true });
  });
  return e2e;
}

/**
 * Runs `work` on the backend's storage directly: storage belongs to one process, so the backend is stopped
 * (SIGTERM, it flushes) while `work` runs and started again after, also when `work` throws.
 */
export async function withStorage<T>(e2e: E2E, work: (store: Store) => Promise<T>): Promise<T> {
  await e2e.backend.stop('SIGTERM');
  try {
    const store = await openStore({ dataDir: e2e.dataDir });
    try {
      return await work(store);
    } finally {
      await store.close();
    }
  } finally {
    await e2e.backend.start();
  }
}

/** The e2e project's id (the project the backend creates for PROJECT_KEY). */
export async function projectIdOf(store: Store, key: string): Promise<string> {
  const project = await store.getProjectByKey(key);
  if (!project) throw new Error(`the e2e project ${key} is missing`);
  return project.id;
}

/**
 * Adds an agent (role `agent`) to the project through the settings API, as the admin whose cookie is
 * given, and signs it in at `baseUrl`: returns its login cookie (`tandem_agent=...`). The email is unique
 * per call.
 */
export async function signInNewAgent(baseUrl: string, adminCookie: string, name: string): Promise<string> {
  const email = `${name.toLowerCase().replace(/\W+/g, '-')}-${Date.now()}@example.com`;
  const password = 'second-agent-password';
  const added = await fetch(`${baseUrl}/api/v1/agents`, {
    method: 'POST',
    headers: { cookie: adminCookie, 'content-type': 'application/json' },
    body: JSON.stringify({ email, name, password, role: 'agent' }),
  });
  if (added.status !== 200) throw new Error(`adding agent ${name} failed with ${added.status}: ${await added.text()}`);
  const login = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }),
  });
  const cookie = login.headers.get('set-cookie');
  if (login.status !== 200 || !cookie) throw new Error(`signing in agent ${name} failed with ${login.status}`);
  return cookie.split(';')[0];
}

/** The stored events of a session, as the dashboard's NDJSON stream returns them. */
export async function fetchEvents(baseUrl: string, cookie: string, sessionId: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/v1/sessions/${sessionId}/events`, { headers: { cookie } });
  return res.text();
}
