import type { AgentPresence, Guard } from '@tandem/protocol';
import type { AssistUi } from './ui.js';

export interface ViewingDeps {
  doc: Document | null;
  /** The `banner` option. */
  showBanner: boolean;
  ui(doc: Document): AssistUi;
  hasUi(): boolean;
  guard(): Guard;
  onAgentsChange?: (agents: AgentPresence[]) => void;
  sendStop(): void;
  sendConsent(accepted: boolean): void;
  startForwarding(): void;
  stopForwarding(): void;
  forwarding(): boolean;
}

/**
 * Who is watching and what the user said about it: the agents list, the viewing consent prompt and
 * the "is viewing" banner with its Stop button.
 * - The banner shows while the server's last `agents` list is non-empty, except while the consent
 *   prompt is open and after the user pressed Stop or Decline (until the next `agents` or `live:start`).
 * - A `live:start` that arrives while the consent prompt is open waits for the answer.
 */
export class Viewing {
  agents: AgentPresence[] = [];
  consentFor: AgentPresence[] | null = null;
  /** A live:start that came while the user had not answered the consent prompt yet. */
  deferredStart = false;
  /** The user pressed Stop / Decline: no banner until the server's next `agents`. */
  private bannerSuppressed = false;

  constructor(private readonly deps: ViewingDeps) {}

  render(): void {
    const { doc } = this.deps;
    if (!doc) return;
    const wantBanner = this.deps.showBanner && this.agents.length > 0 && !this.bannerSuppressed && !this.consentFor;
    if (!this.deps.hasUi() && !wantBanner && !this.consentFor) return;
    const ui = this.deps.ui(doc);
    ui.setConsent(this.consentFor);
    ui.setBanner(wantBanner ? this.agents : null);
  }

  setAgents(list: AgentPresence[]): void {
    const before = JSON.stringify(this.agents);
    this.agents = list;
    const cb = this.deps.onAgentsChange;
    if (JSON.stringify(list) !== before && cb) this.deps.guard().run('onAgentsChange', () => cb(list.slice()));
    if (list.length === 0) this.consentFor = null;
    this.render();
  }

  /** The server's `agents`. */
  onAgents(list: unknown): void {
    this.bannerSuppressed = false;
    this.setAgents(Array.isArray(list) ? list.filter((a) => a && typeof a === 'object') : []);
  }

  onConsentRequest(info: { agents?: unknown } | null | undefined): void {
    this.consentFor = Array.isArray(info?.agents) ? (info.agents as AgentPresence[]) : [];
    this.render();
  }

  /** `live:start`: true when forwarding may start now (false: it waits for the consent answer). */
  onLiveStart(): boolean {
    this.bannerSuppressed = false;
    if (this.consentFor && !this.deps.forwarding()) {
      this.deferredStart = true; // nothing starts until the user says yes
      return false;
    }
    return true;
  }

  /** The banner's Stop: ends watching for every agent. */
  userStop(): void {
    this.deps.stopForwarding();
    this.bannerSuppressed = true;
    this.deps.sendStop();
    this.render();
  }

  answer(accepted: boolean): void {
    if (!this.consentFor) return;
    this.consentFor = null;
    // Sent even while reconnecting: socket.io sends it once connected, and the user's no stays a no.
    this.deps.sendConsent(accepted);
    if (!accepted) {
      this.bannerSuppressed = true;
      this.deps.stopForwarding();
    } else {
      // Watching may start now: the banner with its Stop button shows while agents are there.
      this.bannerSuppressed = false;
      if (this.deferredStart) {
        this.deferredStart = false;
        this.deps.startForwarding();
      }
    }
    this.render();
  }

  /** Another room or no room: nobody of the old one is watching. */
  clear(): void {
    this.setAgents([]);
    this.consentFor = null;
    this.render();
  }
}
