import { isErrorBody } from '@tandem/protocol';
import type {
  AgentInfo,
  ApiKeyInfo,
  CreateAgentRequest,
  CreateApiKeyResponse,
  ListResponse,
  ProjectInfo,
  ProjectPatch,
} from '@tandem/protocol';
import { ApiError } from './client';

/**
 * The install snippet a site owner pastes into their pages. One definition for every place that shows
 * it (the empty sessions list, Settings), so the text never drifts apart.
 */
export function installSnippet(origin: string, projectKey: string | null): string {
  return `<script src="${origin}/tracker.js" data-project-key="${projectKey ?? 'YOUR_PROJECT_KEY'}" async></` + `script>`;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * Settings calls (`/api/v1/project`, `/api/v1/api-keys`, `/api/v1/agents`): same origin, HttpOnly
 * cookie, failures as the same `ApiError` the rest of the dashboard uses. A 401 calls
 * `onUnauthorized` (the session expired), like ApiClient does.
 */
export class SettingsApi {
  #onUnauthorized: () => void;

  constructor(onUnauthorized: () => void = () => {}) {
    this.#onUnauthorized = onUnauthorized;
  }

  async #call<T>(method: Method, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        credentials: 'same-origin',
        headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch {
      throw new ApiError('network', 'Cannot reach the Tandem server. Check your connection and try again.', 0);
    }
    if (!response.ok) {
      const error = await errorFrom(response);
      if (response.status === 401) this.#onUnauthorized();
      throw error;
    }
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  project(): Promise<ProjectInfo> {
    return this.#call('GET', '/api/v1/project');
  }

  /** Admins only. */
  updateProject(patch: ProjectPatch): Promise<ProjectInfo> {
    return this.#call('PATCH', '/api/v1/project', patch);
  }

  async apiKeys(): Promise<ApiKeyInfo[]> {
    return (await this.#call<ListResponse<ApiKeyInfo>>('GET', '/api/v1/api-keys')).items;
  }

  /** The secret is in the answer and nowhere else, ever. */
  createApiKey(name: string): Promise<CreateApiKeyResponse> {
    return this.#call('POST', '/api/v1/api-keys', { name });
  }

  async revokeApiKey(id: string): Promise<void> {
    await this.#call('DELETE', `/api/v1/api-keys/${encodeURIComponent(id)}`);
  }

  async agents(): Promise<AgentInfo[]> {
    return (await this.#call<ListResponse<AgentInfo>>('GET', '/api/v1/agents')).items;
  }

  createAgent(request: CreateAgentRequest): Promise<AgentInfo> {
    return this.#call('POST', '/api/v1/agents', request);
  }

  async removeAgent(id: string): Promise<void> {
    await this.#call('DELETE', `/api/v1/agents/${encodeURIComponent(id)}`);
  }
}

async function errorFrom(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: a generic message below
  }
  if (isErrorBody(body)) return new ApiError(body.error.code, body.error.message, response.status);
  return new ApiError('http_' + response.status, `The server answered ${response.status} ${response.statusText}.`.trim(), response.status);
}
