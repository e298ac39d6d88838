import type {
  AgentInfo,
  ApiKeyInfo,
  CreateAgentRequest,
  CreateApiKeyResponse,
  ListResponse,
  ProjectInfo,
  ProjectPatch,
} from '@tandem/protocol';
import { apiJson, type RequestOptions } from './client';

/**
 * The install snippet a site owner pastes into their pages. One definition for every place that shows
 * it (the empty sessions list, Settings), so the text never drifts apart.
 */
export function installSnippet(origin: string, projectKey: string | null): string {
  return `<script src="${origin}/tracker.js" data-project-key="${projectKey ?? 'YOUR_PROJECT_KEY'}" async></` + `script>`;
}

type Method = NonNullable<RequestOptions['method']>;

/**
 * Settings calls (`/api/v1/project`, `/api/v1/api-keys`, `/api/v1/agents`), through the same
 * `apiJson` as ApiClient: same origin, HttpOnly cookie, failures as `ApiError`, and a 401 calls
 * `onUnauthorized` (the session expired).
 */
export class SettingsApi {
  #onUnauthorized: () => void;

  constructor(onUnauthorized: () => void = () => {}) {
    this.#onUnauthorized = onUnauthorized;
  }

  #call<T>(method: Method, path: string, body?: unknown): Promise<T> {
    return apiJson<T>(path, { method, body }, () => this.#onUnauthorized());
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
