// DELETE /tenants/current (schedules deletion) and POST /tenants/current/restore.
import { ApiRouter, problems } from '@praxis/platform';
import { z } from 'zod';
import type { AuthComponents } from '../common/components';
import { clientIp, passwordSchema } from '../common/schemas';
import { tenantView } from '../tenants/use-cases';
import { restoreTenant, scheduleDeletion } from './use-cases';
import type { DeletionDeps } from './use-cases';

export type DeletionRouteDeps = DeletionDeps & Pick<AuthComponents, 'authenticator'>;

export function deletionRoutes(deps: DeletionRouteDeps): ApiRouter {
  const r = new ApiRouter(deps.authenticator);
  r.route(
    {
      method: 'delete',
      path: '/tenants/current',
      summary: 'Schedule the practice’s deletion (cooling-off period, then purge)',
      tags: ['practices'],
      auth: { permission: 'tenant:manage' },
      status: 202,
      body: z.strictObject({ password: passwordSchema, code: z.string().min(1).max(40).optional() }),
      response: z.object({ deletionScheduledFor: z.string() }),
      errors: { 403: 'Wrong password or code' },
    },
    async ({ auth, body, req }) => {
      if (auth.actor.kind !== 'user') throw problems.forbidden();
      const t = await scheduleDeletion(deps, auth.tenantId, auth.userId, body.password, body.code, auth.actor, clientIp(req));
      return { deletionScheduledFor: t.deletionScheduledFor!.toISOString() };
    },
  );
  r.route(
    {
      method: 'post',
      path: '/tenants/current/restore',
      summary: 'Cancel a scheduled deletion',
      tags: ['practices'],
      auth: { permission: 'tenant:manage' },
      errors: { 409: 'No deletion is scheduled' },
    },
    async ({ auth }) => {
      if (auth.actor.kind !== 'user') throw problems.forbidden();
      return tenantView(await restoreTenant(deps, auth.tenantId, auth.actor));
    },
  );
  return r;
}
