// Service tokens from auth for records' internal routes: `POST /api/v1/internal/service-tokens`
// with HTTP Basic `messaging:<SERVICE_CLIENT_SECRET>` and `{ tenantId }` answers
// `{ accessToken, expiresIn }` (the contract in docs/platform.md). Each practice's token is
// cached until shortly before it expires; concurrent first uses share one request.
import type { ServiceTokenSource } from '@praxis/platform';

export class AuthServiceTokenSource implements ServiceTokenSource {
  private readonly cache = new Map<string, { token: string; renewAt: number }>();
  private readonly pending = new Map<string, Promise<string>>();

  constructor(private readonly o: { authUrl: string; service: string; clientSecret: string; timeoutMs?: number }) {}

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
    const res = await fetch(`${this.o.authUrl.replace(/\/$/, '')}/api/v1/internal/service-tokens`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${this.o.service}:${this.o.clientSecret}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ tenantId }),
      signal: AbortSignal.timeout(this.o.timeoutMs ?? 5_000),
    });
    if (!res.ok) {
      await res.arrayBuffer().catch(() => undefined);
      throw new Error(`auth refused a service token (${res.status})`);
    }
    const body = (await res.json()) as { accessToken?: unknown; expiresIn?: unknown };
    if (typeof body.accessToken !== 'string' || typeof body.expiresIn !== 'number') throw new Error('auth answered without a token');
    const lifeMs = body.expiresIn * 1000;
    this.cache.set(tenantId, { token: body.accessToken, renewAt: Date.now() + Math.max(lifeMs / 2, lifeMs - 30_000) });
    return body.accessToken;
  }
}
