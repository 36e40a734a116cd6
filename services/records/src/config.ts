// The records service's environment, parsed once at boot. The only module that reads
// process.env. KEK is the key-encryption key (a mounted secret in production) that wraps
// every tenant key; KEK_PREVIOUS keeps retired KEKs readable while `rotate-kek` re-wraps.
import { baseServiceConfig, configFields, kekConfigFields, loadConfig } from '@praxis/platform';
import { z } from 'zod';

export const recordsConfigSchema = baseServiceConfig.extend({
  PORT: configFields.port(8082),
  ...kekConfigFields,
  /**
   * Prefix of the bus consumers' names (queues `records.<prefix>erasure-requests`, …), so a
   * test or e2e run can consume privately beside a running records service. Empty in production.
   */
  RECORDS_CONSUMER_PREFIX: z
    .string()
    .regex(/^([a-z0-9-]{1,40}-)?$/, 'lowercase letters, digits and dashes, ending in a dash')
    .default(''),
});
export type RecordsConfig = z.infer<typeof recordsConfigSchema>;

/** What the key-rotation CLI needs: the database and the keys, nothing else. */
export const cliConfigSchema = z.object({
  MONGO_URL: configFields.mongoUrl,
  MONGO_DB: configFields.mongoDb,
  LOG_LEVEL: configFields.logLevel,
  ...kekConfigFields,
});
export type CliConfig = z.infer<typeof cliConfigSchema>;

export function loadRecordsConfig(env: Record<string, string | undefined> = process.env): RecordsConfig {
  return loadConfig(recordsConfigSchema, env);
}

export function loadCliConfig(env: Record<string, string | undefined> = process.env): CliConfig {
  return loadConfig(cliConfigSchema, env);
}
