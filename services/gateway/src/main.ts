// Gateway boot: configuration, logger, metrics, Redis (rate limits and revocation
// checks), token verification against auth's JWKS, pooled connections to the services,
// then the HTTP server. It owns no database. Everything closes in reverse on SIGTERM.
import { JwksVerifier, Lifecycle, Metrics, createLogger, httpJwksSource, startHttpServer } from '@praxis/platform';
import { Redis } from 'ioredis';
import { createGatewayApp } from './app';
import { loadGatewayConfig } from './config';
import { bufferedStdout } from './logging/buffered-stdout';
import { Upstreams } from './proxy/upstreams';

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logLines = bufferedStdout();
  const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL, destination: logLines });
  const metrics = new Metrics('gateway');
  const lifecycle = new Lifecycle(logger);
  // Registered first, so it runs last: the lines about closing everything else get out too.
  lifecycle.onClose('log', () => logLines.flush());

  // No offline queue and a short command timeout: when Redis is away, limit and
  // revocation checks fail at once and the request is refused (fail closed), not parked.
  const redis = new Redis(config.REDIS_URL, {
    lazyConnect: true,
    connectionName: 'gateway',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis error'));
  await redis.connect().catch((err: Error) => logger.warn({ err: err.message }, 'redis not reachable yet; not ready until it is'));
  lifecycle.onClose('redis', () => redis.quit());

  const verifier = new JwksVerifier({ source: httpJwksSource(config.JWKS_URL ?? `${config.AUTH_URL}/.well-known/jwks.json`) });
  await verifier.refresh().catch((err: Error) => logger.warn({ err: err.message }, 'JWKS not loaded yet'));

  const upstreams = new Upstreams(
    {
      auth: config.AUTH_URL,
      records: config.RECORDS_URL,
      consent: config.CONSENT_URL,
      messaging: config.MESSAGING_URL,
      audit: config.AUDIT_URL,
    },
    {
      connectTimeoutMs: config.UPSTREAM_CONNECT_TIMEOUT_MS,
      responseTimeoutMs: config.UPSTREAM_TIMEOUT_MS,
      connections: config.UPSTREAM_CONNECTIONS,
    },
  );
  lifecycle.onClose('upstreams', () => upstreams.close());

  const corsOrigins = [...config.CORS_ORIGINS, ...(config.PUBLIC_URL ? [new URL(config.PUBLIC_URL).origin] : [])];
  const app = createGatewayApp({
    logger,
    metrics,
    redis,
    verifier,
    upstreams,
    rateLimits: {
      ipPerMinute: config.RATE_LIMIT_IP_PER_MIN,
      authIpPerMinute: config.RATE_LIMIT_AUTH_IP_PER_MIN,
      userPerMinute: config.RATE_LIMIT_USER_PER_MIN,
    },
    corsOrigins,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    trustedProxies: config.TRUSTED_PROXIES,
    redisKeyPrefix: config.RATE_LIMIT_PREFIX,
    readiness: config.READINESS_UPSTREAMS,
  });
  const server = await startHttpServer(app, config.PORT, config.HOST);
  lifecycle.onClose('http', () => server.close(10_000));
  lifecycle.handleSignals();
  logger.info({ port: server.port, upstreams: upstreams.all().map((u) => u.name) }, 'gateway listening');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
