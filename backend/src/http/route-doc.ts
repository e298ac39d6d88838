import type { z } from 'zod';
import type { ErrorCode } from '@tandem/protocol';

/**
 * What a route tells the OpenAPI document about itself (backend/src/http/openapi.ts). The schemas here
 * are the ones the handler validates with (the same constants), so the document cannot drift from
 * what the server accepts.
 */

/** Who may call a route; several entries are alternatives. */
export type RouteAuth =
  | 'agent' // a signed-in agent's HttpOnly cookie
  | 'admin' // the same cookie, for an admin (others get 403)
  | 'apiKey' // Authorization: Bearer tk_...
  | 'sessionToken' // the tracker's session token from /ingest/v1/start (Bearer or ?token=)
  | 'watchLink' // Authorization: Bearer <watch link token>
  | 'projectKey' // the project key in the JSON body (tracker start)
  | 'signedLink' // the query carries the server's own signature
  | 'public';

export interface RouteBodyDoc {
  /** The zod schema the handler validates the decoded body with; absent for bytes. */
  schema?: z.ZodType;
  /** Media types accepted (default application/json). */
  types?: readonly string[];
  description?: string;
  /** Default true. */
  required?: boolean;
}

export interface RouteResponseDoc {
  /** Default 200. */
  status?: number;
  description: string;
  /** Media type of the answer (default application/json); none for 204 / redirects. */
  type?: string | null;
  schema?: z.ZodType;
}

export interface RouteDoc {
  summary: string;
  description?: string;
  tag: string;
  auth: readonly RouteAuth[];
  /** Path parameters by name (`:id` in the pattern; `wildcard` names a trailing `*`). */
  params?: z.ZodObject;
  wildcard?: string;
  query?: z.ZodObject;
  body?: RouteBodyDoc;
  response: RouteResponseDoc;
  /**
   * Codes this route answers besides the ones every route may: `internal` always, `payload_too_large`
   * when it reads a body, `unauthorized` when it needs credentials.
   */
  errors: readonly ErrorCode[];
}
