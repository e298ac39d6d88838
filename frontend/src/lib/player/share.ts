/**
 * Share links: `#/sessions/<id>?t=<ms since the session's first event>` opens the session paused at
 * that moment; `&tab=<tabId>` picks a tab other than the first. The time counts from the session's
 * start (not the tab's) so one link means one moment whichever tab it shows.
 */

export interface ShareTarget {
  /** ms since the session's first event; null when the link has none (or a malformed one) */
  t: number | null;
  tabId: string | null;
}

export function parseShareTime(params: URLSearchParams): ShareTarget {
  const raw = params.get('t');
  const t = raw !== null && /^\d+(\.\d+)?$/.test(raw.trim()) ? Math.floor(Number(raw)) : null;
  const tabId = params.get('tab');
  return { t: t !== null && Number.isFinite(t) ? t : null, tabId: tabId || null };
}

/** The link to `sessionId` at `t` ms since its start, on the dashboard at `base` (origin + path). */
export function shareLink(base: string, sessionId: string, t: number, tabId: string | null): string {
  const params = new URLSearchParams({ t: String(Math.max(0, Math.round(t))) });
  if (tabId) params.set('tab', tabId);
  return `${base}#/sessions/${encodeURIComponent(sessionId)}?${params}`;
}
