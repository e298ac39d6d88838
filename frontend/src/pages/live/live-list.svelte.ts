import type { LiveSession } from '@tandem/protocol';
import { keepLive, sortLive, toggleSelection } from '../../lib/live/list';
import type { LiveSocket } from '../../lib/live/socket.svelte';

/** The project's live sessions, kept current by `live:list` pushes, and the grid selection. */
export class LiveList {
  sessions = $state.raw<LiveSession[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  selected = $state.raw<string[]>([]);
  /** server-clock now, ticking once a second for the durations */
  now = $state(Date.now());

  #socket: LiveSocket;
  #offConnect: (() => void) | null = null;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #onList = (sessions: LiveSession[]) => this.#set(sessions);

  constructor(socket: LiveSocket) {
    this.#socket = socket;
  }

  start(): void {
    this.#socket.socket.on('live:list', this.#onList);
    // Subscriptions do not survive a reconnect: subscribe on every connect.
    this.#offConnect = this.#socket.onConnect(() => this.#subscribe());
    this.#ticker = setInterval(() => (this.now = this.#socket.serverNow()), 1_000);
    this.now = this.#socket.serverNow();
  }

  #subscribe(): void {
    this.#socket.socket.timeout(10_000).emit('live:list:subscribe', (err, result) => {
      if (err) {
        this.error = 'The Tandem server did not answer. Retrying when the connection comes back.';
        return;
      }
      if (!result.ok) {
        this.error = result.error.message;
        this.loaded = true;
        return;
      }
      this.error = null;
      this.#set(result.sessions);
    });
  }

  #set(sessions: LiveSession[]): void {
    this.sessions = sortLive(sessions);
    this.selected = keepLive(this.selected, this.sessions);
    this.loaded = true;
  }

  toggle(sessionId: string): void {
    this.selected = toggleSelection(this.selected, sessionId);
  }

  stop(): void {
    clearInterval(this.#ticker);
    this.#offConnect?.();
    this.#socket.socket.off('live:list', this.#onList);
    if (this.#socket.connected) this.#socket.socket.emit('live:list:unsubscribe');
  }
}
