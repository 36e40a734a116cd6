// Login throttling in Redis (ARCHITECTURE.md §2, API.md "Throttling"):
// - per account, password failures and code failures apart: the first few are free, then
//   each attempt waits a doubling delay (429 + Retry-After), and LOGIN_LOCK_AFTER
//   consecutive failures lock the account for LOGIN_LOCK_S (423 + Retry-After). Every
//   further failure re-locks. A success clears the count. Locks are always temporary.
// - per client IP: at most IP_REQUESTS_PER_MIN auth requests in any minute (≥ 300, a clinic
//   shares one address; a sliding window, so a burst across the turn of a clock minute does
//   not get the budget twice), and at most IP_FAILURES_PER_WINDOW failures in the window.
// An attempt is reserved *before* the password or code is checked, in one Lua script that
// counts the attempts still running (a second key, expiring after a minute, so a crashed
// attempt is forgotten): concurrent guesses see each other, and at most LOGIN_LOCK_AFTER
// of them are ever checked before the lock. The outcome releases the reservation: a
// failure turns it into a counted failure, a success clears everything.
// IPs appear in key names only hashed (clientIpKey).
import { clientIpKey, problems, sha256 } from '@praxis/platform';
import type { Redis } from 'ioredis';
import type { AuthConfig } from '../config';

export type ThrottleKind = 'pwd' | 'code';

// KEYS[1]: the account's hash (n: counted failures, nextAt, lockedUntil); KEYS[2]: attempts in flight.
const RESERVE = `
local now = tonumber(ARGV[1])
local free = tonumber(ARGV[2])
local base = tonumber(ARGV[3])
local max = tonumber(ARGV[4])
local lockAfter = tonumber(ARGV[5])
local ttl = tonumber(ARGV[6])
local inflightTtl = tonumber(ARGV[7])
local lu = tonumber(redis.call('HGET', KEYS[1], 'lockedUntil') or '0')
if lu > now then return {1, lu - now} end
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local p = tonumber(redis.call('GET', KEYS[2]) or '0')
if n >= lockAfter then
  -- a lock has run out: one attempt at a time, each failure locks again
  if p > 0 then return {2, 1000} end
elseif n + p >= lockAfter then
  -- the attempts already running would reach the lock: none more until they end
  return {2, 1000}
end
if n >= free then
  -- past the free failures attempts are spaced out (and so, one at a time)
  local nextAt = tonumber(redis.call('HGET', KEYS[1], 'nextAt') or '0')
  if now < nextAt then return {2, nextAt - now} end
  redis.call('HSET', KEYS[1], 'nextAt', now + math.min(base * 2 ^ (n - free), max))
  redis.call('PEXPIRE', KEYS[1], ttl)
end
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], inflightTtl)
return {0, 0}
`;

const FAIL = `
local now = tonumber(ARGV[1])
local lockAfter = tonumber(ARGV[2])
local lockMs = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local p = tonumber(redis.call('GET', KEYS[2]) or '0')
if p > 0 then redis.call('DECR', KEYS[2]) end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local locked = 0
if n >= lockAfter then
  redis.call('HSET', KEYS[1], 'lockedUntil', now + lockMs)
  locked = lockMs
end
redis.call('PEXPIRE', KEYS[1], ttl)
return {n, locked}
`;

/** How long a reservation counts at most (an attempt that died without an outcome). */
const INFLIGHT_TTL_MS = 60_000;

export interface AccountFailure {
  count: number;
  /** Set when this failure locked the account: until when. */
  lockedUntil?: Date;
}

