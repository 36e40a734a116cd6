// Support mode: a practice admin grants platform support time-limited access (scope,
// reason, ≤ 72 h); a support user opens a session into the practice only under a live
// grant, with `act` naming them; revoking the grant ends its sessions at once.
import { type Actor, type SupportScope } from '@praxis/contracts';
import { makeEvent, problems, randomId } from '@praxis/platform';
import type { AuthComponents } from '../common/components';
import { revokeSessionsWhere, startSession } from '../sessions/use-cases';
import { PLATFORM_TENANT } from '../users/model';
import type { GrantDoc } from './model';
import type { SessionDeps } from '../sessions/use-cases';

/** What support access uses: grants, practices, users and sessions. */
export type SupportDeps = SessionDeps & Pick<AuthComponents, 'grants' | 'tenants' | 'users'>;

export const MAX_GRANT_MINUTES = 72 * 60;

export function grantView(g: GrantDoc, now = new Date()) {
  return {
    id: g._id,
    scope: g.scope,
    reason: g.reason,
    createdBy: g.createdBy,
    createdAt: g.createdAt.toISOString(),
    expiresAt: g.expiresAt.toISOString(),
    ...(g.revokedAt ? { revokedAt: g.revokedAt.toISOString() } : {}),
    active: !g.revokedAt && g.expiresAt > now,
  };
}

export async function createGrant(
  deps: SupportDeps,
  tenantId: string,
  input: { scope: SupportScope; reason: string; durationMinutes: number },
  actor: Actor,
): Promise<GrantDoc> {
  const now = new Date();
  const grant: GrantDoc = {
    _id: randomId('grt'),
    tenantId,
    scope: input.scope,
    reason: input.reason,
    createdBy: actor.id,
    createdAt: now,
    expiresAt: new Date(now.getTime() + input.durationMinutes * 60_000),
  };
  await deps.grants.create(grant, [
    makeEvent({
      type: 'auth.support-grant.created',
      tenantId,
      actor,
      data: { grantId: grant._id, scope: grant.scope, expiresAt: grant.expiresAt.toISOString() },
    }),
  ]);
  return grant;
}

export async function revokeGrant(deps: SupportDeps, tenantId: string, grantId: string, actor: Actor): Promise<void> {
  const grant = await deps.grants.get(tenantId, grantId);
  if (!grant) throw problems.notFound('No such grant.');
  // Sessions first (the Redis marks take effect at once), then the grant itself.
  await revokeSessionsWhere(deps, tenantId, { grantId }, 'grant-revoked', actor);
  if (!grant.revokedAt) {
    await deps.grants.revoke(tenantId, grantId, actor.id, [
      makeEvent({ type: 'auth.support-grant.revoked', tenantId, actor, data: { grantId } }),
    ]);
  }
}

/** A platform support user (with both factors) opens a session into a practice under a live grant. */
export async function startSupportSession(deps: SupportDeps, supportUserId: string, slug: string) {
  const support = await deps.users.get(PLATFORM_TENANT, supportUserId);
  if (!support || support.disabled || support.role !== 'support' || !support.totpSecret) throw problems.forbidden();
  const tenant = await deps.tenants.findBySlug(slug);
  // No grant and no practice look the same: support learns nothing about who exists.
  const grant = tenant ? await deps.grants.live(tenant._id) : null;
  if (!tenant || !grant) throw problems.forbidden('There is no live support grant for that practice.');
  const { session, tokens } = await startSession(
    deps,
    {
      tenantId: tenant._id,
      userId: supportUserId,
      role: 'support',
      kind: 'support',
      amr: ['pwd', 'otp'],
      scope: grant.scope,
      grantId: grant._id,
      notAfter: grant.expiresAt,
    },
    (sessionId) => [
      {
        type: 'auth.support-session.started',
        tenantId: tenant._id,
        actor: { kind: 'support', id: supportUserId, onBehalfOf: tenant._id },
        data: { supportSessionId: sessionId, supportUserId, grantId: grant._id },
      },
    ],
  );
  return { ...tokens, scope: grant.scope, grantId: grant._id, sessionId: session._id, expiresAt: session.expiresAt.toISOString() };
}
