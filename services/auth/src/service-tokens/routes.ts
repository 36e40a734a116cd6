// POST /internal/service-tokens: the internal route services get their tokens from. Not
// routed by the gateway (it refuses every `/internal/…` path); authenticated by the
// calling service's client secret rather than a bearer token.
import { ApiRouter, problems } from '@praxis/platform';
import { z } from 'zod';
import type { AuthComponents } from '../common/components';
import { authenticateService, issueServiceToken, parseClientSecrets } from './use-cases';
import type { ServiceTokenDeps } from './use-cases';

export type ServiceTokenRouteDeps = ServiceTokenDeps & Pick<AuthComponents, 'authenticator'>;

export function serviceTokenRoutes(deps: ServiceTokenRouteDeps): ApiRouter {
  const secrets = parseClientSecrets(deps.config.SERVICE_CLIENT_SECRETS);
  const r = new ApiRouter(deps.authenticator);
  r.route(
    {
      method: 'post',
      path: '/internal/service-tokens',
      summary: 'A short-lived service token for one practice (HTTP Basic: service name and its client secret)',
      tags: ['service-tokens'],
      auth: 'public',
      internal: true,
      body: z.strictObject({
        tenantId: z
          .string()
          .min(1)
          .max(200)
          .regex(/^[A-Za-z0-9_-]+$/),
      }),
      response: z.object({ accessToken: z.string(), expiresIn: z.number(), tokenType: z.literal('Bearer') }),
      errors: { 404: 'No such practice' },
    },
    async ({ req, body }) => {
      const service = authenticateService(secrets, req.headers.authorization);
      if (!service) throw problems.unauthenticated('A service client secret is required.');
      return issueServiceToken(deps, service, body.tenantId);
    },
  );
  return r;
}
