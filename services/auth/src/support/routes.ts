// Support mode endpoints: grants (practice admins), the list of support logins, the
// support user's login into the platform and their sessions into a practice.
import { supportScopes } from '@praxis/contracts';
import { ApiRouter, decodeCursor, pageOf, problems } from '@praxis/platform';
import { z } from 'zod';
import type { AuthComponents } from '../common/components';
import { passwordLogin } from '../login/use-cases';
import { clientIp, emailSchema, listQuery, passwordSchema, slugSchema, tokenResponse } from '../common/schemas';
import { PLATFORM_TENANT } from '../users/model';
import { MAX_GRANT_MINUTES, createGrant, grantView, revokeGrant, startSupportSession } from './use-cases';
import type { SupportDeps } from './use-cases';
import type { LoginDeps } from '../login/use-cases';

export type SupportRouteDeps = SupportDeps & LoginDeps & Pick<AuthComponents, 'authenticator'>;

/** An opaque id in a path (anything else is refused with 400, as the document says). */
const idParams = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
});

/** Newest-first lists page by the createdAt of the last item (the platform's cursor around it). */
const createdBefore = (cursor?: string): Date | undefined => {
  const position = decodeCursor(cursor);
  if (position === undefined) return undefined;
  const d = new Date(position);
  if (Number.isNaN(d.getTime()))
    throw problems.badRequest('The cursor is not valid.', [{ path: 'query.cursor', message: 'not a cursor from this list' }]);
  return d;
};

export function supportRoutes(deps: SupportRouteDeps): ApiRouter {
  const r = new ApiRouter(deps.authenticator);
  r.route(
    {
      method: 'post',
      path: '/support/grants',
      summary: 'Let platform support in for a while',
      tags: ['support'],
      auth: { permission: 'support-grant:manage' },
      status: 201,
      body: z.strictObject({
        scope: z.enum(supportScopes),
        reason: z.string().trim().min(1).max(500),
        durationMinutes: z.number().int().min(1).max(MAX_GRANT_MINUTES),
      }),
    },
    async ({ auth, body }) => {
      if (auth.actor.kind !== 'user') throw problems.forbidden();
      return grantView(await createGrant(deps, auth.tenantId, body, auth.actor));
    },
  );
  r.route(
    {
      method: 'get',
      path: '/support/grants',
      summary: 'Support grants, newest first',
      tags: ['support'],
      auth: { permission: 'support-grant:manage' },
      query: listQuery,
    },
    async ({ auth, query }) => {
      const rows = await deps.grants.list(auth.tenantId, query.limit + 1, createdBefore(query.cursor));
      const page = pageOf(rows, query.limit, (g) => g.createdAt.toISOString());
      return { ...page, items: page.items.map((g) => grantView(g)) };
    },
  );
  r.route(
    {
      method: 'delete',
      path: '/support/grants/:id',
      summary: 'Withdraw a grant; its sessions end at once',
      tags: ['support'],
      auth: { permission: 'support-grant:manage' },
      params: idParams,
      status: 204,
    },
    async ({ auth, params }) => {
      if (auth.actor.kind !== 'user') throw problems.forbidden();
      await revokeGrant(deps, auth.tenantId, params.id, auth.actor);
    },
  );
  r.route(
    {
      method: 'get',
      path: '/support/sessions',
      summary: 'Every support login into this practice',
      tags: ['support'],
      auth: { permission: 'support-session:read' },
      query: listQuery,
    },
    async ({ auth, query }) => {
      const rows = await deps.sessions.listSupport(auth.tenantId, query.limit + 1, createdBefore(query.cursor));
      const page = pageOf(rows, query.limit, (s) => s.createdAt.toISOString());
      const now = new Date();
      const items = page.items.map((s) => {
        const ended = s.revokedAt ?? (s.expiresAt <= now ? s.expiresAt : undefined);
        return {
          id: s._id,
          supportUserId: s.supportUserId ?? s.userId,
          grantId: s.grantId,
          scope: s.scope,
          startedAt: s.createdAt.toISOString(),
          ...(ended ? { endedAt: ended.toISOString() } : {}),
        };
      });
      return { items, ...(page.next ? { next: page.next } : {}) };
    },
  );
  r.route(
    {
      method: 'post',
      path: '/support/login',
      summary: 'Platform support user login (always followed by a second factor)',
      tags: ['support'],
      auth: 'public',
      body: z.strictObject({ email: emailSchema, password: passwordSchema }),
      errors: { 401: 'Bad credentials', 423: 'Locked', 429: 'Slow down' },
    },
    ({ body, req }) => passwordLogin(deps, { email: body.email, password: body.password, ip: clientIp(req) }),
  );
  r.route(
    {
      method: 'post',
      path: '/support/sessions',
      summary: 'Open a support session into a practice (needs a live grant)',
      tags: ['support'],
      auth: 'authenticated',
      status: 201,
      body: z.strictObject({ tenant: slugSchema }),
      response: tokenResponse.extend({ scope: z.enum(supportScopes), grantId: z.string(), sessionId: z.string(), expiresAt: z.string() }),
      errors: { 403: 'Not a platform support user with both factors, or no live grant' },
    },
    async ({ auth, body }) => {
      if (
        auth.tenantId !== PLATFORM_TENANT ||
        auth.role !== 'support' ||
        auth.claims.act ||
        (!auth.amr.includes('otp') && !auth.amr.includes('rec'))
      ) {
        throw problems.forbidden('Only a platform support user can open a support session.');
      }
      return startSupportSession(deps, auth.userId, body.tenant);
    },
  );
  return r;
}
