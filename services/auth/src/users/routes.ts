// User administration: POST/GET /users, GET/PATCH /users/:id, 2FA reset and session revocation.
import { tenantRoles } from '@praxis/contracts';
import { ApiRouter, atLeastOneField, decodeCursor, pageOf } from '@praxis/platform';
import { z } from 'zod';
import type { AuthComponents } from '../common/components';
import { resetTotp } from '../mfa/use-cases';
import { revokeSessionsWhere } from '../sessions/use-cases';
import { emailSchema, listQuery, nameSchema, newPasswordSchema } from '../common/schemas';
import { createUser, getUser, updateUser, userView } from './use-cases';
import type { UserDeps } from './use-cases';
import type { MfaDeps } from '../mfa/use-cases';

export type UserRouteDeps = UserDeps & MfaDeps & Pick<AuthComponents, 'authenticator'>;

/** An opaque id in a path (anything else is refused with 400, as the document says). */
const idParams = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
});
const userResponse = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.string(),
  disabled: z.boolean(),
  mfa: z.object({ totp: z.boolean() }),
  createdAt: z.string(),
});

export function userRoutes(deps: UserRouteDeps): ApiRouter {
  const r = new ApiRouter(deps.authenticator);
  r.route(
    {
      method: 'post',
      path: '/users',
      summary: 'Add a user to the practice',
      tags: ['users'],
      auth: { permission: 'user:manage' },
      status: 201,
      body: z.strictObject({ name: nameSchema, email: emailSchema, role: z.enum(tenantRoles), password: newPasswordSchema }),
      response: userResponse,
      errors: { 409: 'The email is already used in this practice' },
    },
    async ({ auth, body }) => userView(await createUser(deps, auth.tenantId, body, auth.actor)),
  );
  r.route(
    {
      method: 'get',
      path: '/users',
      summary: 'List the practice’s users',
      tags: ['users'],
      auth: { permission: 'user:read' },
      query: listQuery,
    },
    async ({ auth, query }) => {
      const rows = await deps.users.list(auth.tenantId, query.limit + 1, decodeCursor(query.cursor));
      const page = pageOf(rows.map(userView), query.limit, (u) => u.id);
      return page;
    },
  );
  r.route(
    {
      method: 'get',
      path: '/users/:id',
      summary: 'One user',
      tags: ['users'],
      auth: { permission: 'user:read' },
      params: idParams,
      response: userResponse,
    },
    async ({ auth, params }) => userView(await getUser(deps, auth.tenantId, params.id)),
  );
  r.route(
    {
      method: 'patch',
      path: '/users/:id',
      summary: 'Change a user’s role or name, or disable/enable them (their sessions end)',
      tags: ['users'],
      auth: { permission: 'user:manage' },
      params: idParams,
      body: atLeastOneField(
        z.strictObject({ role: z.enum(tenantRoles).optional(), disabled: z.boolean().optional(), name: nameSchema.optional() }),
      ),
      response: userResponse,
      errors: { 422: 'Would leave the practice without an active admin' },
    },
    async ({ auth, params, body }) => userView(await updateUser(deps, auth.tenantId, params.id, body, auth.actor)),
  );
  r.route(
    {
      method: 'post',
      path: '/users/:id/mfa/reset',
      summary: 'Reset a user’s 2FA (audited)',
      tags: ['users'],
      auth: { permission: 'user:manage' },
      params: idParams,
      status: 204,
    },
    async ({ auth, params }) => {
      await resetTotp(deps, auth.tenantId, params.id, auth.actor);
    },
  );
  r.route(
    {
      method: 'delete',
      path: '/users/:id/sessions',
      summary: 'End every session of a user at once',
      tags: ['users'],
      auth: { permission: 'user:manage' },
      params: idParams,
      status: 204,
    },
    async ({ auth, params }) => {
      await getUser(deps, auth.tenantId, params.id);
      await revokeSessionsWhere(deps, auth.tenantId, { userId: params.id }, 'admin', auth.actor);
    },
  );
  return r;
}
