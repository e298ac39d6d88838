import { PROTOCOL_VERSION, type IdentifyPayload, type StartRequest } from '@tandem/protocol';
import { redactUrl } from './redact.js';
import { jsonSafe, safeString, truncate } from './truncate.js';

/** The ids a start request may carry (absent ones are left out). */
export interface StartIds {
  visitorId?: string;
  sessionId?: string;
  tabId?: string;
  userId?: string;
}

/** The start request's identity part; the page's environment is added by `fillEnvironment`. */
export function startRequest(projectKey: string, ids: StartIds): StartRequest {
  const req: StartRequest = {
    v: PROTOCOL_VERSION,
    projectKey,
    url: redactUrl(location.href),
    clientTime: Date.now(),
  };
  if (ids.visitorId) req.visitorId = ids.visitorId;
  if (ids.sessionId) req.sessionId = ids.sessionId;
  if (ids.tabId) req.tabId = ids.tabId;
  if (ids.userId) req.userId = ids.userId;
  return req;
}

export function fillEnvironment(req: StartRequest): void {
  if (document.referrer) req.referrer = redactUrl(document.referrer);
  if (document.title) req.title = truncate(document.title, 300);
  if (typeof navigator !== 'undefined') {
    req.userAgent = navigator.userAgent;
    req.language = navigator.language;
  }
  if (typeof screen !== 'undefined') req.screen = { width: screen.width, height: screen.height };
  req.viewport = { width: window.innerWidth, height: window.innerHeight };
  try {
    req.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    /* old engines */
  }
}

/** Traits: at most 50 keys of primitives, strings cut to 1 KB. */
export function cleanTraits(traits: unknown): IdentifyPayload['traits'] | undefined {
  if (!traits || typeof traits !== 'object') return undefined;
  const out: NonNullable<IdentifyPayload['traits']> = {};
  let n = 0;
  for (const [k, v] of Object.entries(traits as Record<string, unknown>)) {
    if (n++ >= 50) break;
    const key = truncate(k, 100);
    if (v === null || typeof v === 'number' || typeof v === 'boolean') out[key] = v;
    else if (typeof v === 'string') out[key] = truncate(v, 1_000);
    else if (v !== undefined) out[key] = safeString(jsonSafe(v, 1_000) ?? '', 1_000);
  }
  return out;
}
