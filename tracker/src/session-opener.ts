import { TandemError, type StartRequest, type StartResponse } from '@tandem/protocol';
import { backoffDelay } from './backoff.js';
import type { Guard } from './safe.js';
import { fillEnvironment } from './start-request.js';
import type { Transport } from './transport.js';

/** What a start request came to: the session applied (first, same ids, new ids), or not. */
export type OpenResult = 'first' | 'same' | 'new' | 'failed' | 'fatal';

export interface SessionOpenerDeps {
  guard: Guard;
  transport: Transport;
  /** The request's ids for a fresh session or for this tab's current one (read at request time). */
  request(fresh: boolean): StartRequest;
  /** Applies a start answer to the tracker (synchronously). */
  apply(res: StartResponse): OpenResult;
  /** What follows a retried request's answer. */
  after(result: OpenResult, fresh: boolean): void;
  /** False once the tracker was stopped: no retry is scheduled then. */
  active(): boolean;
}

/**
 * Start requests: one at a time (concurrent callers share it), retried with backoff while the server
 * cannot be reached, and given up for good when the server refuses the tracker (wrong key, refused
 * origin, unsupported version): those will not fix themselves.
 */
export class SessionOpener {
  private opening: Promise<OpenResult> | null = null;
  private refused = false;
  private refusal: unknown;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  /** Callers waiting for a session (getWatchLink): failed with the refusal if it comes. */
  private readonly waiters = new Set<(err: unknown) => void>();

  constructor(private readonly deps: SessionOpenerDeps) {}

  /** The server refused this tracker for good. */
  get fatal(): boolean {
    return this.refused;
  }

  get fatalError(): unknown {
    return this.refusal;
  }

  /** A start request is in flight. */
  get busy(): boolean {
    return this.opening !== null;
  }

  open(fresh: boolean): Promise<OpenResult> {
    if (this.refused) return Promise.resolve('fatal');
    this.opening ??= this.request(fresh).finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  /** Calls `fail` with the refusal if the server refuses the tracker; returns the unsubscribe. */
  onRefusal(fail: (err: unknown) => void): () => void {
    this.waiters.add(fail);
    return () => {
      this.waiters.delete(fail);
    };
  }

  /** A session was applied: the next failure starts the backoff from its beginning. */
  succeeded(): void {
    this.attempt = 0;
  }

  scheduleRetry(fresh: boolean): void {
    if (this.retryTimer || !this.deps.active()) return;
    const delay = backoffDelay(this.attempt++);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.retry(fresh);
    }, delay);
  }

  /** Back online while a retry waits: ask now, with the backoff reset. */
  retrySoon(): void {
    if (!this.retryTimer) return;
    this.cancelRetry();
    this.attempt = 0;
    void this.retry();
  }

  cancelRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private async retry(fresh = false): Promise<void> {
    const result = await this.open(fresh);
    this.deps.after(result, fresh);
  }

  private async request(fresh: boolean): Promise<OpenResult> {
    const { guard } = this.deps;
    const req = this.deps.request(fresh);
    guard.run('start request', () => fillEnvironment(req));
    let res: StartResponse;
    try {
      res = await this.deps.transport.start(req);
    } catch (err) {
      const status = err instanceof TandemError ? err.status : 0;
      // A wrong key, a refused origin or an unsupported version will not fix itself: stop asking.
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        this.refused = true;
        this.refusal = err;
        for (const fail of this.waiters) fail(err);
        this.waiters.clear();
        guard.report(err, 'start refused');
        return 'fatal';
      }
      guard.report(err, 'start failed');
      return 'failed';
    }
    return guard.run('apply session', () => this.deps.apply(res)) ?? 'failed';
  }
}
