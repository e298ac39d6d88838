import { z } from 'zod';
import {
  CANVAS_RECORDING_LEVELS, type AgentInfo, type ApiKeyInfo, type CreateApiKeyResponse, type ListResponse, type ProjectInfo,
  type SessionStatsResponse, type TabTimeline, type TandemEvent,
} from '@tandem/protocol';
import { epochMs, same } from './openapi-responses.js';

/**
 * Success bodies of the events stream, the stats, the timeline and the settings (admin) routes, for the
 * OpenAPI document; the same rules as openapi-responses.ts: each restates a protocol interface in zod and
 * is checked both ways against it at compile time, and backend/test/openapi.test.ts parses real answers.
 */

/**
 * One line of `GET /api/v1/sessions/:id/events` (NDJSON): a stored event as the tracker sent it, an rrweb
 * event with Tandem's seq (lines come in (tab, seq) order; pass `tabId` to read one tab). `data` is rrweb's,
 * whose shape depends on `type` (rrweb's own types describe it): not restated. Checked one way only (every
 * TandemEvent fits it): rrweb's event union has no zod twin.
 */
export const eventLineSchema = z.object({
  type: z.number().describe("rrweb's EventType"),
  data: z.unknown().describe("rrweb's event data for that type"),
  timestamp: epochMs.describe("epoch ms, the recorder's clock"),
  seq: z.number().describe('per-tab sequence number from 0, no gaps'),
  delay: z.number().optional(),
}).meta({ id: 'EventLine', description: 'One line of the NDJSON events stream' });
type EventLine = z.infer<typeof eventLineSchema>;
const fits = (e: TandemEvent): EventLine => e;
void fits;

const sessionDayStatsSchema = z.object({
  day: z.string().describe('YYYY-MM-DD in the time zone `tz`'),
  sessions: z.number(),
  sessionsWithErrors: z.number(),
  errors: z.number(),
});
export const sessionStatsResponseSchema = z.object({
  days: z.array(sessionDayStatsSchema).describe('every day of the range, oldest first, days without sessions as zeros'),
  tz: z.string(),
}).meta({ id: 'SessionStatsResponse' });
same<z.infer<typeof sessionStatsResponseSchema>, SessionStatsResponse>(true);

export const tabTimelineSchema = z.object({
  tabId: z.string(),
  clicks: z.array(z.object({ ts: epochMs, seq: z.number() })),
  customs: z.array(z.object({ ts: epochMs, seq: z.number(), name: z.string(), payload: z.unknown() })),
  identifies: z.array(z.object({ ts: epochMs, seq: z.number(), userId: z.string(), traits: z.record(z.string(), z.unknown()).nullable() })),
  interactions: z.array(epochMs).describe('moments of user input, thinned to the first and last of every 10 s bucket'),
  truncated: z.boolean().describe('a list reached its cap (20,000) and was cut'),
}).meta({ id: 'TabTimeline' });
same<z.infer<typeof tabTimelineSchema>, TabTimeline>(true);

export const projectInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  key: z.string().describe("the project key of the tracker's snippet"),
  allowedOrigins: z.array(z.string()).describe('origins allowed to send data; empty: any'),
  requireConsent: z.boolean(),
  canvasRecording: z.enum(CANVAS_RECORDING_LEVELS),
}).meta({ id: 'ProjectInfo' });
same<z.infer<typeof projectInfoSchema>, ProjectInfo>(true);

const apiKeyInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().describe('first characters of the secret'),
  createdAt: epochMs,
  createdBy: z.string().describe('agent id'),
  lastUsedAt: epochMs.nullable(),
}).meta({ id: 'ApiKeyInfo' });
same<z.infer<typeof apiKeyInfoSchema>, ApiKeyInfo>(true);
export const apiKeyListSchema = z.object({ items: z.array(apiKeyInfoSchema) });
same<z.infer<typeof apiKeyListSchema>, ListResponse<ApiKeyInfo>>(true);
export const createApiKeyResponseSchema = z.object({
  key: apiKeyInfoSchema,
  secret: z.string().describe('tk_...: shown once, stored hashed; send as Authorization: Bearer'),
}).meta({ id: 'CreateApiKeyResponse' });
same<z.infer<typeof createApiKeyResponseSchema>, CreateApiKeyResponse>(true);

export const agentInfoSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  projectId: z.string(),
  role: z.enum(['admin', 'agent']),
}).meta({ id: 'AgentInfo' });
same<z.infer<typeof agentInfoSchema>, AgentInfo>(true);
export const agentListSchema = z.object({ items: z.array(agentInfoSchema) });
same<z.infer<typeof agentListSchema>, ListResponse<AgentInfo>>(true);
export const meResponseSchema = z.object({ agent: agentInfoSchema });