export class LoginThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly config: AuthConfig,
  ) {}

  private keys(kind: ThrottleKind, account: string): [string, string] {
    const base = `${this.config.REDIS_PREFIX}throttle:${kind}:{${sha256(account)}}`;
    return [base, `${base}:inflight`];
  }

  /** Password throttles key on tenant + email, so unknown emails behave like known ones. */
  static passwordAccount(tenantKey: string, email: string): string {
    return `${tenantKey}|${email.trim().toLowerCase()}`;
  }

  /**
   * Throws 423 while locked and 429 while the delay runs or while the attempts already
   * running could reach the lock; otherwise reserves this attempt. Every reservation must
   * end in recordAccountFailure or clearAccount (or expires after a minute).
   */
  async checkAccount(kind: ThrottleKind, account: string): Promise<void> {
    const c = this.config;
    const ttlMs = (c.LOGIN_FAILURE_WINDOW_S + c.LOGIN_LOCK_S) * 1000;
    const [state, waitMs] = (await this.redis.eval(
      RESERVE,
      2,
      ...this.keys(kind, account),
      Date.now(),
      c.LOGIN_FREE_FAILURES,
      c.LOGIN_DELAY_BASE_MS,
      c.LOGIN_DELAY_MAX_MS,
      c.LOGIN_LOCK_AFTER,
      ttlMs,
      INFLIGHT_TTL_MS,
    )) as [number, number];
    if (state === 1) throw problems.locked(waitMs / 1000, 'Too many failed attempts: temporarily locked.');
    if (state === 2) throw problems.tooManyRequests(waitMs / 1000, 'Too many failed attempts: wait before trying again.');
  }

  async recordAccountFailure(kind: ThrottleKind, account: string): Promise<AccountFailure> {
    const c = this.config;
    const ttlMs = (c.LOGIN_FAILURE_WINDOW_S + c.LOGIN_LOCK_S) * 1000;
    const [count, lockedMs] = (await this.redis.eval(
      FAIL,
      2,
      ...this.keys(kind, account),
      Date.now(),
      c.LOGIN_LOCK_AFTER,
      c.LOGIN_LOCK_S * 1000,
      ttlMs,
    )) as [number, number];
    return { count, ...(lockedMs > 0 ? { lockedUntil: new Date(Date.now() + lockedMs) } : {}) };
  }

  async clearAccount(kind: ThrottleKind, account: string): Promise<void> {
    await this.redis.del(...this.keys(kind, account));
  }

  /** Count an auth request from an IP; throws 429 above the per-minute budget or the failure budget. */
  async checkIp(ip: string): Promise<void> {
    const c = this.config;
    const now = Date.now();
    const minute = Math.floor(now / 60_000);
    const reqKey = (m: number) => `${c.REDIS_PREFIX}ip:req:${clientIpKey(ip)}:${m}`;
    const failKey = `${c.REDIS_PREFIX}ip:fail:${clientIpKey(ip)}`;
    const [[, requests], [, previous], [, failures], [, failTtl]] = (await this.redis
      .multi()
      .incr(reqKey(minute))
      .get(reqKey(minute - 1))
      .get(failKey)
      .pttl(failKey)
      .expire(reqKey(minute), 120)
      .exec()) as [[null, number], [null, string | null], [null, string | null], [null, number], unknown];
    // Sliding window: the last 60 s hold this minute's requests and the part of the previous
    // minute's that is still inside them (counted as if spread evenly).
    const secondsIn = (now % 60_000) / 1000;
    const inLastMinute = requests + Number(previous ?? 0) * (1 - secondsIn / 60);
    if (inLastMinute > c.IP_REQUESTS_PER_MIN)
      throw problems.tooManyRequests(Math.max(1, 60 - secondsIn), 'Too many requests from this address.');
    if (Number(failures ?? 0) >= c.IP_FAILURES_PER_WINDOW)
      throw problems.tooManyRequests(Math.max(1, failTtl / 1000), 'Too many failed attempts from this address.');
  }

  /** Count a failure from an IP; returns true when this one reached the limit. */
  async recordIpFailure(ip: string): Promise<{ reachedLimit: boolean; until: Date }> {
    const c = this.config;
    const failKey = `${c.REDIS_PREFIX}ip:fail:${clientIpKey(ip)}`;
    const [[, n], , [, ttl]] = (await this.redis
      .multi()
      .incr(failKey)
      .expire(failKey, c.LOGIN_FAILURE_WINDOW_S, 'NX')
      .pttl(failKey)
      .exec()) as [[null, number], unknown, [null, number]];
    return { reachedLimit: n === c.IP_FAILURES_PER_WINDOW, until: new Date(Date.now() + Math.max(0, ttl)) };
  }
}
