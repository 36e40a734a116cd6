// The records service's environment, parsed once at boot. The only module that reads
// process.env. KEK is the key-encryption key (a mounted secret in production) that wraps
// every tenant key; KEK_PREVIOUS keeps retired KEKs readable while `rotate-kek` re-wraps.
import { baseServiceConfig, configFields, loadConfig } from '@praxis/platform';
import { z } from 'zod';

const kekId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash, underscore (1-64)');

/** `id:base64key,id:base64key` — retired KEKs still needed to unwrap not-yet-rotated tenant keys. */
const previousKeks = z
  .string()
  .default('')
  .transform((s, ctx) => {
    const out: { id: string; key: string }[] = [];
    for (const part of s.split(',').map((p) => p.trim()).filter(Boolean)) {
      const i = part.indexOf(':');
      const id = part.slice(0, i);
      const key = part.slice(i + 1);
      if (i < 1 || !kekId.safeParse(id).success || Buffer.from(key, 'base64').length !== 32) {
        ctx.addIssue({ code: 'custom', message: 'each entry must be <kekId>:<32-byte base64 key>' });
        return z.NEVER;
      }
      out.push({ id, key });
    }
    return out;
  });

const keyFields = {
  KEK: configFields.key32,
  KEK_ID: kekId,
  KEK_PREVIOUS: previousKeks,
};

export const recordsConfigSchema = baseServiceConfig.extend({
  PORT: configFields.port(8082),
  ...keyFields,
  /**
   * Prefix of the bus consumers' names (queues `records.<prefix>erasure-requests`, …), so a
   * test or e2e run can consume privately beside a running records service. Empty in production.
   */
  RECORDS_CONSUMER_PREFIX: z.string().regex(/^([a-z0-9-]{1,40}-)?$/, 'lowercase letters, digits and dashes, ending in a dash').default(''),
});
export type RecordsConfig = z.infer<typeof recordsConfigSchema>;

/** What the key-rotation CLI needs: the database and the keys, nothing else. */
export const cliConfigSchema = z.object({
  MONGO_URL: configFields.mongoUrl,
  MONGO_DB: z.string().regex(/^[A-Za-z0-9_-]{1,60}$/).optional(),
  LOG_LEVEL: configFields.logLevel,
  ...keyFields,
});
export type CliConfig = z.infer<typeof cliConfigSchema>;

export function loadRecordsConfig(env: Record<string, string | undefined> = process.env): RecordsConfig {
  return loadConfig(recordsConfigSchema, env);
}

export function loadCliConfig(env: Record<string, string | undefined> = process.env): CliConfig {
  return loadConfig(cliConfigSchema, env);
}
