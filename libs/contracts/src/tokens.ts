// Access-token claims and the session revocation contract shared by every verifier.
import { z } from 'zod';
import { supportScopes } from './permissions';

export const TOKEN_ISSUER = 'praxis-auth';
export const TOKEN_AUDIENCE = 'praxis';
export const TOKEN_ALGORITHMS = ['ES256'] as const;

export const amrSchema = z.array(z.enum(['pwd', 'otp', 'rec', 'svc']));

export const accessTokenClaimsSchema = z.object({
  iss: z.literal(TOKEN_ISSUER),
  aud: z.union([z.literal(TOKEN_AUDIENCE), z.array(z.string())]),
  sub: z.string().min(1),
  tid: z.string().min(1),
  role: z.enum(['admin', 'clinician', 'receptionist', 'support', 'service']),
  sid: z.string().min(1),
  amr: amrSchema,
  jti: z.string().min(1),
  iat: z.number(),
  exp: z.number(),
  scope: z.enum(supportScopes).optional(),
  /** Support mode: the real actor (RFC 8693 `act`). */
  act: z.object({ sub: z.string() }).optional(),
});
export type AccessTokenClaims = z.infer<typeof accessTokenClaimsSchema>;

/**
 * Redis key marking a session revoked. Auth sets it (with a TTL of the session's
 * remaining life) on logout, admin revocation, refresh-token reuse and grant revocation;
 * every service checks it on every request, so revocation takes effect at once.
 */
export function revokedSessionKey(sid: string): string {
  return `praxis:revoked-session:${sid}`;
}
