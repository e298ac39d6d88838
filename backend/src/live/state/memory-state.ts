import type { LiveSession } from '@tandem/protocol';
import type { RateLimitConfig } from '../../config.js';
import { RateLimiter } from '../../rate-limit.js';
import type { LiveState, RoomRecord, SharedLimiter } from './live-state.js';

/** Room records outlive their room this long, as in Redis (a reconnecting tab finds its consent again). */
const ROOM_TTL_MS = 30_000;

/**
 * The single-process LiveState (no TANDEM_REDIS_URL): this process is the only node and the home of
 * every session it has. Nothing leaves the process and nothing here can fail.
 */
export class MemoryLiveState implements LiveState {
  readonly shared = false;
  private readonly homes = new Map<string, string>();
  private readonly rooms = new Map<string, { record: RoomRecord; until: number }>();
  private readonly lists = new Map<string, LiveSession[]>();

  constructor(readonly nodeId: string) {}

  async claimHome(projectId: string, sessionId: string): Promise<string | null> {
    const key = `${projectId}:${sessionId}`;
    const previous = this.homes.get(key) ?? null;
    this.homes.set(key, this.nodeId);
    return previous;
  }

  releaseHome(projectId: string, sessionId: string): void {
    this.homes.delete(`${projectId}:${sessionId}`);
  }

  /** One process holds every upload: nothing to tell anyone. */
  async holdRecording(): Promise<void> {}

  async recordingHolder(): Promise<string | null> {
    return null;
  }

  async homeOf(projectId: string, sessionId: string): Promise<string | null> {
    return this.homes.get(`${projectId}:${sessionId}`) ?? null;
  }

  saveRoom(projectId: string, sessionId: string, record: RoomRecord): void {
    const now = Date.now();
    if (this.rooms.size > 10_000) for (const [k, v] of this.rooms) if (v.until < now) this.rooms.delete(k);
    this.rooms.set(`${projectId}:${sessionId}`, { record, until: now + ROOM_TTL_MS });
  }

  async loadRoom(projectId: string, sessionId: string): Promise<RoomRecord | null> {
    const hit = this.rooms.get(`${projectId}:${sessionId}`);
    return hit && hit.until > Date.now() ? hit.record : null;
  }

  async publishSessions(projectId: string, sessions: LiveSession[]): Promise<void> {
    if (sessions.length) this.lists.set(projectId, sessions);
    else this.lists.delete(projectId);
  }

  async sessions(projectId: string): Promise<LiveSession[]> {
    return this.lists.get(projectId) ?? [];
  }

  async aliveNodes(): Promise<Set<string>> {
    return new Set([this.nodeId]);
  }

  limiter(_name: string, config: RateLimitConfig): SharedLimiter {
    return new RateLimiter(config);
  }

  async ready(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.homes.clear();
    this.rooms.clear();
    this.lists.clear();
  }
}
