// Practice sign-up and settings: POST /tenants, GET/PATCH /tenants/current.
import { ApiRouter, atLeastOneField, codePointString, humanText } from '@praxis/platform';
import { z } from 'zod';
import type { AuthComponents } from '../common/components';
import { LoginThrottle } from '../login/throttle';
import { PASSWORD_MAX, PASSWORD_MIN } from '../common/passwords';
import { currentTenant, signUp, tenantView, updateTenant } from './use-cases';
import type { TenantDeps } from './use-cases';

export type TenantRouteDeps = TenantDeps & Pick<AuthComponents, 'authenticator' | 'config' | 'redis'>;

export const slugSchema = z
  .string()
  .min(3)
  .max(40)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, 'lowercase letters, digits and inner hyphens');
export const emailSchema = z.email().max(254);
/** A person's or a practice's name: no control, bidi-override or zero-width characters. */
export const nameSchema = humanText({ max: 200 });
/** A password being checked (login, confirmation): any length the policy ever allowed. */
export const passwordSchema = codePointString(1, PASSWORD_MAX);
/** A password being set: the policy's length, stated in the document as the server enforces it. */
export const newPasswordSchema = codePointString(PASSWORD_MIN, PASSWORD_MAX);

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
