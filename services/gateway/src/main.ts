// Boot: configuration, connections (Redis, auth's JWKS, the services), the app, then the
// signing keys; closes everything in reverse order on SIGTERM/SIGINT.
import { runMain, serveHttp } from '@praxis/platform';
import { buildGateway } from './app';
import { openGatewayConnections } from './common/connections';
import { loadGatewayConfig } from './config';

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const deps = await openGatewayConnections(config);
  const gateway = await buildGateway({
    logger: deps.logger,
    metrics: deps.metrics,
    redis: deps.redis,
    verifier: deps.verifier,
    upstreams: deps.upstreams,
    rateLimits: {
      ipPerMinute: config.RATE_LIMIT_IP_PER_MIN,
      authIpPerMinute: config.RATE_LIMIT_AUTH_IP_PER_MIN,
      userPerMinute: config.RATE_LIMIT_USER_PER_MIN,
    },
    corsOrigins: [...config.CORS_ORIGINS, ...(config.PUBLIC_URL ? [new URL(config.PUBLIC_URL).origin] : [])],
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    trustedProxies: config.TRUSTED_PROXIES,
    redisKeyPrefix: config.RATE_LIMIT_PREFIX,
    readiness: config.READINESS_UPSTREAMS,
  });
  // Registered after Redis, so the service pools close before it (reverse order).
  deps.lifecycle.onClose('upstreams', () => gateway.stop());
  await serveHttp(deps, gateway.app, config.PORT, config.HOST);
  await gateway.start();
}

runMain(main);
