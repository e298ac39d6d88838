import { Redis } from 'ioredis';
import type { SeqClaim, SeqClaimer } from '@tandem/storage';

/**
 * How long a tab's claims outlive its last claim. They only have to outlast the moment two writers can
 * both miss each other's stored events (a flush's lookup, its INSERTs and their retries: seconds, a
 * minute for a very slow ClickHouse); anything later is caught by the writer's `events` lookup. An hour
 * covers that with a wide margin, and a tab idle for 30 minutes starts a new session anyway.
 */
export const SEQ_CLAIM_TTL_S = 3_600;
/**
 * A tab's claimed seqs are kept as disjoint ranges (one range while its batches come in order). More than
 * this many (holes: odd re-send patterns) and the lowest go: those seqs are old enough that the `events`
 * lookup sees them stored. Bounds the key's size whatever a client sends.
 */
export const SEQ_CLAIM_MAX_RANGES = 64;
/** A claim is one small script per tab: a second without an answer means Redis is down or stuck. */
export const CLAIM_TIMEOUT_MS = 1_000;

/**
 * KEYS[1]: the tab's claim key. ARGV: ttl, max ranges, then lo1, hi1, lo2, hi2... (ascending, disjoint).
 * Returns the requested seqs nobody held, as a flat lo, hi list, and adds them to the key: one atomic
 * step, so of two writers claiming the same seq exactly one gets it. The held ranges are a string
 * "lo-hi,lo-hi" (Lua numbers are doubles: exact for UInt32 seqs).
 */
const CLAIM_SCRIPT = `
local held = {}
local cur = redis.call('GET', KEYS[1])
if cur then
  for lo, hi in string.gmatch(cur, '(%d+)-(%d+)') do held[#held + 1] = { tonumber(lo), tonumber(hi) } end
end
local won = {}
for i = 3, #ARGV, 2 do
  local a, b = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  local pos = a
  for _, h in ipairs(held) do
    if h[2] >= pos and h[1] <= b then
      if h[1] > pos then won[#won + 1] = { pos, h[1] - 1 } end
      if h[2] + 1 > pos then pos = h[2] + 1 end
    end
  end
  if pos <= b then won[#won + 1] = { pos, b } end
end
for _, w in ipairs(won) do held[#held + 1] = w end
table.sort(held, function(x, y) return x[1] < y[1] end)
local merged = {}
for _, h in ipairs(held) do
  local last = merged[#merged]
  if last and h[1] <= last[2] + 1 then
    if h[2] > last[2] then last[2] = h[2] end
  else
    merged[#merged + 1] = { h[1], h[2] }
  end
end
local from = math.max(1, #merged - tonumber(ARGV[2]) + 1)
local parts = {}
for i = from, #merged do parts[#parts + 1] = string.format('%d-%d', merged[i][1], merged[i][2]) end
redis.call('SET', KEYS[1], table.concat(parts, ','), 'EX', tonumber(ARGV[1]))
local flat = {}
for _, w in ipairs(won) do flat[#flat + 1] = w[1]; flat[#flat + 1] = w[2] end
return flat
`;

export const seqClaimKey = (c: Pick<SeqClaim, 'projectId' | 'sessionId' | 'tabId'>) => `tandem:seq#${c.projectId}:${c.sessionId}:${c.tabId}`;

/** ioredis adds a defined command to the client and its pipelines; its typings cannot know it. */
type ClaimingRedis = Redis & { tandemClaimSeqs(key: string, ...args: (string | number)[]): Promise<number[]> };
type ClaimPipeline = { tandemClaimSeqs(key: string, ...args: (string | number)[]): unknown; exec(): Promise<[Error | null, unknown][] | null> };

/**
 * The storage writer's SeqClaimer in Redis (TANDEM_REDIS_URL): one script call per tab of a flush, sent
 * in one pipeline. Its own connection, so that a slow claim never queues behind the live rooms' commands.
 * `onError` counts failures (the writer then counts the seqs as if alone).
 */
export function createRedisSeqClaimer(url: string, onError: (op: string) => void): { claim: SeqClaimer; close(): void } {
  // A flush must not hang on Redis (the writer then counts without the claim): one retry, and no answer
  // within CLAIM_TIMEOUT_MS fails the claim, whatever the connection is doing (down, reconnecting).
  const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2_000, commandTimeout: CLAIM_TIMEOUT_MS }) as ClaimingRedis;
  redis.on('error', () => onError('connection:seq-claims'));
  redis.defineCommand('tandemClaimSeqs', { numberOfKeys: 1, lua: CLAIM_SCRIPT });
  return {
    async claim(claims) {
      const pipe = redis.pipeline() as unknown as ClaimPipeline;
      for (const c of claims) pipe.tandemClaimSeqs(seqClaimKey(c), SEQ_CLAIM_TTL_S, SEQ_CLAIM_MAX_RANGES, ...c.ranges.flat());
      const results = (await pipe.exec()) ?? [];
      return claims.map((_, i) => {
        const [err, flat] = results[i] ?? [new Error('no answer')];
        if (err) {
          onError('seq-claim');
          throw err;
        }
        const ranges: [number, number][] = [];
        const list = flat as number[];
        for (let j = 0; j < list.length; j += 2) ranges.push([Number(list[j]), Number(list[j + 1])]);
        return ranges;
      });
    },
    close: () => redis.disconnect(),
  };
}
