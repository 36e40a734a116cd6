// Access tokens: ES256 JWTs through jsonwebtoken with a KeyObject, `kid` in the header,
// the claims of libs/contracts (tokens.ts), short-lived.
import { type AccessTokenClaims, TOKEN_AUDIENCE, TOKEN_ISSUER, type SupportScope } from '@praxis/contracts';
import { uuidv7 } from '@praxis/platform';
import jwt from 'jsonwebtoken';
import type { KeyStore } from './key-store';

export interface AccessTokenSubject {
  userId: string;
  tenantId: string;
  role: AccessTokenClaims['role'];
  sessionId: string;
  amr: AccessTokenClaims['amr'];
  scope?: SupportScope;
  /** Support mode: the platform support user really acting. */
  actorId?: string;
}

export class TokenIssuer {
  constructor(
    private readonly keys: KeyStore,
    private readonly ttlSeconds: number,
  ) {}

  /** Sign an access token; `notAfter` caps its expiry (a support grant's end). */
  async sign(s: AccessTokenSubject, notAfter?: Date): Promise<{ token: string; expiresIn: number }> {
    const { kid, privateKey } = await this.keys.signingKey();
    let expiresIn = this.ttlSeconds;
    if (notAfter) expiresIn = Math.max(1, Math.min(expiresIn, Math.floor((notAfter.getTime() - Date.now()) / 1000)));
    const claims = {
      sub: s.userId,
      tid: s.tenantId,
      role: s.role,
      sid: s.sessionId,
      amr: s.amr,
      jti: uuidv7(),
      ...(s.scope ? { scope: s.scope } : {}),
      ...(s.actorId ? { act: { sub: s.actorId } } : {}),
    };
    const token = jwt.sign(claims, privateKey, {
      algorithm: 'ES256',
      keyid: kid,
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      expiresIn,
    });
    return { token, expiresIn };
  }
}
