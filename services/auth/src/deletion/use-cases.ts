// Practice deletion with a cooling-off period: an admin asks (password, and a code when
// they have 2FA), the practice is purged DELETION_COOLING_OFF_DAYS later unless restored.
// The purge leaves a tombstone and publishes auth.tenant.purged, on which every service
// destroys that tenant's data; auth crypto-shreds the tenant's keys (tenant key and every
// user key) and removes its own users, sessions and grants.
import { type Actor, revokedSessionKey } from '@praxis/contracts';
import { ProblemError, makeEvent, problems } from '@praxis/platform';
import type { AuthComponents } from '../common/components';
import { checkSecondFactor, hasTotp } from '../mfa/use-cases';
import { systemActor } from '../common/events';
import type { TenantDoc } from '../tenants/model';
import { revokeSession } from '../sessions/use-cases';
import { getUser } from '../users/use-cases';
import type { MfaDeps } from '../mfa/use-cases';
import type { SessionDeps } from '../sessions/use-cases';

/** What practice deletion and the purge use: two-factor confirmation, sessions, grants, and the user keys it shreds. */
export type DeletionDeps = MfaDeps & SessionDeps & Pick<AuthComponents, 'grants' | 'hasher' | 'logger' | 'tenants' | 'userKeys'>;

export async function scheduleDeletion(
  deps: DeletionDeps,
  tenantId: string,
  userId: string,
  password: string,
  code: string | undefined,
  actor: Actor,
  ip?: string,
): Promise<TenantDoc> {
  const user = await getUser(deps, tenantId, userId);
  if (!(await deps.hasher.verify(user.passwordHash, password))) throw problems.forbidden('The password is not correct.');
  if (hasTotp(user)) {
    if (!code) throw problems.forbidden('A two-factor code is required.');
    try {
      await checkSecondFactor(deps, user, code, ip);
    } catch (err) {
      if (err instanceof ProblemError && err.status === 401) throw problems.forbidden('The two-factor code is not valid.');
      throw err;
    }
  }
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw problems.notFound('No such practice.');
  if (tenant.status === 'deletion-scheduled') return tenant;
  const when = new Date(Date.now() + deps.config.DELETION_COOLING_OFF_DAYS * 86_400_000);
  const event = makeEvent({ type: 'auth.tenant.deletion-scheduled', tenantId, actor, data: { deletionScheduledFor: when.toISOString() } });
  const updated = await deps.tenants.update(tenantId, { status: 'deletion-scheduled', deletionScheduledFor: when }, [], [event], {
    status: 'active',
  });
  if (!updated) return (await deps.tenants.get(tenantId)) ?? tenant;
  await endSessionsWhileDeleting(deps, tenantId, actor);
  return updated;
}

/**
 * A practice scheduled for deletion is closed to everyone but its admins (who may restore
 * it): every other open session — staff and support — ends now (its access tokens are
 * refused at once), and none refreshes while the deletion is pending (sessionStillAllowed).
 */
export async function endSessionsWhileDeleting(deps: DeletionDeps, tenantId: string, actor: Actor): Promise<number> {
  let ended = 0;
  for (const s of await deps.sessions.openFor(tenantId, {})) {
    if (s.kind === 'user' && s.role === 'admin') continue;
    await revokeSession(deps, s, 'tenant-deletion', actor);
    ended++;
  }
  return ended;
}

export async function restoreTenant(deps: DeletionDeps, tenantId: string, actor: Actor): Promise<TenantDoc> {
  const event = makeEvent({ type: 'auth.tenant.deletion-cancelled', tenantId, actor, data: {} });
  const updated = await deps.tenants.update(tenantId, { status: 'active' }, ['deletionScheduledFor'], [event], {
    status: 'deletion-scheduled',
  });
  if (!updated) {
    if (await deps.tenants.get(tenantId)) throw problems.conflict('No deletion is scheduled.');
    throw problems.notFound('No such practice.');
  }
  return updated;
}

/** Remove auth's own data of a purged tenant; idempotent, so an interrupted purge is finished later. */
async function removeTenantData(deps: DeletionDeps, tenantId: string): Promise<void> {
  for (const s of await deps.sessions.openFor(tenantId, {})) {
    await deps.redis.set(revokedSessionKey(s._id), 'tenant-purged', 'EX', deps.config.SESSION_MAX_S + deps.config.ACCESS_TOKEN_TTL_S);
  }
  // Shred first: from here every copy of the users' sealed fields (backups included) is unreadable.
  await deps.userKeys.destroyTenant(tenantId);
  await deps.grants.deleteAllForTenant(tenantId);
  await deps.users.deleteAllForTenant(tenantId);
  await deps.sessions.deleteAllForTenant(tenantId);
  await deps.tenants.markPurgeCompleted(tenantId);
}

/** One pass of the scheduler: purge every tenant whose cooling-off has ended. Returns their ids. */
export async function purgeDueTenants(deps: DeletionDeps, now = new Date()): Promise<string[]> {
  const purged: string[] = [];
  for (const t of await deps.tenants.dueForPurge(now)) {
    const event = makeEvent({ type: 'auth.tenant.purged', tenantId: t._id, actor: systemActor, data: { tenantId: t._id } });
    if (await deps.tenants.markPurged(t._id, now, [event])) purged.push(t._id);
  }
  for (const t of await deps.tenants.purgeUnfinished()) await removeTenantData(deps, t._id);
  return purged;
}

/** Ended sessions are kept this long (for "my sessions" and investigations), then removed. */
const ENDED_SESSION_RETENTION_MS = 30 * 86_400_000;

/** One pass of the housekeeping: due purges, then old sessions. */
export async function housekeeping(deps: DeletionDeps, now = new Date()): Promise<void> {
  await purgeDueTenants(deps, now);
  await deps.sessions.removeEndedBefore(new Date(now.getTime() - ENDED_SESSION_RETENTION_MS));
}
