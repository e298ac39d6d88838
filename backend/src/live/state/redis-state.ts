import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LiveSession } from '@tandem/protocol';
import type { RateLimitConfig } from '../../config.js';
import { RateLimiter } from '../../rate-limit.js';
import { mergeSessions, type LiveState, type RoomRecord, type SharedLimiter } from './live-state.js';

/**
 * Expiries. A node refreshes what it owns well within each, so only a dead node's entries lapse.
 * - NODE_TTL_MS: a node missing its heartbeat this long is dead. 3 s: agents whose session's home died
 *   learn it within ~3 s (the failover bench's budget for a watched session to draw again), while a
 *   node stalled by a 1-2 s GC or a loaded machine is not declared dead.
 * - LIST_TTL_MS: a node's part of the live list; lists are read for alive nodes only, so this only
 *   bounds what a dead node leaves in Redis.
 * - ROOM_TTL_MS: the room record outlives the room by this much, so the node its tabs reconnect to
 *   after a failover (within the 15 s grace) still finds the consent the user gave.
 */
const NODE_TTL_MS = 3_000;
const HEARTBEAT_MS = 1_000;
const LIST_TTL_MS = 10_000;
const LIST_REFRESH_MS = 3_000;
const ROOM_TTL_MS = 30_000;
const ROOM_REFRESH_MS = 10_000;
/** aliveNodes is read for every cross-node decision; one ZRANGE per half second is plenty. */
const ALIVE_CACHE_MS = 500;

/** Token bucket in one round trip: the same arithmetic as RateLimiter, kept in a hash that expires once full again. */
const TAKE_SCRIPT = `
local now = tonumber(ARGV[1]); local rate = tonumber(ARGV[2]); local burst = tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(b[1]) or burst; local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * rate)
local ok = 0
if tokens >= 1 then tokens = tokens - 1; ok = 1 end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / math.max(rate, 0.000001) * 1000) + 1000)
return ok`;

/** Deletes a key only if it still holds our value (a home another node took over stays theirs). */
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

const PREFIX = 'tandem:live:';
const NODES = `${PREFIX}nodes`;
const homeKey = (p: string, s: string) => `${PREFIX}home:${p}:${s}`;
const roomKey = (p: string, s: string) => `${PREFIX}room:${p}:${s}`;
const listKey = (p: string, node: string) => `${PREFIX}list:${p}:${node}`;
const recordingKey = (id: string) => `${PREFIX}rec:${id}`;
/**
 * A recording's holder is kept this long: a recording lasts at most a day (uploads.ts MAX_DURATION_MS),
 * plus its tail. Not refreshed: the holder never changes (an upload lives in one process's memory).
 */
const RECORDING_HOLDER_TTL_MS = 25 * 3_600_000;

export interface RedisLiveStateDeps {
  log: Logger;
  /** Counted in `tandem_redis_errors_total`. */
  onError(op: string): void;
}

/**
 * LiveState in Redis (TANDEM_REDIS_URL), shared by every node. Nodes are a sorted set scored by when
 * each one's heartbeat expires; every other key has a TTL and is refreshed by its owner.
 */
