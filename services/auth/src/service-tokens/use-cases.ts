// Service-to-service tokens (docs/platform.md "Service tokens"): a service proves itself
// with its client secret (HTTP Basic, compared in constant time against
// SERVICE_CLIENT_SECRETS) and gets a short-lived access token for one practice, with
// `role: 'service'`, `sub: <service>`, `amr: ['svc']`. The token holds no session: its
// `sid` is unique per token, so nothing revokes it but its short life. Each issue is an
// audited event (the service and the practice, never the secret).
import { constantTimeEqual, makeEvent, namedEntries, problems, randomId } from '@praxis/platform';
import type { AuthComponents } from '../common/components';

/** What service tokens use: config (client secrets, TTL), the issuer, practices and events. */
export type ServiceTokenDeps = Pick<AuthComponents, 'config' | 'events' | 'issuer' | 'tenants'>;

/** A service name as it appears in `sub` and in SERVICE_CLIENT_SECRETS. */
export const serviceNamePattern = /^[a-z][a-z-]{1,40}$/;

/** Parse `name:secret,name:secret` (each secret at least 32 characters). */
export function parseClientSecrets(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const { name, value: secret } of namedEntries(raw)) {
    if (!serviceNamePattern.test(name) || secret.length < 32)
      throw new Error('each entry must be <service>:<secret of at least 32 characters>');
    out.set(name, secret);
  }
  return out;
}

/** The calling service, if its Basic credentials match a configured client secret. */
export function authenticateService(secrets: ReadonlyMap<string, string>, authorization: string | undefined): string | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]{4,1000})$/.exec(authorization?.trim() ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 1) return undefined;
  const name = decoded.slice(0, i);
  const expected = secrets.get(name);
  // constantTimeEqual compares digests, so neither length nor content leaks by timing; an
  // unknown service is compared too, against a value nobody can match.
  const ok = constantTimeEqual(decoded.slice(i + 1), expected ?? `\u0000unknown:${randomId()}`);
  return ok && expected !== undefined ? name : undefined;
}

export async function issueServiceToken(
  deps: ServiceTokenDeps,
  service: string,
  tenantId: string,
): Promise<{ accessToken: string; expiresIn: number; tokenType: 'Bearer' }> {
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw problems.notFound('No such practice.');
  const ttl = deps.config.SERVICE_TOKEN_TTL_S;
  const { token, expiresIn } = await deps.issuer.sign(
    { userId: service, tenantId, role: 'service', sessionId: randomId('svc'), amr: ['svc'] },
    new Date(Date.now() + ttl * 1000),
  );
  await deps.events.recordAccess([
    makeEvent({ type: 'auth.service-token.issued', tenantId, actor: { kind: 'service', id: service }, data: { service, expiresIn } }),
  ]);
  return { accessToken: token, expiresIn, tokenType: 'Bearer' };
}
