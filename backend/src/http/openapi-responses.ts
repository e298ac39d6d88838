import { z } from 'zod';
import {
  CAPABILITIES, type AgentPresence, type Keyframe, type LiveSession, type LiveTab, type PageVisit, type SessionDetail,
  type SessionListResponse, type SessionSummary, type TabInfo, type WatchInfo, type WatchUrlResponse,
} from '@tandem/protocol';

/**
 * Success bodies of the main public routes as zod schemas, for the OpenAPI document (openapi.ts): the
 * protocol types are TypeScript interfaces (protocol/), and these restate them in zod. They cannot
 * drift: each is checked both ways against its protocol type at compile time (`Same` below), so a
 * field added to, removed from or retyped in a protocol interface fails the typecheck until its schema
 * follows. The response tests also parse real answers with them (backend/test/openapi.test.ts).
 */

/** True only when A and B are the same type (each assignable to the other, optional fields included). */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? ([Required<A>] extends [Required<B>] ? ([Required<B>] extends [Required<A>] ? true : false) : false) : false) : false;
export const same = <A, B>(ok: Same<A, B>) => ok;

export const epochMs = z.number().describe('epoch ms');

export const sessionSummarySchema = z.object({
  sessionId: z.string(),
  projectId: z.string(),
  visitorId: z.string(),
  userId: z.string().describe('empty until identify'),
  startedAt: epochMs,
  endedAt: epochMs.describe('epoch ms of the last event'),
  durationMs: z.number(),
  firstUrl: z.string(),
  lastUrl: z.string(),
  pageCount: z.number(),
  eventCount: z.number(),
  errorCount: z.number(),
  consoleErrorCount: z.number(),
  clickCount: z.number(),
  tabCount: z.number(),
  userAgent: z.string(),
  browser: z.string(),
  browserVersion: z.string(),
  os: z.string(),
  device: z.string(),
  country: z.string().optional(),
  screen: z.string(),
}).meta({ id: 'SessionSummary' });
same<z.infer<typeof sessionSummarySchema>, SessionSummary>(true);

export const sessionListResponseSchema = z.object({
  sessions: z.array(sessionSummarySchema),
  nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last page'),
}).meta({ id: 'SessionListResponse' });
same<z.infer<typeof sessionListResponseSchema>, SessionListResponse>(true);

const tabInfoSchema = z.object({ tabId: z.string(), startedAt: epochMs, endedAt: epochMs, eventCount: z.number() });
same<z.infer<typeof tabInfoSchema>, TabInfo>(true);
const pageVisitSchema = z.object({ tabId: z.string(), ts: epochMs, url: z.string(), title: z.string() });
same<z.infer<typeof pageVisitSchema>, PageVisit>(true);
const keyframeSchema = z.object({
  tabId: z.string(), seq: z.number(), ts: epochMs, metaSeq: z.number().describe('-1 when no Meta event precedes it'), metaTs: epochMs,
});
same<z.infer<typeof keyframeSchema>, Keyframe>(true);

export const sessionDetailSchema = sessionSummarySchema.extend({
  tabs: z.array(tabInfoSchema),
  pages: z.array(pageVisitSchema),
  keyframes: z.array(keyframeSchema).describe('where the player can start: a FullSnapshot and the Meta before it'),
}).meta({ id: 'SessionDetail' });
same<z.infer<typeof sessionDetailSchema>, SessionDetail>(true);

const agentPresenceSchema = z.object({ id: z.string(), name: z.string(), via: z.enum(['login', 'watch-link']) });
same<z.infer<typeof agentPresenceSchema>, AgentPresence>(true);
const liveTabSchema = z.object({
  url: z.string(), title: z.string(), visible: z.boolean(), focused: z.boolean(), userId: z.string().optional(),
  tabId: z.string(), connectedAt: epochMs, clockOffsetMs: z.number(), watchers: z.array(z.string()),
});
same<z.infer<typeof liveTabSchema>, LiveTab>(true);
export const liveSessionSchema = z.object({
  sessionId: z.string(), visitorId: z.string(), userId: z.string(), startedAt: epochMs, activeTabId: z.string(),
  tabs: z.array(liveTabSchema), agents: z.array(agentPresenceSchema), browser: z.string(), os: z.string(),
  awaitingConsent: z.boolean(),
}).meta({ id: 'LiveSession' });
same<z.infer<typeof liveSessionSchema>, LiveSession>(true);
export const liveListResponseSchema = z.object({ sessions: z.array(liveSessionSchema) });

export const watchUrlResponseSchema = z.object({
  watch_url: z.string().describe('<origin>/watch/<token>: the live view without a login'),
  embed_url: z.string().describe('<origin>/embed/<token>: the same view for an iframe'),
  sessionId: z.string(),
  expiresAt: epochMs,
}).meta({ id: 'WatchUrlResponse' });
same<z.infer<typeof watchUrlResponseSchema>, WatchUrlResponse>(true);

export const watchInfoSchema = z.object({
  sessionId: z.string(),
  agent: z.object({ id: z.string(), name: z.string() }),
  capabilities: z.array(z.enum(CAPABILITIES)),
  branding: z.object({ name: z.string().optional(), color: z.string().optional() }).optional(),
  expiresAt: epochMs,
}).meta({ id: 'WatchInfo' });
same<z.infer<typeof watchInfoSchema>, WatchInfo>(true);