export class RedisLiveState implements LiveState {
  readonly shared = true;
  private readonly ownedHomes = new Set<string>();
  private readonly ownedRooms = new Map<string, RoomRecord>();
  private readonly ownedLists = new Map<string, string>();
  private alive: { nodes: Set<string>; at: number } | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(private readonly redis: Redis, readonly nodeId: string, private readonly deps: RedisLiveStateDeps) {
    redis.defineCommand('tandemTake', { numberOfKeys: 1, lua: TAKE_SCRIPT });
    redis.defineCommand('tandemRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
    this.every(HEARTBEAT_MS, () => this.heartbeat());
    this.every(LIST_REFRESH_MS, () => this.refreshLists());
    this.every(ROOM_REFRESH_MS, () => this.refreshRooms());
  }

  /** Registers this node (call once before serving). */
  async start(): Promise<void> {
    await this.heartbeat();
  }

  async claimHome(projectId: string, sessionId: string): Promise<string | null> {
    const key = homeKey(projectId, sessionId);
    this.ownedHomes.add(key);
    // SET ... GET (Redis 6.2+): the previous home in the same round trip.
    return this.run('claimHome', () => this.redis.set(key, this.nodeId, 'PX', ROOM_TTL_MS, 'GET'));
  }

  releaseHome(projectId: string, sessionId: string): void {
    const key = homeKey(projectId, sessionId);
    this.ownedHomes.delete(key);
    this.ownedRooms.delete(roomKey(projectId, sessionId));
    void this.run('releaseHome', () => (this.redis as unknown as Scripts).tandemRelease(key, this.nodeId));
  }

  async homeOf(projectId: string, sessionId: string): Promise<string | null> {
    const node = await this.run('homeOf', () => this.redis.get(homeKey(projectId, sessionId)));
    if (!node) return null;
    return (await this.aliveNodes()).has(node) ? node : null;
  }

  async holdRecording(recordingId: string): Promise<void> {
    await this.run('holdRecording', () => this.redis.set(recordingKey(recordingId), this.nodeId, 'PX', RECORDING_HOLDER_TTL_MS));
  }

  async recordingHolder(recordingId: string): Promise<string | null> {
    const node = await this.run('recordingHolder', () => this.redis.get(recordingKey(recordingId)));
    if (!node) return null;
    return (await this.aliveNodes()).has(node) ? node : null;
  }

  saveRoom(projectId: string, sessionId: string, record: RoomRecord): void {
    const key = roomKey(projectId, sessionId);
    this.ownedRooms.set(key, record);
    void this.run('saveRoom', () => this.redis.set(key, JSON.stringify(record), 'PX', ROOM_TTL_MS));
  }

  async loadRoom(projectId: string, sessionId: string): Promise<RoomRecord | null> {
    const raw = await this.run('loadRoom', () => this.redis.get(roomKey(projectId, sessionId)));
    return raw ? (JSON.parse(raw) as RoomRecord) : null;
  }

  async publishSessions(projectId: string, sessions: LiveSession[]): Promise<void> {
    const key = listKey(projectId, this.nodeId);
    if (!sessions.length) {
      this.ownedLists.delete(key);
      await this.run('publishSessions', () => this.redis.del(key));
      return;
    }
    const json = JSON.stringify(sessions);
    this.ownedLists.set(key, json);
    await this.run('publishSessions', () => this.redis.set(key, json, 'PX', LIST_TTL_MS));
  }

  async sessions(projectId: string): Promise<LiveSession[]> {
    const nodes = [...(await this.aliveNodes())];
    const raws = await this.run('sessions', () => this.redis.mget(nodes.map((n) => listKey(projectId, n))));
    return mergeSessions((raws ?? []).filter((r): r is string => !!r).map((r) => JSON.parse(r) as LiveSession[]));
  }

  async aliveNodes(): Promise<Set<string>> {
    const now = Date.now();
    if (this.alive && now - this.alive.at < ALIVE_CACHE_MS) return this.alive.nodes;
    const ids = await this.run('aliveNodes', () => this.redis.zrangebyscore(NODES, now, '+inf'));
    const nodes = new Set(ids ?? []);
    nodes.add(this.nodeId);
    this.alive = { nodes, at: now };
    return nodes;
  }

  limiter(name: string, config: RateLimitConfig): SharedLimiter {
    // While Redis does not answer, each node keeps its own budget: limited, never wide open nor closed.
    const fallback = new RateLimiter(config);
    const scripts = this.redis as unknown as Scripts;
    return {
      take: async (key: string) => {
        try {
          return (await scripts.tandemTake(`${PREFIX}rl:${name}:${key}`, Date.now(), config.perSecond, config.burst)) === 1;
        } catch (err) {
          this.failed('limiter', err);
          return fallback.take(key);
        }
      },
    };
  }

  async ready(): Promise<boolean> {
    if (this.redis.status !== 'ready') return false;
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    if (this.redis.status === 'ready') {
      // Leave now rather than in NODE_TTL_MS: the others stop routing to us at once.
      const pipe = this.redis.pipeline().zrem(NODES, this.nodeId);
      for (const key of this.ownedLists.keys()) pipe.del(key);
      for (const key of this.ownedHomes) pipe.eval(RELEASE_SCRIPT, 1, key, this.nodeId);
      await pipe.exec().catch((err) => this.failed('close', err));
    }
  }

  // ------------------------------------------------------------------------------------- internals

  private async heartbeat(): Promise<void> {
    const now = Date.now();
    await this.run('heartbeat', () =>
      this.redis.pipeline().zadd(NODES, now + NODE_TTL_MS, this.nodeId).zremrangebyscore(NODES, '-inf', now - 60_000).exec());
  }

  private async refreshLists(): Promise<void> {
    if (!this.ownedLists.size) return;
    const pipe = this.redis.pipeline();
    for (const [key, json] of this.ownedLists) pipe.set(key, json, 'PX', LIST_TTL_MS);
    await this.run('refreshLists', () => pipe.exec());
  }

  private async refreshRooms(): Promise<void> {
    if (!this.ownedHomes.size && !this.ownedRooms.size) return;
    const pipe = this.redis.pipeline();
    for (const key of this.ownedHomes) pipe.set(key, this.nodeId, 'PX', ROOM_TTL_MS);
    for (const [key, record] of this.ownedRooms) pipe.set(key, JSON.stringify(record), 'PX', ROOM_TTL_MS);
    await this.run('refreshRooms', () => pipe.exec());
  }

  private every(ms: number, fn: () => Promise<void>): void {
    const t = setInterval(() => void fn(), ms);
    t.unref();
    this.timers.push(t);
  }

  /** Runs a command; a failure is counted and logged and answers null (callers treat it as "not known"). */
  private async run<T>(op: string, fn: () => Promise<T>): Promise<T | null> {
    try {
      return await fn();
    } catch (err) {
      this.failed(op, err);
      return null;
    }
  }

  private failed(op: string, err: unknown): void {
    if (this.closed) return;
    this.deps.onError(op);
    this.deps.log.warn({ err, op }, 'live: redis command failed');
  }
}

interface Scripts {
  tandemTake(key: string, now: number, perSecond: number, burst: number): Promise<number>;
  tandemRelease(key: string, node: string): Promise<number>;
}
