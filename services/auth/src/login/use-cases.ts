// Login with a password, then (when the user has 2FA, or the practice requires it) a
// second step with an MFA challenge. Unknown practice, unknown email, wrong password and
// disabled account all get the same 401 after the same argon2id work (a dummy hash when
// there is no account); failures are throttled per account and per IP and published.
import { type EventEnvelope } from '@praxis/contracts';
import { type AuthContext, ProblemError, makeEvent, problems, sha256 } from '@praxis/platform';
import type { AuthComponents } from '../common/components';
import { activateTotp, checkSecondFactor, enrolTotp, hasTotp } from '../mfa/use-cases';
import { eventIp, systemActor, userActor } from '../common/events';
import { type TokenPair, startSession } from '../sessions/use-cases';
import type { SessionDoc, SessionKind } from '../sessions/model';
import type { TenantDoc } from '../tenants/model';
import { PLATFORM_TENANT, type UserDoc } from '../users/model';
import { ChallengeStore } from './challenge';
import { LoginThrottle } from './throttle';
import type { MfaDeps } from '../mfa/use-cases';
import type { SessionDeps } from '../sessions/use-cases';

/** What signing in uses: two-factor checks, sessions, the password hasher and the practices. */
export type LoginDeps = MfaDeps & SessionDeps & Pick<AuthComponents, 'hasher' | 'tenants'>;

export type LoginResult = TokenPair | { mfaRequired: true; mfaToken: string; mfaEnrolmentRequired?: true };

export interface PasswordLogin {
  /** The practice's slug, or undefined for a platform support login. */
  slug?: string;
  email: string;
  password: string;
  ip: string;
}

type Failure = 'bad-credentials' | 'disabled' | 'tenant-deleting';

async function loginFailed(
  deps: LoginDeps,
  throttle: LoginThrottle,
  account: string,
  tenantId: string,
  user: UserDoc | null,
  reason: Failure,
  ip: string,
): Promise<never> {
  loginMetric(deps, reason);
  const actor = user ? userActor(user._id) : systemActor;
  const events: EventEnvelope[] = [
    makeEvent({ type: 'auth.login.failed', tenantId, actor, data: { ...(user ? { userId: user._id } : {}), reason, ...eventIp(ip) } }),
  ];
  const failure = await throttle.recordAccountFailure('pwd', account);
  if (failure.lockedUntil) {
    events.push(
      makeEvent({
        type: 'auth.account.locked',
        tenantId,
        actor,
        data: { ...(user ? { userId: user._id } : {}), until: failure.lockedUntil.toISOString(), reason: 'password-failures' },
      }),
    );
  }
  const ipFailure = await throttle.recordIpFailure(ip);
  if (ipFailure.reachedLimit) {
    events.push(
      makeEvent({
        type: 'auth.account.locked',
        tenantId,
        actor: systemActor,
        data: { until: ipFailure.until.toISOString(), reason: 'ip-failures' },
      }),
    );
  }
  await deps.events.recordAccess(events);
  throw problems.unauthenticated('The practice, email or password is not correct.');
}

/**
 * Publish that a throttled or locked account is being tried, at most once a minute per
 * account: refusals must stay cheap (no database write per refused request in a flood).
 */
async function throttled(deps: LoginDeps, tenantId: string, account: string, err: unknown, ip: string): Promise<never> {
  const status = err instanceof ProblemError ? err.status : undefined;
  loginMetric(deps, status === 423 ? 'locked' : 'throttled');
  if (status === 423 || status === 429) {
    const first = await deps.redis
      .set(`${deps.config.REDIS_PREFIX}refusal-event:${sha256(account)}:${status}`, '1', 'EX', 60, 'NX')
      .catch(() => null);
    if (first) {
      await deps.events
        .recordAccess([
          makeEvent({
            type: 'auth.login.failed',
            tenantId,
            actor: systemActor,
            data: { reason: status === 423 ? 'locked' : 'throttled', ...eventIp(ip) },
          }),
        ])
        .catch(() => undefined);
    }
  }
  throw err;
}

