// Users of a practice: an admin adds, lists, disables and re-roles them, and resets their
// 2FA; a user changes their own password. Another practice's user is simply not found.
import { type Actor, type TenantRole } from '@praxis/contracts';
import { isDuplicateKeyError, makeEvent, problems, randomId } from '@praxis/platform';
import type { AuthComponents } from '../common/components';
import { revokeSessionsWhere } from '../sessions/use-cases';
import { assertStrongPassword } from '../common/passwords';
import { userActor } from '../common/events';
import { type UserDoc, normaliseEmail } from './model';
import type { SessionDeps } from '../sessions/use-cases';

/** What user management uses: the user store and hasher, and sessions (to end a changed user's). */
export type UserDeps = SessionDeps & Pick<AuthComponents, 'hasher' | 'users'>;

export function userView(u: UserDoc) {
  return {
    id: u._id,
    email: u.email,
    name: u.name,
    role: u.role,
    disabled: u.disabled,
    mfa: { totp: Boolean(u.totpSecret) },
    createdAt: u.createdAt.toISOString(),
  };
}

export async function createUser(
  deps: UserDeps,
  tenantId: string,
  input: { name: string; email: string; role: TenantRole; password: string },
  actor: Actor,
): Promise<UserDoc> {
  assertStrongPassword(input.password, 'body.password', [input.email, input.name]);
  const passwordHash = await deps.hasher.hash(input.password);
  const now = new Date();
  const user: UserDoc = {
    _id: randomId('usr'),
    tenantId,
    email: normaliseEmail(input.email),
    name: input.name,
    role: input.role,
    passwordHash,
    disabled: false,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await deps.users.create(user, [
      makeEvent({ type: 'auth.user.created', tenantId, actor, data: { userId: user._id, role: input.role } }),
    ]);
  } catch (err) {
    if (isDuplicateKeyError(err)) throw problems.conflict('A user with that email already exists in this practice.');
    throw err;
  }
  return user;
}

export async function getUser(deps: UserDeps, tenantId: string, userId: string): Promise<UserDoc> {
  const u = await deps.users.get(tenantId, userId);
  if (!u) throw problems.notFound('No such user.');
  return u;
}

/** Change role and/or disable; refuses to leave the practice without an active admin. */
export async function updateUser(
  deps: UserDeps,
  tenantId: string,
  userId: string,
  change: { role?: TenantRole; disabled?: boolean; name?: string },
  actor: Actor,
): Promise<UserDoc> {
  const user = await getUser(deps, tenantId, userId);
  const losesAdmin = user.role === 'admin' && !user.disabled && ((change.role && change.role !== 'admin') || change.disabled === true);
  if (losesAdmin && (await deps.users.countActiveAdmins(tenantId)) <= 1) {
    throw problems.unprocessable('A practice needs at least one active admin.');
  }
  const set: Partial<UserDoc> = {};
  if (change.role !== undefined && change.role !== user.role) set.role = change.role;
  if (change.name !== undefined && change.name !== user.name) set.name = change.name;
  if (change.disabled !== undefined && change.disabled !== user.disabled) set.disabled = change.disabled;
  const fields = Object.keys(set);
  if (!fields.length) return user;
  const events = [];
  if (set.disabled === true) events.push(makeEvent({ type: 'auth.user.disabled', tenantId, actor, data: { userId } }));
  const other = fields.filter((f) => f !== 'disabled' || set.disabled === false);
  if (other.length)
    events.push(
      makeEvent({
        type: 'auth.user.updated',
        tenantId,
        actor,
        data: { userId, fields: other, ...(set.role ? { role: set.role as TenantRole } : {}) },
      }),
    );
  const updated = await deps.users.update(tenantId, userId, { set }, events);
  if (!updated) throw problems.notFound('No such user.');
  // A disabled user, or one whose role changed, keeps no session with the old rights.
  if (set.disabled === true) await revokeSessionsWhere(deps, tenantId, { userId }, 'user-disabled', actor);
  else if (set.role) await revokeSessionsWhere(deps, tenantId, { userId }, 'admin', actor);
  return updated;
}

/** Change one's own password: the current one is required; every other session ends. */
export async function changePassword(
  deps: UserDeps,
  tenantId: string,
  userId: string,
  currentSessionId: string,
  current: string,
  next: string,
): Promise<void> {
  const user = await getUser(deps, tenantId, userId);
  if (!(await deps.hasher.verify(user.passwordHash, current))) throw problems.unprocessable('The current password is not correct.');
  assertStrongPassword(next, 'body.newPassword', [user.email, user.name]);
  const passwordHash = await deps.hasher.hash(next);
  const event = makeEvent({ type: 'auth.password.changed', tenantId, actor: userActor(userId), data: { userId } });
  await deps.users.update(tenantId, userId, { set: { passwordHash, passwordChangedAt: new Date() } }, [event]);
  await revokeSessionsWhere(deps, tenantId, { userId }, 'password-change', userActor(userId), currentSessionId);
}
