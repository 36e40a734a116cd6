// Login and the session's own endpoints: POST /auth/login, /auth/mfa/verify, /auth/refresh,
// /auth/logout, GET /auth/me, POST /auth/password, GET /auth/sessions, DELETE /auth/sessions/others.
import { ApiRouter, problems } from '@praxis/platform';
import { z } from 'zod';
import type { AuthComponents } from '../common/components';
import { refreshSession, revokeSession, revokeSessionsWhere } from '../sessions/use-cases';
import { clientIp, emailSchema, newPasswordSchema, passwordSchema, slugSchema, tokenResponse } from '../common/schemas';
import { userActor } from '../common/events';
import { changePassword } from '../users/use-cases';
import { me, passwordLogin, sessionStillAllowed, verifyMfa } from './use-cases';
import { LoginThrottle } from './throttle';
import type { LoginDeps } from './use-cases';
import type { UserDeps } from '../users/use-cases';

/** Sign-in routes: signing in, refreshing (which checks the practice and support grants), and the caller's own account. */
export type LoginRouteDeps = LoginDeps & UserDeps & Pick<AuthComponents, 'authenticator' | 'grants'>;

const loginResponse = z.union([
  tokenResponse,
  z.object({ mfaRequired: z.literal(true), mfaToken: z.string(), mfaEnrolmentRequired: z.literal(true).optional() }),
]);

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
