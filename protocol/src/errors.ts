/**
 * Error codes of the public surface. Append-only: deprecate a code, never rename or reuse one.
 * Every HTTP error body is `{ error: { code, message } }`.
 */
export const ERROR_CODES = [
  'bad_json', // body is not JSON (or not gzip when it says so)
  'bad_request', // JSON that does not match the schema
  'unsupported_version', // protocol version this server cannot serve
  'unknown_project', // project key not found
  'origin_not_allowed', // Origin header outside the project's allowed origins
  'unauthorized', // missing, forged or expired token / cookie
  'forbidden', // authenticated but not allowed (other project, missing capability)
  'not_found',
  'payload_too_large',
  'rate_limited',
  'unavailable', // storage cannot take writes right now: retry later
  'internal',
  'invalid_credentials', // login with a wrong email or password
  'session_mismatch', // batch for a session/tab other than the token's
  'busy', // the thing asked for is held by someone else (remote control): the message names who
  'asset_forbidden', // asset proxy: the URL's address is loopback/private/... and not in the allow-list
  'asset_failed', // asset proxy: the origin answered an error, broke the connection or sent too much
  'asset_timeout', // asset proxy: the origin did not answer in time
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** The HTTP status that goes with each code. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  bad_json: 400,
  bad_request: 400,
  unsupported_version: 400,
  unknown_project: 401,
  origin_not_allowed: 403,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
  invalid_credentials: 401,
  session_mismatch: 400,
  busy: 409,
  asset_forbidden: 403,
  asset_failed: 502,
  asset_timeout: 504,
};

/** Thrown by the SDKs and the backend; carries a code from ERROR_CODES. */
export class TandemError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message: string, status = ERROR_STATUS[code]) {
    super(message);
    this.name = 'TandemError';
    this.code = code;
    this.status = status;
  }
  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

export function isErrorBody(value: unknown): value is ErrorBody {
  const e = (value as ErrorBody | null)?.error;
  return !!e && typeof e.code === 'string' && typeof e.message === 'string';
}
