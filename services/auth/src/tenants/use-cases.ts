// Practice sign-up (tenant + first admin) and practice settings.
import { type Actor } from '@praxis/contracts';
import { isDuplicateKeyError, makeEvent, problems, randomId } from '@praxis/platform';
import type { AuthComponents } from '../common/components';
import { assertStrongPassword } from '../common/passwords';
import { userActor } from '../common/events';
import { normaliseEmail } from '../users/model';
import type { TenantDoc } from './model';

/** What practice sign-up and settings use. */
export type TenantDeps = Pick<AuthComponents, 'hasher' | 'logger' | 'tenants' | 'users'>;

/** Slugs that name parts of the platform, never a practice. */
const RESERVED_SLUGS = new Set([
  'admin',
  'api',
  'app',
  'auth',
  'docs',
  'help',
  'mail',
  'platform',
  'praxis',
  'root',
  'static',
  'status',
  'support',
  'www',
]);

export function tenantView(t: TenantDoc) {
  return {
    id: t._id,
    slug: t.slug,
    name: t.name ?? '',
    mfaRequired: t.mfaRequired,
    status: t.status,
    ...(t.deletionScheduledFor ? { deletionScheduledFor: t.deletionScheduledFor.toISOString() } : {}),
    createdAt: t.createdAt.toISOString(),
  };
}

export interface SignUp {
  name: string;
  slug: string;
  admin: { name: string; email: string; password: string };
}

/**
 * A sign-up that stored its tenant but not its admin (the process died between the two
 * writes) leaves the slug taken by a practice nobody can use. After this long, a new
 * sign-up for that slug may take it back. Far beyond the time between the two writes
 * (the password is hashed before the first).
 */
export const ABANDONED_SIGNUP_MS = 2 * 60_000;

/**
 * Two documents without a transaction: the tenant first (its unique slug decides the race),
 * then its admin; if the admin cannot be written the tenant is removed again. If the
 * process dies in between, the slug is reclaimed by a later sign-up (see
 * ABANDONED_SIGNUP_MS and reclaimAbandonedSlug).
 */
export async function signUp(
  deps: TenantDeps,
  s: SignUp,
  reclaimed = false,
): Promise<{ tenant: { id: string; slug: string; name: string }; user: { id: string; email: string; role: 'admin' } }> {
  if (RESERVED_SLUGS.has(s.slug)) throw problems.conflict('That address is taken.');
  assertStrongPassword(s.admin.password, 'body.admin.password', [s.admin.email, s.admin.name, s.name, s.slug]);
  const passwordHash = await deps.hasher.hash(s.admin.password);
  const now = new Date();
  const tenantId = randomId('ten');
  const userId = randomId('usr');
  const tenant: TenantDoc = {
    _id: tenantId,
    slug: s.slug,
    name: s.name,
    mfaRequired: false,
    status: 'active',
    createdAt: now,
    updatedAt: now,
  };
  try {
    await deps.tenants.create(tenant, [
      makeEvent({ type: 'auth.tenant.created', tenantId, actor: userActor(userId), data: { tenantId, slug: s.slug } }),
    ]);
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
    if (!reclaimed && (await reclaimAbandonedSlug(deps, s.slug, now))) return signUp(deps, s, true);
    throw problems.conflict('That address is taken.');
  }
  const email = normaliseEmail(s.admin.email);
  try {
    await deps.users.create(
      { _id: userId, tenantId, email, name: s.admin.name, role: 'admin', passwordHash, disabled: false, createdAt: now, updatedAt: now },
      [makeEvent({ type: 'auth.user.created', tenantId, actor: userActor(userId), data: { userId, role: 'admin' } })],
    );
  } catch (err) {
    await deps.tenants.remove(tenantId).catch(() => undefined);
    throw err;
  }
  return { tenant: { id: tenantId, slug: s.slug, name: s.name }, user: { id: userId, email, role: 'admin' as const } };
}

/**
 * Free a slug held by an abandoned sign-up: an active practice older than
 * ABANDONED_SIGNUP_MS with no active admin (a real practice always keeps one: the last
 * active admin cannot be demoted or disabled). The removal is conditional on the same
 * document, so it never takes a practice that changed meanwhile.
 */
async function reclaimAbandonedSlug(deps: TenantDeps, slug: string, now: Date): Promise<boolean> {
  const t = await deps.tenants.findBySlug(slug);
  if (!t || t.status !== 'active' || now.getTime() - t.createdAt.getTime() < ABANDONED_SIGNUP_MS) return false;
  if ((await deps.users.countActiveAdmins(t._id)) > 0) return false;
  const removed = await deps.tenants.removeAbandoned(t._id, t.createdAt);
  if (removed) deps.logger.warn({ tenantId: t._id }, 'reclaimed the slug of an abandoned sign-up');
  return removed;
}

export async function currentTenant(deps: TenantDeps, tenantId: string): Promise<TenantDoc> {
  const t = await deps.tenants.get(tenantId);
  if (!t) throw problems.notFound('No such practice.');
  return t;
}

export async function updateTenant(
  deps: TenantDeps,
  tenantId: string,
  change: { name?: string; mfaRequired?: boolean },
  actor: Actor,
): Promise<TenantDoc> {
  const set: Partial<TenantDoc> = {};
  if (change.name !== undefined) set.name = change.name;
  if (change.mfaRequired !== undefined) set.mfaRequired = change.mfaRequired;
  const fields = Object.keys(set);
  const events = fields.length ? [makeEvent({ type: 'auth.tenant.updated', tenantId, actor, data: { fields } })] : [];
  const t = await deps.tenants.update(tenantId, set, [], events);
  if (!t) throw problems.notFound('No such practice.');
  return t;
}
