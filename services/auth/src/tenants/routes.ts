// Practice sign-up and settings: POST /tenants, GET/PATCH /tenants/current.
import { ApiRouter, atLeastOneField } from '@praxis/platform';
import { z } from 'zod';
import type { AuthComponents } from '../common/components';
import { LoginThrottle } from '../login/throttle';
import { emailSchema, nameSchema, newPasswordSchema, slugSchema } from '../common/schemas';
import { currentTenant, signUp, tenantView, updateTenant } from './use-cases';
import type { TenantDeps } from './use-cases';

export type TenantRouteDeps = TenantDeps & Pick<AuthComponents, 'authenticator' | 'config' | 'redis'>;

const tenantResponse = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  mfaRequired: z.boolean(),
  status: z.enum(['active', 'deletion-scheduled', 'purged']),
  deletionScheduledFor: z.string().optional(),
  createdAt: z.string(),
});

export function tenantRoutes(deps: TenantRouteDeps): ApiRouter {
  const r = new ApiRouter(deps.authenticator);
  r.route(
    {
      method: 'post',
      path: '/tenants',
      summary: 'Sign up a practice with its first admin',
      tags: ['practices'],
      auth: 'public',
      status: 201,
      body: z.strictObject({
        name: nameSchema,
        slug: slugSchema,
        admin: z.strictObject({ name: nameSchema, email: emailSchema, password: newPasswordSchema }),
      }),
      errors: { 409: 'The slug is taken', 429: 'Too many requests from this address' },
    },
    async ({ body, req }) => {
      await new LoginThrottle(deps.redis, deps.config).checkIp(req.ip ?? 'unknown');
      return signUp(deps, body);
    },
  );
  r.route(
    {
      method: 'get',
      path: '/tenants/current',
      summary: 'The caller’s practice',
      tags: ['practices'],
      auth: { permission: 'tenant:read' },
      response: tenantResponse,
    },
    async ({ auth }) => tenantView(await currentTenant(deps, auth.tenantId)),
  );
  r.route(
    {
      method: 'get',
      path: '/internal/practice',
      summary: 'The display name and slug of the calling service’s practice (the tenant of its service token)',
      tags: ['practices'],
      internal: true,
      auth: { permission: 'internal:practice-profile' },
      response: z.object({ id: z.string(), slug: z.string(), name: z.string() }),
      errors: { 404: 'No such practice' },
    },
    async ({ auth }) => {
      const t = tenantView(await currentTenant(deps, auth.tenantId));
      return { id: t.id, slug: t.slug, name: t.name };
    },
  );
  r.route(
    {
      method: 'patch',
      path: '/tenants/current',
      summary: 'Change practice settings (name, mandatory 2FA)',
      tags: ['practices'],
      auth: { permission: 'tenant:manage' },
      body: atLeastOneField(z.strictObject({ name: nameSchema.optional(), mfaRequired: z.boolean().optional() })),
      response: tenantResponse,
    },
    async ({ auth, body }) => tenantView(await updateTenant(deps, auth.tenantId, body, auth.actor)),
  );
  return r;
}
