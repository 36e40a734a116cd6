// TOTP 2FA for a user: enrolment, activation with recovery codes, checking a second
// factor (TOTP code once per step, or a single-use recovery code), disabling, and an
// admin's reset. The secret is sealed by the user repository (under the user's data key,
// bound to its tenant and user); this module only sees it sealed or as plaintext.
import { type Actor, type EventEnvelope } from '@praxis/contracts';
import { makeEvent, problems } from '@praxis/platform';
import { trusted } from 'mongoose';
import type { AuthComponents } from '../common/components';
import { LoginThrottle } from '../login/throttle';
import { eventIp, userActor } from '../common/events';
import type { UserDoc } from '../users/model';
import { hashRecoveryCode, isRecoveryCodeShape, newRecoveryCodes, newTotpSecret, otpauthUrl, totpStep } from './totp';

/** What two-factor sign-in uses: the user store, the failure throttle (Redis, config), metrics and events. */
export type MfaDeps = Pick<AuthComponents, 'config' | 'events' | 'metrics' | 'redis' | 'users'>;

export function hasTotp(user: UserDoc): boolean {
  return Boolean(user.totpSecret);
}

/** Start (or restart) enrolment: a new secret, kept pending until a code proves the app has it. */
export async function enrolTotp(deps: MfaDeps, user: UserDoc, practiceName: string): Promise<{ secret: string; otpauthUrl: string }> {
  if (hasTotp(user)) throw problems.conflict('Two-factor authentication is already on; disable it first.');
  const secret = newTotpSecret();
  const event = makeEvent({ type: 'auth.mfa.enrolled', tenantId: user.tenantId, actor: userActor(user._id), data: { userId: user._id } });
  const updated = await deps.users.update(
    user.tenantId,
    user._id,
    { set: { totpPending: await deps.users.sealTotp(user.tenantId, user._id, secret) } },
    [event],
    { totpSecret: trusted({ $exists: false }) },
  );
  if (!updated) throw problems.conflict('Two-factor authentication is already on.');
  return { secret, otpauthUrl: otpauthUrl(secret, user.email, practiceName) };
}

/** Activate with a code from the app: the secret becomes live and ten recovery codes are issued. */
export async function activateTotp(deps: MfaDeps, user: UserDoc, code: string, ip?: string): Promise<string[]> {
  if (hasTotp(user)) throw problems.conflict('Two-factor authentication is already on.');
  const secret = await deps.users.openTotp(user, 'totpPending');
  if (!secret) throw problems.conflict('Start enrolment first (POST /auth/mfa/totp).');
  const step = totpStep(secret, code);
  if (step === undefined) {
    await deps.events.recordAccess([
      makeEvent({
        type: 'auth.mfa.failed',
        tenantId: user.tenantId,
        actor: userActor(user._id),
        data: { userId: user._id, reason: 'wrong-code', ...eventIp(ip) },
      }),
    ]);
    throw problems.unauthenticated('The code is not valid.');
  }
  const codes = newRecoveryCodes();
  const event = makeEvent({ type: 'auth.mfa.activated', tenantId: user.tenantId, actor: userActor(user._id), data: { userId: user._id } });
  const updated = await deps.users.update(
    user.tenantId,
    user._id,
    { set: { totpSecret: user.totpPending!, totpLastStep: step, recoveryCodes: codes.map(hashRecoveryCode) }, unset: ['totpPending'] },
    [event],
    { totpSecret: trusted({ $exists: false }) },
  );
  if (!updated) throw problems.conflict('Two-factor authentication is already on.');
  return codes;
}

