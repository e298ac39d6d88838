import { isErrorBody } from '@tandem/protocol';
import type {
  AgentInfo,
  AssetSignRequest,
  AssetSignResponse,
  ConsoleEntry,
  ErrorEntry,
  LoginRequest,
  NetworkEntry,
  PanelResponse,
  SessionDetail,
  SessionListResponse,
  SessionQuery,
  SessionStatsQuery,
  SessionStatsResponse,
  TabTimeline,
  TandemEvent,
  WatchInfo,
} from '@tandem/protocol';
import { toQueryString } from '../filters';
import { dropEarly, takeEarly } from './early';
import { readNdjson, type StreamProgress } from './ndjson';

/** A failed API call, carrying the server's `{error:{code,message}}` when it sent one. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status: number) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }
}

export interface ProjectInfo {
  id: string;
  name: string;
  key: string;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** sent as JSON */
  body?: unknown;
  /** sent as is (binary uploads: call recording chunks), with `contentType` */
  raw?: Blob;
  contentType?: string;
  signal?: AbortSignal;
  accept?: string;
  /** a watch link's token, sent as `Authorization: Bearer` */
  bearer?: string;
}

/**
 * One call to the backend (same origin, HttpOnly cookie), for every client of the API. Failures throw
 * `ApiError` (the server's `{error:{code,message}}` when it sent one; code `network` when it could not
 * be reached); an abort is rethrown as is. A 401 calls `onUnauthorized` first, except a wrong
 * password at login (`invalid_credentials`), which is the login form's to show.
 */
export async function apiRequest(path: string, options: RequestOptions, onUnauthorized: () => void): Promise<Response> {
  let response: Response;
  try {
    const early = (!options.method || options.method === 'GET') && !options.bearer ? takeEarly(path) : null;
    response = await (early ?? fetch(path, {
      method: options.method ?? 'GET',
      credentials: 'same-origin',
      headers: {
        accept: options.accept ?? 'application/json',
        ...(options.bearer ? { authorization: `Bearer ${options.bearer}` } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.raw !== undefined ? { 'content-type': options.contentType ?? 'application/octet-stream' } : {}),
      },
      body: options.raw ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined),
      signal: options.signal,
    }));
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError('network', 'Cannot reach the Tandem server. Check your connection and try again.', 0);
  }
  if (response.ok) return response;
  const error = await errorFrom(response);
  if (response.status === 401 && error.code !== 'invalid_credentials') {
    dropEarly();
    onUnauthorized();
  }
  throw error;
}

