// The practice's display name for the public notice page, asked of auth (its internal
// `GET /internal/practice`, permission `internal:practice-profile`) with a service token
// for that practice, and kept for a few minutes: a renamed practice shows its new name
// within PRACTICE_NAME_TTL_MS. Auth unreachable: undefined (the page shows the slug then,
// rather than failing a patient's acknowledgement over a display name).
import { type Logger, type ServiceTokenSource, TtlCache } from '@praxis/platform';

export const PRACTICE_NAME_TTL_MS = 5 * 60_000;

export type PracticeNameOf = (tenantId: string) => Promise<string | undefined>;

export function practiceNames(opts: { authUrl: string; tokens: ServiceTokenSource; logger: Logger; timeoutMs?: number }): PracticeNameOf {
  const cache = new TtlCache<string>(PRACTICE_NAME_TTL_MS, 10_000);
  return async (tenantId) => {
    const cached = cache.get(tenantId);
    if (cached !== undefined) return cached;
    try {
      const token = await opts.tokens.tokenFor(tenantId);
      const res = await fetch(`${opts.authUrl.replace(/\/$/, '')}/api/v1/internal/practice`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(opts.timeoutMs ?? 3_000),
      });
      if (!res.ok) {
        await res.arrayBuffer();
        opts.logger.warn({ status: res.status }, 'practice name not available from auth');
        return undefined;
      }
      const body = (await res.json()) as { name?: unknown };
      if (typeof body.name !== 'string' || !body.name) return undefined;
      cache.set(tenantId, body.name);
      return body.name;
    } catch (err) {
      opts.logger.warn({ reason: (err as Error).name }, 'practice name not available from auth');
      return undefined;
    }
  };
}
