// Events published by the auth service.
import { z } from 'zod';
import { code, count, defineEvent, id } from './envelope';

const role = z.enum(['admin', 'clinician', 'receptionist']);
const loginFailure = z.enum(['bad-credentials', 'disabled', 'locked', 'throttled', 'tenant-deleting']);

export const authEvents = [
  defineEvent(
    'auth.service-token.issued',
    1,
    z.strictObject({ service: code, expiresIn: count }),
    'Auth issued a short-lived service-to-service token to a service (per practice).',
  ),
  defineEvent(
    'auth.practice-admins.listed',
    1,
    z.strictObject({ service: code, admins: count }),
    "A service (messaging, for a practice notice) read the names and addresses of the practice's active admins.",
  ),
  defineEvent('auth.tenant.created', 1, z.strictObject({ tenantId: id, slug: code }), 'A practice signed up.'),
  defineEvent('auth.tenant.updated', 1, z.strictObject({ fields: z.array(code) }), 'Practice settings changed (names of the fields only).'),
  defineEvent(
    'auth.tenant.deletion-scheduled',
    1,
    z.strictObject({ deletionScheduledFor: z.iso.datetime() }),
    'An admin asked to delete the practice; the cooling-off period began.',
  ),
  defineEvent('auth.tenant.deletion-cancelled', 1, z.strictObject({}), 'A scheduled practice deletion was cancelled.'),
  defineEvent(
    'auth.tenant.purged',
    1,
    z.strictObject({ tenantId: id }),
    'The cooling-off period ended and the practice was deleted: every service destroys its data.',
  ),
  defineEvent('auth.user.created', 1, z.strictObject({ userId: id, role }), 'A user was added to the practice.'),
  defineEvent(
    'auth.user.updated',
    1,
    z.strictObject({ userId: id, fields: z.array(code), role: role.optional() }),
    'A user changed (names of the fields only).',
  ),
  defineEvent('auth.user.disabled', 1, z.strictObject({ userId: id }), 'A user was disabled; their sessions ended.'),
  defineEvent('auth.password.changed', 1, z.strictObject({ userId: id }), 'A user changed their password.'),
  defineEvent(
    'auth.login.succeeded',
    1,
    z.strictObject({ userId: id, sessionId: id, amr: z.array(code), ip: z.string().max(64).optional() }),
    'A user logged in.',
  ),
  defineEvent(
    'auth.login.failed',
    1,
    z.strictObject({ userId: id.optional(), reason: loginFailure, ip: z.string().max(64).optional() }),
    'A login attempt failed (userId only when the account exists).',
  ),
  defineEvent(
    'auth.mfa.failed',
    1,
    z.strictObject({ userId: id, reason: z.enum(['wrong-code', 'replayed-code', 'expired-challenge']), ip: z.string().max(64).optional() }),
    'A second-factor code was refused.',
  ),
  defineEvent('auth.mfa.enrolled', 1, z.strictObject({ userId: id }), 'TOTP enrolment started.'),
  defineEvent('auth.mfa.activated', 1, z.strictObject({ userId: id }), 'TOTP was activated and recovery codes issued.'),
  defineEvent('auth.mfa.disabled', 1, z.strictObject({ userId: id }), 'TOTP was turned off by its user.'),
  defineEvent('auth.mfa.reset', 1, z.strictObject({ userId: id }), 'An admin reset a user’s 2FA.'),
  defineEvent('auth.recovery-code.used', 1, z.strictObject({ userId: id, remaining: count }), 'A recovery code was spent.'),
  defineEvent(
    'auth.account.locked',
    1,
    z.strictObject({
      userId: id.optional(),
      until: z.iso.datetime(),
      reason: z.enum(['password-failures', 'code-failures', 'ip-failures']),
    }),
    'An account (or an IP) was locked after repeated failures.',
  ),
  defineEvent(
    'auth.session.revoked',
    1,
    z.strictObject({
      sessionId: id,
      userId: id,
      reason: z.enum([
        'logout',
        'admin',
        'refresh-reuse',
        'password-change',
        'grant-revoked',
        'user-disabled',
        'others-ended',
        'tenant-deletion',
      ]),
    }),
    'A session ended before its time.',
  ),
  defineEvent(
    'auth.support-grant.created',
    1,
    z.strictObject({ grantId: id, scope: z.enum(['settings', 'records']), expiresAt: z.iso.datetime() }),
    'A practice admin let platform support in.',
  ),
  defineEvent('auth.support-grant.revoked', 1, z.strictObject({ grantId: id }), 'A support grant was withdrawn; its sessions ended.'),
  defineEvent(
    'auth.support-session.started',
    1,
    z.strictObject({ supportSessionId: id, supportUserId: id, grantId: id }),
    'Platform support logged into the practice.',
  ),
  defineEvent('auth.signing-key.rotated', 1, z.strictObject({ keyId: id }), 'A new token-signing key became current.'),
] as const;
