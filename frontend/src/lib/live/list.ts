import type { AgentPresence, LiveSession, LiveTab } from '@tandem/protocol';
import { displayUrl, formatDuration, shortId } from '../format';

/** How many live sessions the grid shows at once (DESIGN.md §1). */
export const GRID_MAX = 4;

/** The tab the user is on, else the first one. */
export function activeTab(session: LiveSession): LiveTab | undefined {
  return session.tabs.find((t) => t.tabId === session.activeTabId) ?? session.tabs[0];
}

export interface LiveRowView {
  sessionId: string;
  /** userId, or "anonymous" + a short visitor id */
  user: string;
  anonymous: boolean;
  visitor: string;
  pageTitle: string;
  pageUrl: string;
  /** url without the scheme, for a narrow column */
  pageDisplay: string;
  tabs: number;
  startedAt: number;
  agents: string[];
  browser: string;
  os: string;
  awaitingConsent: boolean;
}

export function liveRow(session: LiveSession): LiveRowView {
  const tab = activeTab(session);
  return {
    sessionId: session.sessionId,
    user: session.userId || tab?.userId || 'anonymous',
    anonymous: !(session.userId || tab?.userId),
    visitor: shortId(session.visitorId),
    pageTitle: tab?.title ?? '',
    pageUrl: tab?.url ?? '',
    pageDisplay: tab ? displayUrl(tab.url) : '',
    tabs: session.tabs.length,
    startedAt: session.startedAt,
    agents: agentNames(session.agents),
    browser: session.browser,
    os: session.os,
    awaitingConsent: session.awaitingConsent,
  };
}

/** Names of agents (deduplicated: one agent may watch from two dashboards), optionally without one id. */
export function agentNames(agents: readonly AgentPresence[], exceptId?: string): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const agent of agents) {
    if (agent.id === exceptId || seen.has(agent.id)) continue;
    seen.add(agent.id);
    names.push(agent.name || agent.id);
  }
  return names;
}

/** "for 3m 12s": how long the session has been going, on the server clock. */
export function liveDuration(startedAt: number, serverNow: number): string {
  return formatDuration(Math.max(0, serverNow - startedAt));
}

/** Newest session first; ties by id so rows do not jump between updates. */
export function sortLive(sessions: readonly LiveSession[]): LiveSession[] {
  return [...sessions].sort((a, b) => b.startedAt - a.startedAt || a.sessionId.localeCompare(b.sessionId));
}

/** Ticks a session id on or off the grid selection, keeping at most `max` (extra picks are refused). */
export function toggleSelection(selected: readonly string[], id: string, max = GRID_MAX): string[] {
  if (selected.includes(id)) return selected.filter((s) => s !== id);
  if (selected.length >= max) return [...selected];
  return [...selected, id];
}

/** Drops picks of sessions that are not live any more. */
export function keepLive(selected: readonly string[], sessions: readonly LiveSession[]): string[] {
  const live = new Set(sessions.map((s) => s.sessionId));
  const kept = selected.filter((id) => live.has(id));
  return kept.length === selected.length ? (selected as string[]) : kept;
}

const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** `ids=a,b,c` of the grid route: valid ids, without repeats, at most `max`. */
export function parseGridIds(raw: string | null, max = GRID_MAX): string[] {
  if (!raw) return [];
  const ids: string[] = [];
  for (const part of raw.split(',')) {
    const id = part.trim();
    if (ID_RE.test(id) && !ids.includes(id)) ids.push(id);
    if (ids.length >= max) break;
  }
  return ids;
}

/** The grid's hash query for `ids` (commas left readable). */
export function gridQuery(ids: readonly string[]): string {
  return ids.length ? `ids=${ids.map(encodeURIComponent).join(',')}` : '';
}
