// The practice's name for direct messages, from auth (`GET /tenants/current` with the
// caller's own token: auth decides what the caller may read), cached for a while.
import { TtlCache, problems } from '@praxis/platform';
import type { PracticeNames } from './use-cases';

export class AuthPracticeNames implements PracticeNames {
  private readonly cache = new TtlCache<string>(10 * 60_000, 10_000);

  constructor(private readonly authUrl: string) {}

  async nameOf(tenantId: string, bearerToken: string): Promise<string> {
    const hit = this.cache.get(tenantId);
    if (hit) return hit;
    let res: Response;
    try {
      res = await fetch(`${this.authUrl.replace(/\/$/, '')}/api/v1/tenants/current`, {
        headers: { authorization: `Bearer ${bearerToken}` },
        signal: AbortSignal.timeout(5_000),
      });
    } catch {
      throw problems.unavailable('Auth cannot be reached right now.');
    }
    if (!res.ok) {
      await res.arrayBuffer().catch(() => undefined);
      throw problems.unavailable(`Auth did not name the practice (${res.status}).`);
    }
    const body = (await res.json()) as { name?: unknown; id?: unknown };
    if (typeof body.name !== 'string' || body.id !== tenantId) throw problems.unavailable('Auth did not name the practice.');
    this.cache.set(tenantId, body.name);
    return body.name;
  }
}
