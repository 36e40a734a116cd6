// MFA challenges: after a correct password, an opaque single-use token (5 minutes) that
// lets the holder present a second factor (`verify`) or, when the practice requires 2FA
// and the user has none, enrol TOTP (`enrol`). Only the token's hash is kept, in Redis.
import { randomToken, sha256 } from '@praxis/platform';
import type { Redis } from 'ioredis';
import type { AuthConfig } from '../config';
import type { SessionKind } from '../sessions/model';

export type ChallengePurpose = 'verify' | 'enrol';

export interface Challenge {
  tenantId: string;
  userId: string;
  purpose: ChallengePurpose;
  sessionKind: SessionKind;
  attempts: number;
}

/** Wrong codes one challenge accepts before it is thrown away (the password is asked again). */
export const CHALLENGE_MAX_ATTEMPTS = 5;

export class ChallengeStore {
  constructor(
    private readonly redis: Redis,
    private readonly config: AuthConfig,
  ) {}

  private key(token: string): string {
    return `${this.config.REDIS_PREFIX}mfa:${sha256(token)}`;
  }

  async create(c: Omit<Challenge, 'attempts'>): Promise<string> {
    const token = `mfa_${randomToken(32)}`;
    const key = this.key(token);
    await this.redis
      .multi()
      .hset(key, { ...c, attempts: 0 })
      .expire(key, this.config.MFA_CHALLENGE_TTL_S)
      .exec();
    return token;
  }

  async get(token: string, purpose: ChallengePurpose): Promise<Challenge | undefined> {
    if (!/^mfa_[A-Za-z0-9_-]{40,60}$/.test(token)) return undefined;
    const h = await this.redis.hgetall(this.key(token));
    if (!h.tenantId || !h.userId || h.purpose !== purpose) return undefined;
    return {
      tenantId: h.tenantId,
      userId: h.userId,
      purpose,
      sessionKind: h.sessionKind as SessionKind,
      attempts: Number(h.attempts ?? 0),
    };
  }

  /** Count a wrong code; the challenge dies after CHALLENGE_MAX_ATTEMPTS. */
  async failed(token: string): Promise<void> {
    const key = this.key(token);
    const n = await this.redis.hincrby(key, 'attempts', 1);
    if (n >= CHALLENGE_MAX_ATTEMPTS) await this.redis.del(key);
  }

  /** Use it up; false when another request already did (so it is used exactly once). */
  async consume(token: string): Promise<boolean> {
    return (await this.redis.del(this.key(token))) === 1;
  }
}
