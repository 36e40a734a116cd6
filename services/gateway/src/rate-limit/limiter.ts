// Sliding-window rate limits in Redis, shared by every gateway replica. Each key counts
// hits in fixed windows; the estimate weighs the previous window by how much of it still
// overlaps the sliding window (the usual "sliding window counter"). One round trip per
// check (a Lua script). Redis errors propagate: callers fail closed.
import type { Redis } from 'ioredis';

const SCRIPT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local current = math.floor(now / window)
local curKey = KEYS[1] .. ':' .. current
local prevKey = KEYS[1] .. ':' .. (current - 1)
local prev = tonumber(redis.call('GET', prevKey) or '0')
local elapsed = now - current * window
local weight = (window - elapsed) / window
local estimate = math.floor(prev * weight)
local count = tonumber(redis.call('GET', curKey) or '0')
if estimate + count >= limit then
  return {0, estimate + count, window - elapsed}
end
count = redis.call('INCR', curKey)
if count == 1 then redis.call('PEXPIRE', curKey, window * 2) end
return {1, estimate + count, window - elapsed}
`;

export interface RateLimitRule {
  /** Short name used in the Redis key and metrics (`ip`, `auth-ip`, `user`). */
  name: string;
  limit: number;
  windowMs: number;
}

export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until a retry can succeed. */
  retryAfterSeconds: number;
}

export class RateLimiter {
  private sha?: string;

  constructor(
    private readonly redis: Pick<Redis, 'evalsha' | 'script'>,
    private readonly prefix = 'praxis:gateway:rl',
  ) {}

  async hit(rule: RateLimitRule, subject: string, now = Date.now()): Promise<RateLimitResult> {
    const key = `${this.prefix}:${rule.name}:${subject}`;
    const args = [String(now), String(rule.windowMs), String(rule.limit)];
    let reply: unknown;
    try {
      this.sha ??= (await this.redis.script('LOAD', SCRIPT)) as string;
      reply = await this.redis.evalsha(this.sha, 1, key, ...args);
    } catch (err) {
      if (!/NOSCRIPT/.test((err as Error).message)) throw err;
      this.sha = (await this.redis.script('LOAD', SCRIPT)) as string;
      reply = await this.redis.evalsha(this.sha, 1, key, ...args);
    }
    const [allowed, used, msLeftInWindow] = reply as [number, number, number];
    const remaining = Math.max(0, rule.limit - used);
    // Under the sliding estimate, room appears gradually; the end of the current window
    // is a safe upper bound for when a retry succeeds.
    return { allowed: allowed === 1, limit: rule.limit, remaining, retryAfterSeconds: Math.max(1, Math.ceil(msLeftInWindow / 1000)) };
  }
}
