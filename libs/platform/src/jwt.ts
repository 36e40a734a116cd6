// Access-token verification against a JWKS: pinned algorithms, a kid allow-list made of
// the keys the JWKS publishes, public keys held as KeyObjects (never strings), and a
// bounded refresh when an unknown kid appears (key rotation without downtime). A token
// that passed is remembered, keyed by a SHA-256 of it, until its `exp` (bounded memory):
// its next verifications skip the signature check, and stop at once when the key it was
// verified with leaves the JWKS. Revocation is not the verifier's business: callers check
// it on every request (libs/platform/src/http/auth.ts, the gateway).
import { type AccessTokenClaims, TOKEN_ALGORITHMS, TOKEN_AUDIENCE, TOKEN_ISSUER, accessTokenClaimsSchema } from '@praxis/contracts';
import { type KeyObject, createHash, createPublicKey } from 'node:crypto';
import jwt, { type Algorithm } from 'jsonwebtoken';

export interface PublicJwk {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}

export type JwksSource = () => Promise<{ keys: PublicJwk[] }>;

/** Fetch a JWKS over HTTP with a timeout. */
export function httpJwksSource(url: string, timeoutMs = 3000): JwksSource {
  return async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`JWKS ${url} answered ${res.status}`);
    return (await res.json()) as { keys: PublicJwk[] };
  };
}

export class TokenInvalidError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'TokenInvalidError';
  }
}

export interface JwksVerifierOptions {
  source: JwksSource;
  issuer?: string;
  audience?: string;
  algorithms?: readonly Algorithm[];
  /** Refresh at most this often when an unknown kid shows up. */
  minRefreshGapMs?: number;
  /** Refresh in the background this often regardless. */
  maxAgeMs?: number;
  clockToleranceSeconds?: number;
  /** How many verified tokens are remembered (0: none); default 10,000. */
  cacheEntries?: number;
}

interface Verified {
  claims: AccessTokenClaims;
  /** The key it was verified with: a hit counts only while that key is still published. */
  key: KeyObject;
  kid: string;
  /** Its `exp`, in ms. */
  until: number;
}

export class JwksVerifier {
  private keys = new Map<string, KeyObject>();
  /** The JWK each key was made from: a refresh that publishes the same key keeps its KeyObject. */
  private keySources = new Map<string, string>();
  private fetchedAt = 0;
  private inflight?: Promise<void>;
  private readonly algorithms: Algorithm[];
  private readonly verified = new Map<string, Verified>();
  private readonly cacheEntries: number;

  constructor(private readonly opts: JwksVerifierOptions) {
    this.algorithms = [...(opts.algorithms ?? (TOKEN_ALGORITHMS as readonly Algorithm[]))];
    this.cacheEntries = opts.cacheEntries ?? 10_000;
  }

  /** How many verified tokens are remembered now. */
  get cachedTokens(): number {
    return this.verified.size;
  }

  /** Load the keys; call at boot so the first request does not pay for it. */
  async refresh(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        const { keys } = await this.opts.source();
        const next = new Map<string, KeyObject>();
        const sources = new Map<string, string>();
        for (const jwk of keys) {
          if (!jwk.kid || (jwk.use && jwk.use !== 'sig')) continue;
          if (jwk.alg && !this.algorithms.includes(jwk.alg as Algorithm)) continue;
          try {
            // The same key published again keeps its KeyObject, so the tokens remembered
            // as verified with it stay remembered; a changed or withdrawn key does not.
            const source = JSON.stringify([jwk.kty, jwk.crv, jwk.x, jwk.y, jwk.n, jwk.e, jwk.alg]);
            const same = this.keySources.get(jwk.kid) === source ? this.keys.get(jwk.kid) : undefined;
            next.set(jwk.kid, same ?? createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }));
            sources.set(jwk.kid, source);
          } catch {
            // A malformed key is skipped, never trusted.
          }
        }
        this.keys = next;
        this.keySources = sources;
        this.fetchedAt = Date.now();
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  private async keyFor(kid: string): Promise<KeyObject | undefined> {
    const maxAge = this.opts.maxAgeMs ?? 10 * 60_000;
    if (this.fetchedAt === 0 || Date.now() - this.fetchedAt > maxAge) await this.refresh().catch(() => undefined);
    let key = this.keys.get(kid);
    if (!key && Date.now() - this.fetchedAt >= (this.opts.minRefreshGapMs ?? 5_000)) {
      await this.refresh().catch(() => undefined);
      key = this.keys.get(kid);
    }
    return key;
  }

  async verify(token: string): Promise<AccessTokenClaims> {
    if (this.cacheEntries === 0) return this.verifyFully(token);
    const now = Date.now();
    const id = createHash('sha256').update(token).digest('base64');
    const hit = this.verified.get(id);
    if (hit) {
      // Keys older than maxAge are refreshed first, as on the full path.
      const fresh = now - this.fetchedAt <= (this.opts.maxAgeMs ?? 10 * 60_000);
      if (hit.until > now && fresh && this.keys.get(hit.kid) === hit.key) return hit.claims;
      this.verified.delete(id);
    }
    const claims = await this.verifyFully(token);
    const kid = (jwt.decode(token, { complete: true }) as { header: { kid: string } }).header.kid;
    const key = this.keys.get(kid);
    if (key && claims.exp * 1000 > now) {
      // Oldest first (a Map keeps insertion order): expired entries at the front go, then
      // the oldest while full.
      for (const [k, e] of this.verified) {
        if (e.until > now && this.verified.size < this.cacheEntries) break;
        this.verified.delete(k);
      }
      this.verified.set(id, { claims: Object.freeze(claims), key, kid, until: claims.exp * 1000 });
    }
    return claims;
  }

  private async verifyFully(token: string): Promise<AccessTokenClaims> {
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded === 'string' || typeof decoded.payload === 'string') throw new TokenInvalidError('malformed token');
    const { alg, kid } = decoded.header;
    if (!this.algorithms.includes(alg as Algorithm)) throw new TokenInvalidError('algorithm not allowed');
    if (typeof kid !== 'string' || kid.length === 0 || kid.length > 200) throw new TokenInvalidError('missing kid');
    const key = await this.keyFor(kid);
    if (!key) throw new TokenInvalidError('unknown kid');
    let payload: unknown;
    try {
      payload = jwt.verify(token, key, {
        algorithms: this.algorithms,
        issuer: this.opts.issuer ?? TOKEN_ISSUER,
        audience: this.opts.audience ?? TOKEN_AUDIENCE,
        clockTolerance: this.opts.clockToleranceSeconds ?? 5,
      });
    } catch (err) {
      throw new TokenInvalidError((err as Error).message);
    }
    const claims = accessTokenClaimsSchema.safeParse(payload);
    if (!claims.success) throw new TokenInvalidError('claims do not match the contract');
    return claims.data;
  }
}
