// Zero-trust request authentication: every service verifies the bearer token itself and
// checks the session has not been revoked, then decides with the permission matrix.
import { type AccessTokenClaims, type Actor, type Permission, can, revokedSessionKey } from '@praxis/contracts';
import type { Request } from 'express';
import type { Redis } from 'ioredis';
import { setContextIdentity } from '../context';
import type { JwksVerifier } from '../jwt';
import { problems } from './problem';

export interface AuthContext {
  tenantId: string;
  userId: string;
  role: AccessTokenClaims['role'];
  scope?: AccessTokenClaims['scope'];
  sessionId: string;
  amr: string[];
  /** Who really acted: the support user in support mode, else the user or service. */
  actor: Actor;
  claims: AccessTokenClaims;
  can(permission: Permission): boolean;
}

export interface Authenticator {
  authenticate(req: Request): Promise<AuthContext>;
}

export function bearerToken(req: Request): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer ([A-Za-z0-9._~+/=-]{10,8192})$/.exec(h.trim());
  return m?.[1];
}

export function authContextFromClaims(claims: AccessTokenClaims): AuthContext {
  const actor: Actor = claims.act
    ? { kind: 'support', id: claims.act.sub, onBehalfOf: claims.tid }
    : claims.role === 'service'
      ? { kind: 'service', id: claims.sub }
      : { kind: 'user', id: claims.sub };
  const principal = { role: claims.role, ...(claims.scope ? { scope: claims.scope } : {}) };
  return {
    tenantId: claims.tid,
    userId: claims.sub,
    role: claims.role,
    ...(claims.scope ? { scope: claims.scope } : {}),
    sessionId: claims.sid,
    amr: claims.amr,
    actor,
    claims,
    can: (p) => can(principal, p),
  };
}

export class TokenAuthenticator implements Authenticator {
  constructor(
    private readonly verifier: Pick<JwksVerifier, 'verify'>,
    private readonly redis: Pick<Redis, 'exists'>,
  ) {}

  async authenticate(req: Request): Promise<AuthContext> {
    const token = bearerToken(req);
    if (!token) throw problems.unauthenticated();
    let claims: AccessTokenClaims;
    try {
      claims = await this.verifier.verify(token);
    } catch {
      throw problems.unauthenticated('The access token is invalid or expired.');
    }
    // Fail closed: if Redis cannot answer, the request is refused rather than trusted.
    let revoked: number;
    try {
      revoked = await this.redis.exists(revokedSessionKey(claims.sid));
    } catch {
      throw problems.unavailable('Cannot check the session right now.');
    }
    if (revoked) throw problems.unauthenticated('The session has ended.');
    const ctx = authContextFromClaims(claims);
    setContextIdentity(ctx.tenantId, ctx.actor.id);
    return ctx;
  }
}
