// The practice's display name for the public notice page. Consent keeps it in its practices
// projection (patients/model.ts): the first page view after a sign-up or a rename asks auth
// (its internal `GET /internal/practice`, permission `internal:practice-profile`) with a
// service token for that practice and stores the answer; auth.tenant.updated naming `name`
// drops the stored copy (patients/consumers.ts), so a renamed practice shows its new name
// on the next page view, on every replica. Auth unreachable: undefined (the page shows the
// slug then, rather than failing a patient's acknowledgement over a display name).
import type { Logger, ServiceTokenSource } from '@praxis/platform';
import type { KnownPatientRepository } from '../patients/model';

export type PracticeNameOf = (tenantId: string) => Promise<string | undefined>;

export function practiceNames(opts: {
  authUrl: string;
  tokens: ServiceTokenSource;
  practices: Pick<KnownPatientRepository, 'practiceName' | 'rememberPracticeName'>;
  logger: Logger;
  timeoutMs?: number;
}): PracticeNameOf {
  return async (tenantId) => {
    const stored = await opts.practices.practiceName(tenantId);
    if (stored.name) return stored.name;
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
      // Stored only if no rename came in meanwhile (the generation read above still holds).
      await opts.practices.rememberPracticeName(tenantId, body.name, stored.gen);
      return body.name;
    } catch (err) {
      opts.logger.warn({ reason: (err as Error).name }, 'practice name not available from auth');
      return undefined;
    }
  };
}
