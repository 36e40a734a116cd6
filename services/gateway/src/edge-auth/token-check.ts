// The edge's token check: the same JwksVerifier every service uses (ES256, kid allow-list
// from auth's JWKS), with verified tokens remembered briefly so a busy client does not pay
// for a signature check on every request. Revocation is not cached: it is checked in Redis
// on every request, in the same round trip as the rate limits (see rate-limit/limiter.ts).
import type { AccessTokenClaims } from '@praxis/contracts';
import { type JwksVerifier, problems } from '@praxis/platform';

export interface TokenCheckOptions {
  /** Longest a verified token is remembered (also bounded by its own expiry). */
  cacheMs?: number;
  maxEntries?: number;
}

export class TokenCheck {
  private readonly cache = new Map<string, { claims: AccessTokenClaims; until: number }>();
  private readonly cacheMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly verifier: Pick<JwksVerifier, 'verify'>,
    opts: TokenCheckOptions = {},
  ) {
    // Short: a key withdrawn from the JWKS stops being trusted here within this time.
    this.cacheMs = opts.cacheMs ?? 60_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /** Claims of a valid token, or a 401 problem. */
  async verify(token: string, now = Date.now()): Promise<AccessTokenClaims> {
    const hit = this.cache.get(token);
    if (hit) {
      if (hit.until > now) return hit.claims;
      this.cache.delete(token);
    }
    let claims: AccessTokenClaims;
    try {
      claims = await this.verifier.verify(token);
    } catch {
      throw problems.unauthenticated('The access token is invalid or expired.');
    }
    if (this.cache.size >= this.maxEntries) {
      // Oldest first: Map keeps insertion order.
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(token, { claims, until: Math.min(now + this.cacheMs, claims.exp * 1000) });
    return claims;
  }
}
