// The gateway's environment, parsed once at boot. The only place that reads process.env.
// Upstream URLs other than auth are optional: a service that is not deployed is simply
// not routed (its paths answer 503) and not waited for by /readyz.
import { configFields, loadConfig } from '@praxis/platform';
import { z } from 'zod';

const optionalUrl = configFields.httpUrl.optional();
const positiveInt = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

export const gatewayConfigSchema = z.object({
  PORT: configFields.port(8080),
  HOST: z.string().default('127.0.0.1'),
  REDIS_URL: configFields.redisUrl,
  LOG_LEVEL: configFields.logLevel,
  AUTH_URL: configFields.httpUrl,
  RECORDS_URL: optionalUrl,
  CONSENT_URL: optionalUrl,
  MESSAGING_URL: optionalUrl,
  AUDIT_URL: optionalUrl,
  /** Token-signing keys; defaults to auth's JWKS. */
  JWKS_URL: optionalUrl,
  /** Where people reach the gateway (its origin is always allowed by CORS). */
  PUBLIC_URL: optionalUrl,
  /** Comma-separated origins allowed to call the API from a browser. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/ }))),
  /**
   * Proxies whose X-Forwarded-For decides the client IP: comma-separated IPs or CIDRs (the
   * ingress controller's pods in Kubernetes). Empty (the default): every client is its
   * socket's peer, and X-Forwarded-For is ignored.
   */
  TRUSTED_PROXIES: configFields.trustedProxies,
  BODY_LIMIT_BYTES: positiveInt(1024 * 1024),
  UPSTREAM_CONNECT_TIMEOUT_MS: positiveInt(2_000),
  UPSTREAM_TIMEOUT_MS: positiveInt(10_000),
  UPSTREAM_CONNECTIONS: positiveInt(128),
  /** Requests a minute per client IP on the API as a whole. */
  RATE_LIMIT_IP_PER_MIN: positiveInt(3_000),
  /** Requests a minute per client IP on the public auth endpoints (login, sign-up, MFA, refresh). */
  RATE_LIMIT_AUTH_IP_PER_MIN: positiveInt(600),
  /** Requests a minute per authenticated user. */
  RATE_LIMIT_USER_PER_MIN: positiveInt(1_200),
  /**
   * Whether /readyz waits for every configured service (`all`, the default) or only for
   * Redis (`redis`), still listing the services. In Kubernetes, `all` takes every gateway
   * replica out of rotation while one service is down; `redis` keeps the other services
   * reachable and answers 503 for the missing one's paths.
   */
  READINESS_UPSTREAMS: z.enum(['all', 'redis']).default('all'),
  /** Prefix of the rate-limit keys in Redis: shared by every replica of one deployment. */
  RATE_LIMIT_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,60}$/)
    .default('praxis:gateway:rl'),
});
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  return loadConfig(gatewayConfigSchema, env);
}
