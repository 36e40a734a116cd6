// The auth service's environment, parsed once at boot. The only place that reads process.env.
import { baseServiceConfig, configFields, kekConfigFields, loadConfig } from '@praxis/platform';
import { availableParallelism } from 'node:os';
import { z } from 'zod';

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);

/**
 * KEK ids must not look like tenant- or user-key ids (`tk_…`, `uk_…`): a sealed value's
 * `kid` tells a value sealed under a user key from one sealed under a KEK.
 */
const notKeyId = (id: string) => !/^(tk|uk)_/.test(id);
const reserved = 'must not start with tk_ or uk_ (reserved for tenant and user keys)';

export const authConfigSchema = baseServiceConfig.extend({
  PORT: configFields.port(8081),
  /**
   * Key-encryption key (base64, 32 bytes), from outside the database: wraps the tenant keys
   * (which wrap the user data keys), seals signing keys, keys the email blind index.
   */
  KEK: kekConfigFields.KEK,
  KEK_ID: kekConfigFields.KEK_ID.refine(notKeyId, reserved),
  /** Retired KEKs, readable until `cli.ts rotate-kek` has moved everything to KEK. */
  KEK_PREVIOUS: kekConfigFields.KEK_PREVIOUS.refine((list) => list.every((k) => notKeyId(k.id)), reserved),
  /**
   * express `trust proxy`: whose X-Forwarded-For to believe for the client IP the per-IP
   * throttles key on. Loopback locally; in Kubernetes the gateway pods' network, or every
   * user would share the gateway's address. A number means "that many hops".
   */
  TRUST_PROXY: z
    .string()
    .default('loopback')
    .transform((v): string | number | boolean => (/^\d+$/.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v)),
  /**
   * The region this process runs in (the chart's ConfigMap sets it). Names the queue that
   * writes every region's session revocations into this region's Redis.
   */
  REGION: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/)
    .default('local'),
  /** Prefix of auth's own Redis keys (throttles, MFA challenges); tests isolate themselves with it. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,60}$/)
    .default('praxis:auth:'),
  ACCESS_TOKEN_TTL_S: int(600, 30),
  SESSION_MAX_S: int(12 * 3600, 60),
  SESSION_IDLE_S: int(30 * 60, 60),
  MFA_CHALLENGE_TTL_S: int(300, 30),
  /** Concurrent argon2id hashes (each takes ~19 MiB); more wait in a bounded queue. */
  HASH_CONCURRENCY: int(Math.max(2, availableParallelism()), 1),
  HASH_QUEUE: int(512, 1),
  ARGON2_MEMORY_KIB: int(19456, 19456),
  ARGON2_TIME: int(2, 2),
  /** Failed passwords per account allowed without delay; then a delay doubling from LOGIN_DELAY_BASE_MS. */
  LOGIN_FREE_FAILURES: int(3, 0),
  LOGIN_DELAY_BASE_MS: int(1000, 1),
  LOGIN_DELAY_MAX_MS: int(30_000, 1),
  /** Consecutive failures (password, or codes) that lock an account, and for how long. */
  LOGIN_LOCK_AFTER: int(10, 2),
  LOGIN_LOCK_S: int(15 * 60, 1),
  LOGIN_FAILURE_WINDOW_S: int(15 * 60, 1),
  /** Per client IP: auth requests a minute, and failures per window, before refusal. */
  IP_REQUESTS_PER_MIN: int(600, 300),
  IP_FAILURES_PER_WINDOW: int(100, 1),
  DELETION_COOLING_OFF_DAYS: int(45, 1),
  PURGE_INTERVAL_MS: int(60_000, 100),
  OUTBOX_INTERVAL_MS: int(250, 10),
});
export type AuthConfig = z.infer<typeof authConfigSchema>;

export function loadAuthConfig(env: Record<string, string | undefined> = process.env): AuthConfig {
  return loadConfig(authConfigSchema, env);
}
