// The audit service's environment, parsed once at boot (the only place reading process.env).
import { baseServiceConfig, configFields, kekConfigFields, loadConfig } from '@praxis/platform';
import { z } from 'zod';

export const auditConfigSchema = baseServiceConfig.extend({
  PORT: configFields.port(8085),
  /**
   * Key-encryption key (base64, 32 bytes) sealing the checkpoint-signing keys, its id,
   * and retired KEKs (`id:base64,…`) whose sealed keys are re-sealed at boot.
   */
  ...kekConfigFields,
  /** Sign a checkpoint at every seq that is a multiple of this… */
  AUDIT_CHECKPOINT_EVERY: z.coerce.number().int().min(1).default(1000),
  /** …and at least this often for any tenant whose log moved. */
  AUDIT_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  /** Unacknowledged deliveries in flight: enough to fill the next batch while one is written. */
  AUDIT_PREFETCH: z.coerce.number().int().min(1).max(10_000).default(2000),
  /** The most entries of one tenant appended in one insert. */
  AUDIT_BATCH_MAX: z.coerce.number().int().min(1).max(5000).default(500),
  /** The consumer's name: its queue is `audit.<name>` (tests run a private one). */
  AUDIT_CONSUMER_NAME: z
    .string()
    .regex(/^[a-z0-9-]{1,60}$/)
    .default('log'),
});
export type AuditConfig = z.infer<typeof auditConfigSchema>;

export function loadAuditConfig(env: Record<string, string | undefined> = process.env): AuditConfig {
  return loadConfig(auditConfigSchema as never, env) as AuditConfig;
}
