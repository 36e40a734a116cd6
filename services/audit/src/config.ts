// The audit service's environment, parsed once at boot (the only place reading process.env).
import { baseServiceConfig, configFields, loadConfig } from '@praxis/platform';
import { z } from 'zod';

const kekId = z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/);

export const auditConfigSchema = baseServiceConfig
  .extend({
    PORT: configFields.port(8085),
    /** Key-encryption key (base64, 32 bytes) sealing the checkpoint-signing keys, and its id. */
    KEK: configFields.key32,
    KEK_ID: kekId,
    /** The KEK before a rotation, so keys sealed under it are re-sealed at boot. */
    KEK_PREVIOUS: configFields.key32.optional(),
    KEK_PREVIOUS_ID: kekId.optional(),
    /** Sign a checkpoint at every seq that is a multiple of this… */
    AUDIT_CHECKPOINT_EVERY: z.coerce.number().int().min(1).default(1000),
    /** …and at least this often for any tenant whose log moved. */
    AUDIT_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
    /** Unacknowledged deliveries in flight: enough to fill the next batch while one is written. */
    AUDIT_PREFETCH: z.coerce.number().int().min(1).max(10_000).default(2000),
    /** The most entries of one tenant appended in one insert. */
    AUDIT_BATCH_MAX: z.coerce.number().int().min(1).max(5000).default(500),
    /** The consumer's name: its queue is `audit.<name>` (tests run a private one). */
    AUDIT_CONSUMER_NAME: z.string().regex(/^[a-z0-9-]{1,60}$/).default('log'),
  })
  .refine((c) => !c.KEK_PREVIOUS === !c.KEK_PREVIOUS_ID, { message: 'KEK_PREVIOUS and KEK_PREVIOUS_ID go together', path: ['KEK_PREVIOUS_ID'] });
export type AuditConfig = z.infer<typeof auditConfigSchema>;

export function loadAuditConfig(env: Record<string, string | undefined> = process.env): AuditConfig {
  return loadConfig(auditConfigSchema as never, env) as AuditConfig;
}

export function keyEncryptionKeys(c: AuditConfig) {
  const keys = new Map<string, Buffer>([[c.KEK_ID, Buffer.from(c.KEK, 'base64')]]);
  if (c.KEK_PREVIOUS && c.KEK_PREVIOUS_ID) keys.set(c.KEK_PREVIOUS_ID, Buffer.from(c.KEK_PREVIOUS, 'base64'));
  return { currentId: c.KEK_ID, keys };
}
