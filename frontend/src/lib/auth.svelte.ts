import type { AgentInfo } from '@tandem/protocol';
import type { ApiClient } from './api/client';

/** Who is signed in. `checked` turns true once `/auth/me` has answered, so pages do not flash. */
export class Auth {
  agent = $state<AgentInfo | null>(null);
  checked = $state(false);
  #api: ApiClient;

  constructor(api: ApiClient) {
    this.#api = api;
  }

  async check(): Promise<void> {
    try {
      this.agent = (await this.#api.me()).agent;
    } catch {
      this.agent = null;
    } finally {
      this.checked = true;
    }
  }

  async login(email: string, password: string): Promise<void> {
    this.agent = (await this.#api.login({ email, password })).agent;
  }

  async logout(): Promise<void> {
    try {
      await this.#api.logout();
    } finally {
      this.agent = null;
    }
  }

  /** The server forgot us (401): drop the agent; App.svelte then shows the login page. */
  signedOut() {
    this.agent = null;
  }
}
