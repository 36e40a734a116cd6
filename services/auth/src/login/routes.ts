// Login and the session's own endpoints: POST /auth/login, /auth/mfa/verify, /auth/refresh,
// /auth/logout, GET /auth/me, POST /auth/password, GET /auth/sessions, DELETE /auth/sessions/others.
import { ApiRouter, type AuthContext, problems } from '@praxis/platform';
import type { Request } from 'express';
import { z } from 'zod';
import type { AuthComponents } from '../common/components';
import { refreshSession, revokeSession, revokeSessionsWhere } from '../sessions/use-cases';
import type { SessionDoc } from '../sessions/model';
import { emailSchema, newPasswordSchema, passwordSchema, slugSchema } from '../tenants/routes';
import { userActor } from '../common/events';
import { PLATFORM_TENANT } from '../users/model';
import { changePassword } from '../users/use-cases';
import { passwordLogin, verifyMfa } from './use-cases';
import { LoginThrottle } from './throttle';
import type { LoginDeps } from './use-cases';
import type { UserDeps } from '../users/use-cases';

/** Sign-in routes: signing in, refreshing (which checks the practice and support grants), and the caller's own account. */
export type LoginRouteDeps = LoginDeps & UserDeps & Pick<AuthComponents, 'authenticator' | 'grants'>;

export const tokenResponse = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresIn: z.number(),
  tokenType: z.literal('Bearer'),
});
const loginResponse = z.union([
  tokenResponse,
  z.object({ mfaRequired: z.literal(true), mfaToken: z.string(), mfaEnrolmentRequired: z.literal(true).optional() }),
]);

/** The client's address as the platform decided it (TRUSTED_PROXIES; validated, normalised). */
export const clientIp = (req: Request): string => req.ip ?? 'unknown';

/** Support sessions live only while their grant does. */
export async function sessionStillAllowed(deps: LoginRouteDeps, s: SessionDoc): Promise<boolean> {
  if (s.kind === 'support') {
    const grant = s.grantId ? await deps.grants.get(s.tenantId, s.grantId) : null;
    const supportUser = await deps.users.get(PLATFORM_TENANT, s.userId);
    const tenant = await deps.tenants.get(s.tenantId);
    return Boolean(
      grant && !grant.revokedAt && grant.expiresAt > new Date() && supportUser && !supportUser.disabled && tenant?.status === 'active',
    );
  }
  if (s.kind === 'user') {
    const user = await deps.users.get(s.tenantId, s.userId);
    const tenant = await deps.tenants.get(s.tenantId);
    // A session opened with a password alone ends at its next refresh once the practice
    // requires 2FA: the user logs in again, and that login enrols or asks for a code.
    const secondFactor = s.amr.includes('otp') || s.amr.includes('rec');
    // While a deletion is pending only admins keep (and open) sessions: they may restore it.
    const open = tenant?.status === 'active' || (tenant?.status === 'deletion-scheduled' && user?.role === 'admin');
    return Boolean(user && !user.disabled && tenant && open && (!tenant.mfaRequired || secondFactor));
  }
  const user = await deps.users.get(PLATFORM_TENANT, s.userId);
  return Boolean(user && !user.disabled);
}

async function me(deps: LoginRouteDeps, auth: AuthContext) {
  if (auth.actor.kind === 'support' || auth.tenantId === PLATFORM_TENANT) {
    const user = await deps.users.get(PLATFORM_TENANT, auth.actor.id);
    if (!user) throw problems.unauthenticated();
    const tenant = auth.tenantId === PLATFORM_TENANT ? undefined : await deps.tenants.get(auth.tenantId);
    return {
      id: user._id,
      email: user.email,
      name: user.name,
      role: auth.role,
      ...(auth.scope ? { scope: auth.scope } : {}),
      ...(tenant ? { tenant: { id: tenant._id, slug: tenant.slug, name: tenant.name ?? '' } } : {}),
      mfa: { totp: Boolean(user.totpSecret) },
      amr: auth.amr,
    };
  }
  const [user, tenant] = await Promise.all([deps.users.get(auth.tenantId, auth.userId), deps.tenants.get(auth.tenantId)]);
  if (!user || !tenant) throw problems.unauthenticated();
  return {
    id: user._id,
    email: user.email,
    name: user.name,
    role: user.role,
    tenant: { id: tenant._id, slug: tenant.slug, name: tenant.name ?? '', mfaRequired: tenant.mfaRequired },
    mfa: { totp: Boolean(user.totpSecret) },
    amr: auth.amr,
  };
}

