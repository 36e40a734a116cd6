// Sliding-window rate limits in Redis, shared by every gateway replica, checked together
// with the session-revocation mark in ONE round trip (a Lua script), so the edge costs a
// single Redis call per request. Each rule counts hits in fixed windows; the estimate
// weighs the previous window by how much of it the sliding window still covers (the
// "sliding window counter"). A refused request counts against nothing. Redis errors
// propagate: callers fail closed. (Several keys in one script: a single Redis, or keys
// given one hash tag on a cluster.)

const SCRIPT = `
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
if #KEYS > n and redis.call('EXISTS', KEYS[n + 1]) == 1 then return {-1, 0} end
local keys = {}
for i = 1, n do
  local window = tonumber(ARGV[1 + 2 * i])
  local limit = tonumber(ARGV[2 + 2 * i])
  local current = math.floor(now / window)
  local curKey = KEYS[i] .. ':' .. current
  local prev = tonumber(redis.call('GET', KEYS[i] .. ':' .. (current - 1)) or '0')
  local elapsed = now - current * window
  local count = tonumber(redis.call('GET', curKey) or '0')
  if math.floor(prev * (window - elapsed) / window) + count >= limit then return {i, window - elapsed} end
  keys[i] = curKey
end
for i = 1, n do
  if redis.call('INCR', keys[i]) == 1 then redis.call('PEXPIRE', keys[i], tonumber(ARGV[1 + 2 * i]) * 2) end
end
return {0, 0}
`;

export interface RateLimitRule {
  /** Short name used in the Redis key and metrics (`ip`, `auth-ip`, `user`). */
  name: string;
  limit: number;
  windowMs: number;
}

export type EdgeCheck =
  { outcome: 'allowed' } | { outcome: 'limited'; rule: RateLimitRule; retryAfterSeconds: number } | { outcome: 'revoked' };

/** What the limiter needs of a Redis client (the gateway's EdgeRedis; ioredis has it too). */
export interface ScriptRunner {
  evalsha(sha: string, numKeys: number, ...args: string[]): Promise<unknown>;
  script(subcommand: 'LOAD', source: string): Promise<unknown>;
}

export class RateLimiter {
  private sha?: string;

  constructor(
    private readonly redis: ScriptRunner,
    private readonly prefix = 'praxis:gateway:rl',
  ) {}

  /**
   * Count one request against every rule (all or nothing), unless a rule is spent or
   * `revokedKey` exists in Redis.
   */
  async check(hits: { rule: RateLimitRule; subject: string }[], revokedKey?: string, now = Date.now()): Promise<EdgeCheck> {
    const keys = hits.map((h) => `${this.prefix}:${h.rule.name}:${h.subject}`);
    if (revokedKey) keys.push(revokedKey);
    const args = [String(now), String(hits.length), ...hits.flatMap((h) => [String(h.rule.windowMs), String(h.rule.limit)])];
    let reply: unknown;
    try {
      this.sha ??= (await this.redis.script('LOAD', SCRIPT)) as string;
      reply = await this.redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!/NOSCRIPT/.test((err as Error).message)) throw err;
      this.sha = (await this.redis.script('LOAD', SCRIPT)) as string;
      reply = await this.redis.evalsha(this.sha, keys.length, ...keys, ...args);
    }
    const [verdict, msLeft] = reply as [number, number];
    if (verdict === 0) return { outcome: 'allowed' };
    if (verdict === -1) return { outcome: 'revoked' };
    // Room comes back gradually under the sliding estimate; the end of the current window
    // is a safe upper bound for when a retry succeeds.
    return { outcome: 'limited', rule: hits[verdict - 1]!.rule, retryAfterSeconds: Math.max(1, Math.ceil(msLeft / 1000)) };
  }
}