/** Prometheus: logins by outcome (failed logins are an SRE signal, docs/auth.md). */
function loginMetric(deps: LoginDeps, outcome: string): void {
  deps.metrics.counter('auth_login_attempts_total', 'Password login attempts by outcome', ['outcome']).inc({ outcome });
}

export async function passwordLogin(deps: LoginDeps, p: PasswordLogin): Promise<LoginResult> {
  const throttle = new LoginThrottle(deps.redis, deps.config);
  // An address over its budget is refused before anything else (its lock was published once).
  await throttle.checkIp(p.ip);
  const tenantKey = p.slug ?? PLATFORM_TENANT;
  const account = LoginThrottle.passwordAccount(tenantKey, p.email);
  let tenant: TenantDoc | null = null;
  if (p.slug !== undefined) tenant = await deps.tenants.findBySlug(p.slug);
  const tenantId = p.slug === undefined ? PLATFORM_TENANT : (tenant?._id ?? PLATFORM_TENANT);
  try {
    await throttle.checkAccount('pwd', account);
  } catch (err) {
    return throttled(deps, tenantId, account, err, p.ip);
  }
  const user = p.slug === undefined || tenant ? await deps.users.findByEmail(tenantId, p.email) : null;
  const isSupport = p.slug === undefined;
  const eligible = user && (isSupport ? user.role === 'support' : user.role !== 'support') ? user : null;
  const ok = await deps.hasher.verify(eligible?.passwordHash, p.password);
  if (!ok || !eligible) return loginFailed(deps, throttle, account, tenantId, eligible, 'bad-credentials', p.ip);
  if (eligible.disabled) return loginFailed(deps, throttle, account, tenantId, eligible, 'disabled', p.ip);
  // While a deletion is pending only admins may sign in (to restore the practice).
  if (tenant && tenant.status !== 'active' && eligible.role !== 'admin')
    return loginFailed(deps, throttle, account, tenantId, eligible, 'tenant-deleting', p.ip);
  await throttle.clearAccount('pwd', account);
  loginMetric(deps, 'ok');
  if (deps.hasher.needsRehash(eligible.passwordHash)) {
    void deps.hasher
      .hash(p.password)
      .then((passwordHash) => deps.users.update(eligible.tenantId, eligible._id, { set: { passwordHash } }, []))
      .catch(() => undefined);
  }
  const sessionKind: SessionKind = isSupport ? 'platform' : 'user';
  const challenges = new ChallengeStore(deps.redis, deps.config);
  if (hasTotp(eligible)) {
    return { mfaRequired: true, mfaToken: await challenges.create({ tenantId, userId: eligible._id, purpose: 'verify', sessionKind }) };
  }
  if (isSupport || tenant?.mfaRequired) {
    return {
      mfaRequired: true,
      mfaEnrolmentRequired: true,
      mfaToken: await challenges.create({ tenantId, userId: eligible._id, purpose: 'enrol', sessionKind }),
    };
  }
  const { tokens } = await openSession(deps, eligible, sessionKind, ['pwd'], p.ip);
  return tokens;
}

export function openSession(deps: LoginDeps, user: UserDoc, kind: SessionKind, amr: ('pwd' | 'otp' | 'rec')[], ip?: string) {
  return startSession(
    deps,
    { tenantId: user.tenantId, userId: user._id, role: user.role, kind, amr, ...(ip ? { ip } : {}) },
    (sessionId) => [
      {
        type: 'auth.login.succeeded',
        tenantId: user.tenantId,
        actor: userActor(user._id),
        data: { userId: user._id, sessionId, amr, ...eventIp(ip) },
      },
    ],
  );
}

async function challengeUser(deps: LoginDeps, challenges: ChallengeStore, mfaToken: string, purpose: 'verify' | 'enrol') {
  const challenge = await challenges.get(mfaToken, purpose);
  if (!challenge) throw problems.unauthenticated('The MFA token is invalid or has expired; log in again.');
  const user = await deps.users.get(challenge.tenantId, challenge.userId);
  if (!user || user.disabled) throw problems.unauthenticated('The MFA token is invalid or has expired; log in again.');
  return { challenge, user };
}

