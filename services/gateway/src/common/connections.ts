// What the gateway opens at boot, in order, each with its close registered: logger
// (buffered stdout), metrics, Redis (rate limits and revocation checks), token
// verification against auth's JWKS, and pooled connections to the services. It owns no
// database and no bus, so it does not use the platform's openServiceDeps; the shape is
// the same (closes in reverse on SIGTERM through `lifecycle`).
import { JwksVerifier, Lifecycle, type Logger, Metrics, createLogger, httpJwksSource } from '@praxis/platform';
import type { GatewayConfig } from '../config';
import { bufferedStdout } from '../logging/buffered-stdout';
import { Upstreams } from '../proxy/upstreams';
import { EdgeRedis } from '../rate-limit/edge-redis';

export interface GatewayConnections {
  name: 'gateway';
  logger: Logger;
  metrics: Metrics;
  lifecycle: Lifecycle;
  redis: EdgeRedis;
  verifier: JwksVerifier;
  upstreams: Upstreams;
}

export async function openGatewayConnections(config: GatewayConfig): Promise<GatewayConnections> {
  const logLines = bufferedStdout();
  const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL, destination: logLines });
  const metrics = new Metrics('gateway');
  const lifecycle = new Lifecycle(logger);
  // Registered first, so it runs last: the lines about closing everything else get out too.
  lifecycle.onClose('log', () => logLines.flush());

  // No offline queue and a short command timeout: when Redis is away, limit and
  // revocation checks fail at once and the request is refused (fail closed), not parked.
  // Commands issued in the same turn of the event loop (concurrent requests' edge checks)
  // go out in one write and their answers come back in one read (rate-limit/edge-redis.ts).
  const redis = new EdgeRedis({
    url: config.REDIS_URL,
    commandTimeoutMs: 1_000,
    onError: (err) => logger.warn({ err: err.message }, 'redis error'),
  });
  await redis.connect();
  lifecycle.onClose('redis', () => redis.quit());

  // TokenCheck (edge-auth) remembers verified tokens itself, so the verifier does not.
  const verifier = new JwksVerifier({
    source: httpJwksSource(config.JWKS_URL ?? `${config.AUTH_URL}/.well-known/jwks.json`),
    cacheEntries: 0,
  });
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
  return { name: 'gateway', logger, metrics, lifecycle, redis, verifier, upstreams };
}
