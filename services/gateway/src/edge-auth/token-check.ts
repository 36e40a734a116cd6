// The edge's token check: the same JwksVerifier every service uses (ES256, kid allow-list
// from auth's JWKS), with verified tokens remembered so a busy client pays for the
// signature check once per token, not once per request. The memory is keyed by a SHA-256
// of the token (a heap dump holds no usable token), bounded (the oldest entry goes when
// full), and an entry is never used past the token's `exp` nor past `cacheMs` (so a key
// withdrawn from the JWKS stops being trusted here within that time). Revocation is not
// cached: it is checked in Redis on every request, in the same round trip as the rate
// limits (see rate-limit/limiter.ts). A refusal is never remembered.
import type { AccessTokenClaims } from '@praxis/contracts';
import { type JwksVerifier, problems } from '@praxis/platform';
import { createHash } from 'node:crypto';

export interface TokenCheckOptions {
  /** Longest a verified token is remembered (also bounded by its own expiry). */
  cacheMs?: number;
  maxEntries?: number;
}

interface Entry {
  claims: AccessTokenClaims;
  until: number;
}

export class TokenCheck {
  private readonly cache = new Map<string, Entry>();
  private readonly cacheMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly verifier: Pick<JwksVerifier, 'verify'>,
    opts: TokenCheckOptions = {},
  ) {
    this.cacheMs = opts.cacheMs ?? 60_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /** How many verified tokens are remembered now. */
  get size(): number {
    return this.cache.size;
  }

  /** Claims of a valid token, or a 401 problem. */
  async verify(token: string, now = Date.now()): Promise<AccessTokenClaims> {
    const key = createHash('sha256').update(token).digest('base64');
    const hit = this.cache.get(key);
    if (hit) {
      if (hit.until > now) return hit.claims;
      this.cache.delete(key);
    }
    let claims: AccessTokenClaims;
    try {
      claims = await this.verifier.verify(token);
    } catch {
      throw problems.unauthenticated('The access token is invalid or expired.');
    }
    const until = Math.min(now + this.cacheMs, claims.exp * 1000);
    if (until > now) this.remember(key, { claims, until }, now);
    return claims;
  }

  private remember(key: string, entry: Entry, now: number): void {
    // Oldest first (a Map keeps insertion order): drop the expired ones met at the front,
    // then the oldest while full.
    for (const [k, e] of this.cache) {
      if (e.until > now && this.cache.size < this.maxEntries) break;
      this.cache.delete(k);
    }
    this.cache.set(key, entry);
  }
}