export function loginRoutes(deps: LoginRouteDeps): ApiRouter {
  const r = new ApiRouter(deps.authenticator);
  r.route(
    {
      method: 'post',
      path: '/auth/login',
      summary: 'Log in with practice, email and password',
      tags: ['auth'],
      auth: 'public',
      body: z.strictObject({ tenant: slugSchema, email: emailSchema, password: passwordSchema }),
      response: loginResponse,
      errors: {
        401: 'Bad credentials (same answer whether or not the email exists)',
        423: 'Temporarily locked',
        429: 'Slow down (Retry-After)',
      },
    },
    ({ body, req }) => passwordLogin(deps, { slug: body.tenant, email: body.email, password: body.password, ip: clientIp(req) }),
  );
  r.route(
    {
      method: 'post',
      path: '/auth/mfa/verify',
      summary: 'Second login step: a TOTP code or a recovery code',
      tags: ['auth'],
      auth: 'public',
      body: z.strictObject({ mfaToken: z.string().min(1).max(200), code: z.string().min(1).max(40) }),
      response: tokenResponse,
      errors: { 401: 'Wrong, expired or already-used code', 423: 'Too many wrong codes', 429: 'Slow down' },
    },
    ({ body, req }) => verifyMfa(deps, body.mfaToken, body.code, clientIp(req)),
  );
  r.route(
    {
      method: 'post',
      path: '/auth/refresh',
      summary: 'New tokens for a refresh token (which is rotated; reuse ends the session)',
      tags: ['auth'],
      auth: 'public',
      body: z.strictObject({ refreshToken: z.string().min(1).max(200) }),
      response: tokenResponse,
      errors: { 401: 'Unknown, expired, revoked or already-used refresh token (a reuse ends the session)' },
    },
    async ({ body, req }) => {
      await new LoginThrottle(deps.redis, deps.config).checkIp(clientIp(req));
      return refreshSession(deps, body.refreshToken, (s) => sessionStillAllowed(deps, s));
    },
  );
  r.route(
    { method: 'post', path: '/auth/logout', summary: 'End this session at once', tags: ['auth'], auth: 'authenticated', status: 204 },
    async ({ auth }) => {
      const s = await deps.sessions.get(auth.tenantId, auth.sessionId);
      if (s) await revokeSession(deps, s, 'logout', auth.actor);
    },
  );
  r.route({ method: 'get', path: '/auth/me', summary: 'Who I am', tags: ['auth'], auth: 'authenticated' }, ({ auth }) => me(deps, auth));
  r.route(
    {
      method: 'post',
      path: '/auth/password',
      summary: 'Change my password (my other sessions end)',
      tags: ['auth'],
      auth: 'authenticated',
      status: 204,
      body: z.strictObject({ currentPassword: passwordSchema, newPassword: newPasswordSchema }),
      errors: { 422: 'The current password is wrong' },
    },
    async ({ auth, body }) => {
      if (auth.actor.kind !== 'user') throw problems.forbidden();
      await changePassword(deps, auth.tenantId, auth.userId, auth.sessionId, body.currentPassword, body.newPassword);
    },
  );
  r.route(
    { method: 'get', path: '/auth/sessions', summary: 'My open sessions', tags: ['auth'], auth: 'authenticated' },
    async ({ auth }) => {
      const open = await deps.sessions.openFor(auth.tenantId, { userId: auth.userId });
      return {
        items: open.map((s) => ({
          id: s._id,
          current: s._id === auth.sessionId,
          amr: s.amr,
          startedAt: s.createdAt.toISOString(),
          lastUsedAt: s.lastUsedAt.toISOString(),
          expiresAt: s.expiresAt.toISOString(),
        })),
      };
    },
  );
  r.route(
    {
      method: 'delete',
      path: '/auth/sessions/others',
      summary: 'End all my other sessions',
      tags: ['auth'],
      auth: 'authenticated',
      status: 204,
    },
    async ({ auth }) => {
      if (auth.actor.kind !== 'user') throw problems.forbidden();
      await revokeSessionsWhere(deps, auth.tenantId, { userId: auth.userId }, 'others-ended', userActor(auth.userId), auth.sessionId);
    },
  );
  return r;
}
