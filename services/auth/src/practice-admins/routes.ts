// GET /internal/practice-admins: every active practice with the names and email addresses of
// its active admins, for messaging's practice-notice command (an operator emailing every
// practice admin about planned maintenance or an outage; docs/messaging.md). Internal: not
// routed by the gateway (it refuses every `/internal/…` path), and, like
// /internal/service-tokens, authenticated by the calling service's client secret (HTTP
// Basic) — only messaging's is accepted, since the answer spans practices and no practice's
// token may read another's staff. Paged by practice id. Each call is an audited event (the
// calling service and the number of practices and admins, never an address) in that practice's log.
import { ApiRouter, makeEvent, problems } from '@praxis/platform';
import { trusted } from 'mongoose';
import { z } from 'zod';
import type { AuthComponents } from '../common/components';
import { authenticateService, parseClientSecrets } from '../service-tokens/use-cases';
import { tenantModel } from '../tenants/model';

export type PracticeAdminRouteDeps = Pick<AuthComponents, 'authenticator' | 'config' | 'events' | 'mongo' | 'users'>;

/** The only service that may list practice admins. */
const CALLER = 'messaging';
const USERS_PAGE = 200;

export function practiceAdminRoutes(deps: PracticeAdminRouteDeps): ApiRouter {
  const secrets = parseClientSecrets(deps.config.SERVICE_CLIENT_SECRETS);
  const tenants = tenantModel(deps.mongo);
  const r = new ApiRouter(deps.authenticator);
  r.route(
    {
      method: 'get',
      path: '/internal/practice-admins',
      summary: "Every active practice's active admins with their email addresses (HTTP Basic: messaging's client secret)",
      tags: ['service-tokens'],
      auth: 'public',
      internal: true,
      query: z.strictObject({
        after: z
          .string()
          .max(200)
          .regex(/^[A-Za-z0-9_-]+$/)
          .optional(),
        limit: z.coerce.number().int().min(1).max(100).default(50),
      }),
      response: z.object({
        items: z.array(
          z.object({
            tenantId: z.string(),
            practice: z.string(),
            admins: z.array(z.object({ userId: z.string(), name: z.string(), email: z.string() })),
          }),
        ),
        next: z.string().optional(),
      }),
      errors: { 401: 'No or a wrong client secret', 403: 'A service other than messaging' },
    },
    async ({ req, query }) => {
      const service = authenticateService(secrets, req.headers.authorization);
      if (!service) throw problems.unauthenticated('A service client secret is required.');
      if (service !== CALLER) throw problems.forbidden('Only messaging may list practice admins.');
      const page = await tenants
        .find({ status: 'active', ...(query.after ? { _id: trusted({ $gt: query.after }) } : {}) })
        .sort({ _id: 1 })
        .limit(query.limit)
        .lean();
      const items = [];
      for (const t of page) {
        const admins: { userId: string; name: string; email: string }[] = [];
        let after: string | undefined;
        for (;;) {
          const users = await deps.users.list(t._id, USERS_PAGE, after);
          for (const u of users) if (u.role === 'admin' && !u.disabled) admins.push({ userId: u._id, name: u.name, email: u.email });
          if (users.length < USERS_PAGE) break;
          after = users[users.length - 1]!._id;
        }
        items.push({ tenantId: t._id, practice: t.name ?? t.slug, admins });
      }
      // Each practice's audit log shows that its admins' addresses were read, and by whom.
      await deps.events.recordAccess(
        items.map((i) =>
          makeEvent({
            type: 'auth.practice-admins.listed',
            tenantId: i.tenantId,
            actor: { kind: 'service', id: service },
            data: { service, admins: i.admins.length },
          }),
        ),
      );
      return { items, ...(page.length === query.limit ? { next: page[page.length - 1]!._id } : {}) };
    },
  );
  return r;
}
