// The messaging service's environment, parsed once at boot. The only module that reads
// process.env. KEK wraps every tenant key (docs/messaging.md, "Encryption"); the SMTP and
// SMS settings name the mail server and the two SMS providers, their credentials come
// from mounted secrets in production.
import { baseServiceConfig, configFields, kekConfigFields, loadConfig } from '@praxis/platform';
import { z } from 'zod';

const secret = z.string().min(8).max(200);
const ms = (def: number) => z.coerce.number().int().min(1).max(600_000).default(def);

export const smsConfigFields = {
  /** Which adapter is tried first; the other is the fail-over. */
  SMS_PRIMARY: z.enum(['twilio', 'vonage']).default('twilio'),
  TWILIO_API_URL: configFields.httpUrl.default('https://api.twilio.com'),
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-f]{32}$/, 'AC followed by 32 hex digits'),
  TWILIO_AUTH_TOKEN: secret,
  TWILIO_FROM: z.string().min(3).max(20).default('Praxis'),
  VONAGE_API_URL: configFields.httpUrl.default('https://rest.nexmo.com'),
  VONAGE_API_KEY: z.string().min(4).max(40),
  VONAGE_API_SECRET: secret,
  /** The secret Vonage signs delivery receipts with (dashboard: "signature secret"). */
  VONAGE_SIGNATURE_SECRET: secret,
  VONAGE_FROM: z.string().min(3).max(20).default('Praxis'),
  /** One provider call may take this long before it counts as a failure. */
  SMS_TIMEOUT_MS: ms(2_000),
  /** Consecutive failures that open a provider's circuit. */
  SMS_BREAKER_FAILURES: z.coerce.number().int().min(1).max(100).default(3),
  /** An open circuit lets one trial call through (half-open) after this long. */
  SMS_BREAKER_HALF_OPEN_MS: ms(5_000),
};

export const smtpConfigFields = {
  /** smtp://host:port of the mail server; STARTTLS is always required (docs/messaging.md). */
  SMTP_URL: z.url({ protocol: /^smtp$/ }).default('smtp://127.0.0.1:1025'),
  /** PEM file of the CA (or self-signed certificate) the mail server's certificate must chain to; system CAs otherwise. */
  SMTP_CA_FILE: z.string().min(1).optional(),
  SMTP_USER: z.string().min(1).optional(),
  SMTP_PASSWORD: z.string().min(1).optional(),
  SMTP_FROM: z.string().min(3).max(200).default('Praxis <no-reply@praxis.localhost>'),
};

export const messagingConfigSchema = baseServiceConfig.extend({
  PORT: configFields.port(8084),
  ...kekConfigFields,
  ...smsConfigFields,
  ...smtpConfigFields,
  /** Records' internal routes (contact details, template rendering). */
  RECORDS_URL: configFields.httpUrl,
  /** Auth's internal service-token route. */
  AUTH_URL: configFields.httpUrl,
  /** This service's client secret at auth (auth holds the same one). */
  SERVICE_CLIENT_SECRET: secret,
  /** The public address of the platform: links in emails (direct messages, privacy notices). */
  PUBLIC_URL: configFields.httpUrl.default('http://localhost:8080'),
  /** Where providers post delivery receipts (the gateway's public address in production). */
  WEBHOOK_BASE_URL: configFields.httpUrl.optional(),
  /** Days a direct message can be opened. */
  DM_TTL_DAYS: z.coerce.number().int().min(1).max(90).default(7),
  /** A credit reservation whose message was never stored is refunded after this long (docs/messaging.md). */
  CREDIT_HOLD_S: z.coerce.number().int().min(10).max(86_400).default(600),
  /** How often the sweep for such reservations runs. */
  CREDIT_SWEEP_MS: ms(60_000),
  /** Prefix of the bus consumers' names, so a test run consumes privately. Empty in production. */
  MESSAGING_CONSUMER_PREFIX: z
    .string()
    .regex(/^([a-z0-9-]{1,40}-)?$/, 'lowercase letters, digits and dashes, ending in a dash')
    .default(''),
});
export type MessagingConfig = z.infer<typeof messagingConfigSchema>;

export function loadMessagingConfig(env: Record<string, string | undefined> = process.env): MessagingConfig {
  return loadConfig(messagingConfigSchema, env);
}

/** What the operator command needs: the database, the bus, the mail server. */
export const cliConfigSchema = z.object({
  MONGO_URL: configFields.mongoUrl,
  MONGO_DB: configFields.mongoDb,
  LOG_LEVEL: configFields.logLevel,
  AUTH_URL: configFields.httpUrl,
  SERVICE_CLIENT_SECRET: secret,
  ...smtpConfigFields,
});
export type CliConfig = z.infer<typeof cliConfigSchema>;

export function loadCliConfig(env: Record<string, string | undefined> = process.env): CliConfig {
  return loadConfig(cliConfigSchema, env);
}