async function mfaFailed(deps: MfaDeps, user: UserDoc, reason: 'wrong-code' | 'replayed-code', ip: string | undefined): Promise<never> {
  deps.metrics.counter('auth_mfa_failures_total', 'Refused second-factor codes by reason', ['reason']).inc({ reason });
  const throttle = new LoginThrottle(deps.redis, deps.config);
  const events: EventEnvelope[] = [
    makeEvent({
      type: 'auth.mfa.failed',
      tenantId: user.tenantId,
      actor: userActor(user._id),
      data: { userId: user._id, reason, ...eventIp(ip) },
    }),
  ];
  const failure = await throttle.recordAccountFailure('code', `${user.tenantId}|${user._id}`);
  if (failure.lockedUntil) {
    events.push(
      makeEvent({
        type: 'auth.account.locked',
        tenantId: user.tenantId,
        actor: userActor(user._id),
        data: { userId: user._id, until: failure.lockedUntil.toISOString(), reason: 'code-failures' },
      }),
    );
  }
  if (ip) await throttle.recordIpFailure(ip);
  await deps.events.recordAccess(events);
  throw problems.unauthenticated(reason === 'replayed-code' ? 'That code was already used.' : 'The code is not valid.');
}

/**
 * Check a second factor: a TOTP code (a step is usable once: the stored last step only
 * moves forward, with a compare-and-set) or an unused recovery code (removed with an
 * exact-value $pull in the same write). Code failures are throttled apart from passwords.
 */
export async function checkSecondFactor(deps: MfaDeps, user: UserDoc, code: string, ip?: string): Promise<'otp' | 'rec'> {
  const throttle = new LoginThrottle(deps.redis, deps.config);
  const account = `${user.tenantId}|${user._id}`;
  await throttle.checkAccount('code', account);
  const secret = await deps.users.openTotp(user, 'totpSecret');
  if (!secret) return mfaFailed(deps, user, 'wrong-code', ip);
  const trimmed = code.trim();
  if (/^\d{6}$/.test(trimmed)) {
    const step = totpStep(secret, trimmed);
    if (step === undefined) return mfaFailed(deps, user, 'wrong-code', ip);
    const updated = await deps.users.update(user.tenantId, user._id, { set: { totpLastStep: step } }, [], {
      totpLastStep: trusted({ $lt: step }),
    });
    if (!updated) return mfaFailed(deps, user, 'replayed-code', ip);
    await throttle.clearAccount('code', account);
    return 'otp';
  }
  if (isRecoveryCodeShape(trimmed)) {
    const hash = hashRecoveryCode(trimmed);
    const remaining = Math.max(0, (user.recoveryCodes?.length ?? 1) - 1);
    const event = makeEvent({
      type: 'auth.recovery-code.used',
      tenantId: user.tenantId,
      actor: userActor(user._id),
      data: { userId: user._id, remaining },
    });
    const updated = await deps.users.update(user.tenantId, user._id, { pull: { recoveryCodes: hash } }, [event], { recoveryCodes: hash });
    if (!updated) return mfaFailed(deps, user, 'wrong-code', ip);
    await throttle.clearAccount('code', account);
    return 'rec';
  }
  return mfaFailed(deps, user, 'wrong-code', ip);
}

export async function disableTotp(deps: MfaDeps, user: UserDoc, code: string, mfaRequired: boolean, ip?: string): Promise<void> {
  if (!hasTotp(user)) throw problems.conflict('Two-factor authentication is not on.');
  if (mfaRequired) throw problems.unprocessable('Your practice requires two-factor authentication.');
  await checkSecondFactor(deps, user, code, ip);
  const event = makeEvent({ type: 'auth.mfa.disabled', tenantId: user.tenantId, actor: userActor(user._id), data: { userId: user._id } });
  await deps.users.update(user.tenantId, user._id, { unset: ['totpSecret', 'totpPending', 'totpLastStep', 'recoveryCodes'] }, [event]);
}

/** An admin clears a user's 2FA (lost phone); audited. With mfaRequired they enrol again at next login. */
export async function resetTotp(deps: MfaDeps, tenantId: string, userId: string, actor: Actor): Promise<void> {
  const event = makeEvent({ type: 'auth.mfa.reset', tenantId, actor, data: { userId } });
  const updated = await deps.users.update(
    tenantId,
    userId,
    { unset: ['totpSecret', 'totpPending', 'totpLastStep', 'recoveryCodes'] },
    [event],
    { role: trusted({ $ne: 'support' }) },
  );
  if (!updated) throw problems.notFound('No such user.');
}
