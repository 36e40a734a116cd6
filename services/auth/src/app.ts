// Builds auth's express app from its dependencies (main.ts and the tests both call it):
// the platform app (health, metrics, OpenAPI, problem+json) with auth's routers and the
// JWKS at the root.
import { createHttpApp } from '@praxis/platform';
import type { Express } from 'express';
import type { AuthDeps } from './deps';
import { deletionRoutes } from './deletion/routes';
import { loginRoutes } from './login/routes';
import { mfaRoutes } from './mfa/routes';
import { practiceAdminRoutes } from './practice-admins/routes';
import { serviceTokenRoutes } from './service-tokens/routes';
import { supportRoutes } from './support/routes';
import { tenantRoutes } from './tenants/routes';
import { userRoutes } from './users/routes';

export function createAuthApp(deps: AuthDeps): Express {
  return createHttpApp({
    service: 'auth',
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: deps.readiness,
    trustedProxies: deps.config.TRUSTED_PROXIES,
    requestTimeoutMs: deps.config.REQUEST_TIMEOUT_MS,
    routers: [
      tenantRoutes(deps),
      deletionRoutes(deps),
      loginRoutes(deps),
      mfaRoutes(deps),
      userRoutes(deps),
      supportRoutes(deps),
      serviceTokenRoutes(deps),
      practiceAdminRoutes(deps),
    ],
    configure: (app) => {
      app.get('/.well-known/jwks.json', async (_req, res, next) => {
        try {
          const jwks = await deps.keys.jwks();
          // Verifiers may cache briefly; the next key is published well before it signs.
          res.setHeader('Cache-Control', 'public, max-age=60');
          res.json(jwks);
        } catch (err) {
          next(err);
        }
      });
    },
  });
}
