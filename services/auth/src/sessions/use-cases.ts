// Sessions and the tokens they issue: start (after login or support-session checks),
// refresh with rotation and reuse detection, and revocation that every service sees at
// once through the Redis key of libs/contracts.
import { type Actor, type SupportScope, revokedSessionKey } from '@praxis/contracts';
import { constantTimeEqual, makeEvent, problems, randomId, randomToken, sha256 } from '@praxis/platform';
import type { AuthComponents } from '../common/components';
import type { UserRole } from '../users/model';
import type { RevokeReason, SessionDoc, SessionKind } from './model';

/** What sessions use: config, the token issuer, Redis (revocation marks) and the session store. */
export type SessionDeps = Pick<AuthComponents, 'config' | 'issuer' | 'redis' | 'sessions'>;

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  tokenType: 'Bearer';
}

export interface StartSession {
  tenantId: string;
  userId: string;
  role: UserRole;
  kind: SessionKind;
  amr: SessionDoc['amr'];
  scope?: SupportScope;
  grantId?: string;
  /** Caps the session's end (support grant expiry). */
  notAfter?: Date;
  ip?: string;
}

function splitRefresh(token: string): { sessionId: string; secret: string } | undefined {
  const m = /^(ses_[A-Za-z0-9_-]{10,40})\.([A-Za-z0-9_-]{40,60})$/.exec(token);
  return m ? { sessionId: m[1]!, secret: m[2]! } : undefined;
}

async function accessFor(deps: SessionDeps, s: SessionDoc): Promise<{ token: string; expiresIn: number }> {
  return deps.issuer.sign(
    {
      userId: s.userId,
      tenantId: s.tenantId,
      role: s.role,
      sessionId: s._id,
      amr: s.amr,
      ...(s.scope ? { scope: s.scope } : {}),
      ...(s.kind === 'support' ? { actorId: s.supportUserId ?? s.userId } : {}),
    },
    s.expiresAt,
  );
}

/** Open a session and issue its first tokens; the given events ride on the session's insert. */
export async function startSession(
  deps: SessionDeps,
  p: StartSession,
  events: (sessionId: string) => Parameters<typeof makeEvent>[0][],
): Promise<{ session: SessionDoc; tokens: TokenPair }> {
  const now = new Date();
  const sessionId = randomId('ses');
  const secret = randomToken(32);
  let expiresAt = new Date(now.getTime() + deps.config.SESSION_MAX_S * 1000);
  if (p.notAfter && p.notAfter < expiresAt) expiresAt = p.notAfter;
  const session: SessionDoc = {
    _id: sessionId,
    tenantId: p.tenantId,
    userId: p.userId,
    kind: p.kind,
    role: p.role,
    amr: p.amr,
    ...(p.scope ? { scope: p.scope } : {}),
    ...(p.grantId ? { grantId: p.grantId } : {}),
    ...(p.kind === 'support' ? { supportUserId: p.userId } : {}),
    refreshHash: sha256(secret),
    usedRefreshHashes: [],
    createdAt: now,
    lastUsedAt: now,
    expiresAt,
  };
  await deps.sessions.create(session, events(sessionId).map(makeEvent));
  const access = await accessFor(deps, session);
  return {
    session,
    tokens: { accessToken: access.token, refreshToken: `${sessionId}.${secret}`, expiresIn: access.expiresIn, tokenType: 'Bearer' },
  };
}

/** Whether a session may still be used: not revoked, within its 12 h, not idle too long. */
function sessionUsable(deps: SessionDeps, s: SessionDoc, now: Date): boolean {
  if (s.revokedAt) return false;
  if (s.expiresAt <= now) return false;
  return now.getTime() - s.lastUsedAt.getTime() < deps.config.SESSION_IDLE_S * 1000;
}

/**
 * Exchange a refresh token for new tokens. The secret is rotated with a compare-and-set,
 * so of two uses of one token only one wins; a token that was already used (or loses that
 * race) revokes the whole session: somebody holds a copy.
 */
