// Service-to-service tokens. A service calling another one's internal routes (consent
// collating a subject access export, messaging reading contact details) presents a
// short-lived ES256 access token with `role: 'service'`, `sub: <service name>` and the
// practice's `tid`, which the callee verifies like any other token (docs/platform.md).
// Auth issues them on its internal route to a service that proves itself with its own
// client secret; this source caches each tenant's token until shortly before it expires.
/** Renew this long before a token expires. */
const TTL_MARGIN_MS = 30_000;

export interface ServiceTokenSource {
  tokenFor(tenantId: string): Promise<string>;
}

/** Path of auth's internal token route, below /api/v1 (not routed by the gateway). */
export const SERVICE_TOKEN_PATH = '/internal/service-tokens';

export interface AuthServiceTokensOptions {
  /** Base URL of the auth service, e.g. http://127.0.0.1:8081. */
  authUrl: string;
  /** This service's name: the token's `sub`. */
  service: string;
  /** This service's client secret (auth holds the same one in SERVICE_CLIENT_SECRETS). */
  clientSecret: string;
  timeoutMs?: number;
}

/** Auth answered a token request with an error status (404: no such practice in this deployment). */
export class ServiceTokenRefusedError extends Error {
  constructor(readonly status: number) {
    super(`auth refused a service token (${status})`);
    this.name = 'ServiceTokenRefusedError';
  }
}

interface Cached {
  token: string;
  /** Renew after this moment (ms since epoch). */
  renewAt: number;
}

export class AuthServiceTokens implements ServiceTokenSource {
  private readonly cache = new Map<string, Cached>();
  private readonly pending = new Map<string, Promise<string>>();

  constructor(private readonly opts: AuthServiceTokensOptions) {}

  async tokenFor(tenantId: string): Promise<string> {
    const hit = this.cache.get(tenantId);
    if (hit && hit.renewAt > Date.now()) return hit.token;
    let p = this.pending.get(tenantId);
    if (!p) {
      p = this.fetchToken(tenantId).finally(() => this.pending.delete(tenantId));
      this.pending.set(tenantId, p);
    }
    return p;
  }

  private async fetchToken(tenantId: string): Promise<string> {
    const basic = Buffer.from(`${this.opts.service}:${this.opts.clientSecret}`, 'utf8').toString('base64');
    const res = await fetch(`${this.opts.authUrl.replace(/\/$/, '')}/api/v1${SERVICE_TOKEN_PATH}`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenantId }),
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5_000),
    });
    if (!res.ok) {
      await res.arrayBuffer().catch(() => undefined);
      throw new ServiceTokenRefusedError(res.status);
    }
    const body = (await res.json()) as { accessToken?: unknown; expiresIn?: unknown };
    if (typeof body.accessToken !== 'string' || typeof body.expiresIn !== 'number')
      throw new Error('auth answered a service token request without a token');
    // Renew a little before expiry, so a token never expires in flight.
    const lifeMs = body.expiresIn * 1000;
    this.cache.set(tenantId, { token: body.accessToken, renewAt: Date.now() + Math.max(lifeMs / 2, lifeMs - TTL_MARGIN_MS) });
    return body.accessToken;
  }

  /** Forget cached tokens (tests). */
  clear(): void {
    this.cache.clear();
  }
}