/** Second step of a login: a TOTP or recovery code against the challenge. */
export async function verifyMfa(deps: LoginDeps, mfaToken: string, code: string, ip: string): Promise<TokenPair> {
  const throttle = new LoginThrottle(deps.redis, deps.config);
  await throttle.checkIp(ip);
  const challenges = new ChallengeStore(deps.redis, deps.config);
  const { challenge, user } = await challengeUser(deps, challenges, mfaToken, 'verify');
  let factor: 'otp' | 'rec';
  try {
    factor = await checkSecondFactor(deps, user, code, ip);
  } catch (err) {
    if (err instanceof ProblemError && err.status === 401) await challenges.failed(mfaToken);
    throw err;
  }
  if (!(await challenges.consume(mfaToken))) throw problems.unauthenticated('The MFA token was already used; log in again.');
  const { tokens } = await openSession(deps, user, challenge.sessionKind, ['pwd', factor], ip);
  return tokens;
}

/** Enrolment forced at login (practice requires 2FA, or a support user): start it with the challenge. */
export async function enrolWithChallenge(deps: LoginDeps, mfaToken: string): Promise<{ secret: string; otpauthUrl: string }> {
  const challenges = new ChallengeStore(deps.redis, deps.config);
  const { user } = await challengeUser(deps, challenges, mfaToken, 'enrol');
  const tenant = user.tenantId === PLATFORM_TENANT ? undefined : await deps.tenants.get(user.tenantId);
  return enrolTotp(deps, user, tenant?.name ?? 'support');
}

/** …and finish it: the code activates TOTP, and the login completes with both factors. */
export async function activateWithChallenge(
  deps: LoginDeps,
  mfaToken: string,
  code: string,
  ip: string,
): Promise<TokenPair & { recoveryCodes: string[] }> {
  const challenges = new ChallengeStore(deps.redis, deps.config);
  const { challenge, user } = await challengeUser(deps, challenges, mfaToken, 'enrol');
  let recoveryCodes: string[];
  try {
    recoveryCodes = await activateTotp(deps, user, code, ip);
  } catch (err) {
    if (err instanceof ProblemError && err.status === 401) await challenges.failed(mfaToken);
    throw err;
  }
  if (!(await challenges.consume(mfaToken))) throw problems.unauthenticated('The MFA token was already used; log in again.');
  const { tokens } = await openSession(deps, user, challenge.sessionKind, ['pwd', 'otp'], ip);
  return { ...tokens, recoveryCodes };
}

/** What the session check and the account view read. */
export type AccountDeps = Pick<AuthComponents, 'grants' | 'users' | 'tenants'>;

/**
 * Whether a session may be refreshed: its user is enabled, its practice open to that user
 * (and, if the practice requires 2FA, the session used it); support sessions live only
 * while their grant does.
 */
export async function sessionStillAllowed(deps: AccountDeps, s: SessionDoc): Promise<boolean> {
  if (s.kind === 'support') {
    // Independent reads: asked at once, so a refresh waits for one round trip, not three.
    const [grant, supportUser, tenant] = await Promise.all([
      s.grantId ? deps.grants.get(s.tenantId, s.grantId) : null,
      deps.users.get(PLATFORM_TENANT, s.userId),
      deps.tenants.get(s.tenantId),
    ]);
    return Boolean(
      grant && !grant.revokedAt && grant.expiresAt > new Date() && supportUser && !supportUser.disabled && tenant?.status === 'active',
    );
  }
  if (s.kind === 'user') {
    const [user, tenant] = await Promise.all([deps.users.get(s.tenantId, s.userId), deps.tenants.get(s.tenantId)]);
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

/** GET /auth/me: the caller's account, practice and second factors. */
export async function me(deps: AccountDeps, auth: AuthContext) {
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