/** `apiRequest` and its JSON answer (`undefined` for a 204). */
export async function apiJson<T>(path: string, options: RequestOptions, onUnauthorized: () => void): Promise<T> {
  const response = await apiRequest(path, options, onUnauthorized);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/**
 * The dashboard's only door to the backend (same origin, HttpOnly cookie). A 401 on any call but
 * the login itself means the cookie is gone or expired: `onUnauthorized` sends the user to login.
 * A watch link's page (`/watch/<token>`, `/embed/<token>`) has no login: its client sends the link's
 * token as `Authorization: Bearer` instead, and a 401 there is shown on the page, not sent to login.
 */
export class ApiClient {
  #onUnauthorized: () => void;
  #bearer: string | undefined;

  constructor(onUnauthorized: () => void, options: { bearer?: string } = {}) {
    this.#onUnauthorized = onUnauthorized;
    this.#bearer = options.bearer;
  }

  #request(path: string, options: RequestOptions = {}): Promise<Response> {
    return apiRequest(path, { ...options, bearer: this.#bearer }, () => this.#onUnauthorized());
  }

  #json<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return apiJson<T>(path, { ...options, bearer: this.#bearer }, () => this.#onUnauthorized());
  }

  /** Any other call with this client's credentials (call recordings: lib/api/recordings.ts). */
  request(path: string, options: RequestOptions = {}): Promise<Response> {
    return this.#request(path, options);
  }

  json<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.#json<T>(path, options);
  }

  login(body: LoginRequest): Promise<{ agent: AgentInfo }> {
    return this.#json('/api/v1/auth/login', { method: 'POST', body });
  }

  me(): Promise<{ agent: AgentInfo }> {
    return this.#json('/api/v1/auth/me');
  }

  async logout(): Promise<void> {
    await this.#request('/api/v1/auth/logout', { method: 'POST' });
  }

  /** What a watch link opens (its session, agent, capabilities, branding); needs the bearer token. */
  watchInfo(signal?: AbortSignal): Promise<WatchInfo> {
    return this.#json('/api/v1/watch', { signal });
  }

  project(): Promise<ProjectInfo> {
    return this.#json('/api/v1/project');
  }

  sessions(query: SessionQuery, signal?: AbortSignal): Promise<SessionListResponse> {
    return this.#json(`/api/v1/sessions${toQueryString(query)}`, { signal });
  }

  sessionStats(query: SessionStatsQuery, signal?: AbortSignal): Promise<SessionStatsResponse> {
    return this.#json(`/api/v1/sessions/stats${toQueryString(query)}`, { signal });
  }

  session(id: string, signal?: AbortSignal): Promise<SessionDetail> {
    return this.#json(`/api/v1/sessions/${encodeURIComponent(id)}`, { signal });
  }

  async events(
    id: string,
    tabId: string,
    onProgress: (progress: StreamProgress) => void,
    signal?: AbortSignal,
  ): Promise<TandemEvent[]> {
    const path = `/api/v1/sessions/${encodeURIComponent(id)}/events?tabId=${encodeURIComponent(tabId)}`;
    const response = await this.#request(path, { signal, accept: 'application/x-ndjson' });
    if (!response.body) throw new ApiError('internal', 'The server sent an empty event stream.', response.status);
    return readNdjson<TandemEvent>(response.body, onProgress);
  }

  /**
   * A share link's first frame in one answer (NDJSON: a SessionOpenFrame line, the window's events,
   * then the session's detail); read it with lib/player/open-stream.ts.
   */
  async openSession(path: string, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const response = await this.#request(path, { signal, accept: 'application/x-ndjson' });
    if (!response.body) throw new ApiError('internal', 'The server sent an empty answer.', response.status);
    return response.body;
  }

  /** Proxy links for a recording's asset URLs (see lib/replay/asset-links.ts). */
  signAssets(body: AssetSignRequest): Promise<AssetSignResponse> {
    return this.#json('/api/v1/assets/sign', { method: 'POST', body });
  }

  /**
   * A tab's events as the raw NDJSON body, optionally a seq range (`fromSeq`..`toSeq`, inclusive): the
   * player reads one keyframe window at a time, the timeline scan reads the whole tab unparsed.
   */
  async eventStream(
    id: string,
    tabId: string,
    range: { fromSeq?: number; toSeq?: number | null } = {},
    signal?: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    const query = new URLSearchParams({ tabId });
    if (range.fromSeq !== undefined && range.fromSeq > 0) query.set('fromSeq', String(range.fromSeq));
    if (range.toSeq !== undefined && range.toSeq !== null) query.set('toSeq', String(range.toSeq));
    const path = `/api/v1/sessions/${encodeURIComponent(id)}/events?${query}`;
    const response = await this.#request(path, { signal, accept: 'application/x-ndjson' });
    if (!response.body) throw new ApiError('internal', 'The server sent an empty event stream.', response.status);
    return response.body;
  }

  /** One tab's clicks, custom events, identify calls and input moments, picked out by the server. */
  timeline(id: string, tabId: string, signal?: AbortSignal): Promise<TabTimeline> {
    return this.#json(`/api/v1/sessions/${encodeURIComponent(id)}/timeline?tabId=${encodeURIComponent(tabId)}`, { signal });
  }

  async console(id: string, signal?: AbortSignal): Promise<ConsoleEntry[]> {
    return (await this.#json<PanelResponse<ConsoleEntry>>(`/api/v1/sessions/${encodeURIComponent(id)}/console`, { signal })).items;
  }

  async network(id: string, signal?: AbortSignal): Promise<NetworkEntry[]> {
    return (await this.#json<PanelResponse<NetworkEntry>>(`/api/v1/sessions/${encodeURIComponent(id)}/network`, { signal })).items;
  }

  async errors(id: string, signal?: AbortSignal): Promise<ErrorEntry[]> {
    return (await this.#json<PanelResponse<ErrorEntry>>(`/api/v1/sessions/${encodeURIComponent(id)}/errors`, { signal })).items;
  }
}

async function errorFrom(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // not JSON (a proxy error page, an empty body): fall through to a generic message
  }
  if (isErrorBody(body)) return new ApiError(body.error.code, body.error.message, response.status);
  return new ApiError('http_' + response.status, `The server answered ${response.status} ${response.statusText}.`.trim(), response.status);
}

export function isAbort(err: unknown): boolean {
  return (err as Error | null)?.name === 'AbortError';
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
