// TOTP endpoints: enrol, activate, disable. Enrol and activate take either a bearer token
// (a logged-in user turning 2FA on) or the `mfaToken` of a login that must enrol first
// (practice requires 2FA, or a support user): then activation completes the login.
import { ApiRouter, type AuthContext, problems } from '@praxis/platform';
import { z } from 'zod';
import type { AuthComponents } from '../common/components';
import { activateWithChallenge, enrolWithChallenge } from '../login/use-cases';
import { clientIp } from '../common/schemas';
import { PLATFORM_TENANT } from '../users/model';
import { getUser } from '../users/use-cases';
import { activateTotp, disableTotp, enrolTotp } from './use-cases';
import type { LoginDeps } from '../login/use-cases';

export type MfaRouteDeps = LoginDeps & Pick<AuthComponents, 'authenticator'>;

const mfaToken = z.string().min(1).max(200);
const code = z.string().min(1).max(40);

function ownUser(auth: AuthContext | undefined): AuthContext {
  if (!auth) throw problems.unauthenticated();
  // A support-mode token acts inside a practice; its holder's own 2FA is not changed from there.
  if (auth.actor.kind !== 'user') throw problems.forbidden();
  return auth;
}

export function mfaRoutes(deps: MfaRouteDeps): ApiRouter {
  const r = new ApiRouter(deps.authenticator);
  r.route(
    {
      method: 'post',
      path: '/auth/mfa/totp',
      summary: 'Start TOTP enrolment: a secret and its otpauth URL',
      tags: ['mfa'],
      auth: 'public',
      // A logged-in user sends no body (API.md); a login that must enrol sends its mfaToken.
      body: z.strictObject({ mfaToken: mfaToken.optional() }),
      bodyOptional: true,
      response: z.object({ secret: z.string(), otpauthUrl: z.string() }),
      errors: { 401: 'No valid token or MFA token', 409: '2FA is already on' },
    },
    async ({ auth, body }) => {
      if (body.mfaToken) return enrolWithChallenge(deps, body.mfaToken);
      const a = ownUser(auth);
      const user = await getUser(deps, a.tenantId, a.userId);
      const tenant = a.tenantId === PLATFORM_TENANT ? undefined : await deps.tenants.get(a.tenantId);
      return enrolTotp(deps, user, tenant?.name ?? 'support');
    },
  );
  r.route(
    {
      method: 'post',
      path: '/auth/mfa/totp/activate',
      summary: 'Activate TOTP with a code: ten recovery codes (and tokens, when enrolling at login)',
      tags: ['mfa'],
      auth: 'public',
      body: z.strictObject({ code, mfaToken: mfaToken.optional() }),
      errors: {
        401: 'Wrong code, or no valid token or MFA token',
        409: 'No enrolment started, or 2FA already on',
        423: 'Too many wrong codes',
      },
    },
    async ({ auth, body, req }) => {
      if (body.mfaToken) return activateWithChallenge(deps, body.mfaToken, body.code, clientIp(req));
      const a = ownUser(auth);
      const user = await getUser(deps, a.tenantId, a.userId);
      return { recoveryCodes: await activateTotp(deps, user, body.code, clientIp(req)) };
    },
  );
  r.route(
    {
      method: 'post',
      path: '/auth/mfa/totp/disable',
      summary: 'Turn TOTP off (needs a current code or a recovery code)',
      tags: ['mfa'],
      auth: 'authenticated',
      status: 204,
      body: z.strictObject({ code }),
      errors: { 401: 'Wrong code', 409: '2FA is not on', 422: 'The practice requires 2FA', 423: 'Too many wrong codes' },
    },
    async ({ auth, body, req }) => {
      const a = ownUser(auth);
      const user = await getUser(deps, a.tenantId, a.userId);
      const tenant = a.tenantId === PLATFORM_TENANT ? undefined : await deps.tenants.get(a.tenantId);
      await disableTotp(deps, user, body.code, a.tenantId === PLATFORM_TENANT || Boolean(tenant?.mfaRequired), clientIp(req));
    },
  );
  return r;
}