export async function refreshSession(
  deps: SessionDeps,
  refreshToken: string,
  check?: (s: SessionDoc) => Promise<boolean>,
): Promise<TokenPair> {
  const parts = splitRefresh(refreshToken);
  if (!parts) throw problems.unauthenticated('The refresh token is invalid.');
  const found = await deps.sessions.getForRefresh(parts.sessionId);
  if (!found) throw problems.unauthenticated('The refresh token is invalid.');
  const hash = sha256(parts.secret);
  const now = new Date();
  const isCurrent = constantTimeEqual(hash, found.refreshHash);
  if (!isCurrent) {
    if (found.usedRefreshHashes.some((h) => constantTimeEqual(h, hash))) {
      await revokeSession(deps, found, 'refresh-reuse', { kind: 'system', id: 'auth' });
    }
    throw problems.unauthenticated('The refresh token is invalid.');
  }
  if (!sessionUsable(deps, found, now) || (check && !(await check(found)))) {
    throw problems.unauthenticated('The session has ended.');
  }
  const secret = randomToken(32);
  const rotated = await deps.sessions.rotate(found, hash, sha256(secret), now);
  if (!rotated) {
    // Lost the race to another use of the same token: treat as reuse.
    await revokeSession(deps, found, 'refresh-reuse', { kind: 'system', id: 'auth' });
    throw problems.unauthenticated('The refresh token is invalid.');
  }
  const access = await accessFor(deps, rotated);
  return { accessToken: access.token, refreshToken: `${found._id}.${secret}`, expiresIn: access.expiresIn, tokenType: 'Bearer' };
}

/**
 * End a session now: the Redis mark first (every service refuses its access tokens from
 * that moment), then the durable record with its event.
 */
export async function revokeSession(
  deps: SessionDeps,
  s: Pick<SessionDoc, '_id' | 'tenantId' | 'userId' | 'expiresAt'>,
  reason: RevokeReason,
  actor: Actor,
): Promise<void> {
  const ttl = Math.max(60, Math.ceil((s.expiresAt.getTime() - Date.now()) / 1000) + deps.config.ACCESS_TOKEN_TTL_S + 60);
  await deps.redis.set(revokedSessionKey(s._id), reason, 'EX', ttl);
  const event = makeEvent({
    type: 'auth.session.revoked',
    tenantId: s.tenantId,
    actor,
    data: { sessionId: s._id, userId: s.userId, reason },
  });
  await deps.sessions.markRevoked(s.tenantId, s._id, reason, [event]);
}

/**
 * Put the Redis marks of recently revoked sessions back. Redis acknowledges a write before
 * its AOF has it on disk (appendfsync everysec; a busy disk postpones even the write), so a
 * kill -9 can lose a revocation answered moments before (measured by scripts/chaos, docs/resilience.md),
 * and a lost volume loses them all. The durable record is the session's `revokedAt`; an
 * access token outlives its session's revocation by at most ACCESS_TOKEN_TTL_S, so the
 * revocations of that window (with a margin) are the ones that matter. Auth runs this
 * whenever its Redis connection becomes ready, i.e. also after Redis restarted.
 */
export async function reassertRevocations(deps: Pick<AuthComponents, 'sessions' | 'redis' | 'config'>, now = Date.now()): Promise<number> {
  const since = new Date(now - (deps.config.ACCESS_TOKEN_TTL_S + 120) * 1000);
  const revoked = await deps.sessions.revokedSince(since);
  for (const s of revoked) {
    const ttl = Math.max(60, Math.ceil((s.expiresAt.getTime() - now) / 1000) + deps.config.ACCESS_TOKEN_TTL_S + 60);
    await deps.redis.set(revokedSessionKey(s._id), s.revokedReason ?? 'logout', 'EX', ttl);
  }
  return revoked.length;
}

/** End every open session of a user (or of a grant), optionally keeping one. */
export async function revokeSessionsWhere(
  deps: SessionDeps,
  tenantId: string,
  filter: { userId?: string; grantId?: string },
  reason: RevokeReason,
  actor: Actor,
  keep?: string,
): Promise<number> {
  const open = await deps.sessions.openFor(tenantId, filter);
  let n = 0;
  for (const s of open) {
    if (s._id === keep) continue;
    await revokeSession(deps, s, reason, actor);
    n++;
  }
  return n;
}
