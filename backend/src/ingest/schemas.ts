import { z } from 'zod';

/** Ids the tracker may present to resume: random ids of our own format, nothing that could smuggle SQL or paths. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
export const idSchema = z.string().regex(ID_PATTERN, 'must be 8-64 characters of [A-Za-z0-9_-]');

const dims = z.object({ width: z.number().int().nonnegative().max(100_000), height: z.number().int().nonnegative().max(100_000) });

export const startRequestSchema = z.object({
  v: z.number().int(),
  projectKey: z.string().min(1).max(200),
  sessionId: idSchema.optional(),
  tabId: idSchema.optional(),
  visitorId: idSchema.optional(),
  url: z.string().max(8192),
  referrer: z.string().max(8192).optional(),
  title: z.string().max(2048).optional(),
  userAgent: z.string().max(2048).optional(),
  screen: dims.optional(),
  viewport: dims.optional(),
  language: z.string().max(64).optional(),
  timezone: z.string().max(128).optional(),
  clientTime: z.number(),
  userId: z.string().max(512).optional(),
});

/** Only the envelope is checked here; the rrweb payload is stored as sent. */
export const eventSchema = z.looseObject({
  seq: z.number().int().nonnegative(),
  type: z.number().int().min(0).max(64),
  timestamp: z.number().finite(),
});

export const batchRequestSchema = z.object({
  v: z.number().int(),
  sessionId: idSchema,
  tabId: idSchema,
  // 10,000 events per batch: far above what a 2 s flush collects; a bigger batch is a broken client.
  events: z.array(eventSchema).min(1).max(10_000),
});

export const loginSchema = z.object({
  email: z.string().min(3).max(320),
  password: z.string().min(1).max(1024),
});

/** Turns a zod failure into one readable line: `events.3.seq: Invalid input: expected number`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
    .join('; ');
}
