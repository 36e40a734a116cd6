// Typed configuration from the environment. Each service declares a zod schema in its
// own config.ts and parses process.env once at boot; a missing or malformed variable
// stops the process with a message naming it.
import { z } from 'zod';
import { TrustedProxies } from './http/client-ip';

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.variable}: ${p.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig<S extends z.ZodObject>(schema: S, env: Record<string, string | undefined>): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      variable: issue.path.map(String).join('.') || '(environment)',
      message: issue.code === 'invalid_type' && issue.input === undefined ? 'is required but not set' : issue.message,
    })),
  );
}

/** Building blocks most services' schemas share. */
/**
 * A list variable of `name:value` entries separated by commas (`KEK_PREVIOUS`,
 * `SERVICE_CLIENT_SECRETS`): each entry split at its first colon, blanks skipped. An entry
 * without a colon, or with nothing before it, has an empty name; the caller refuses it.
 */
export function namedEntries(raw: string): { name: string; value: string }[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((part) => {
      const i = part.indexOf(':');
      return i < 1 ? { name: '', value: part } : { name: part.slice(0, i), value: part.slice(i + 1) };
    });
}

export const configFields = {
  port: (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback),
  mongoUrl: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URL'),
  /** MONGO_DB: the database's name (default: the service's). */
  mongoDb: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,60}$/)
    .optional(),
  amqpUrl: z.string().regex(/^amqps?:\/\//, 'must be an amqp:// URL'),
  redisUrl: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  httpUrl: z.url({ protocol: /^https?$/ }),
  /** A 32-byte key given as base64 (a mounted secret in production). */
  key32: z.string().refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded'),
  /**
   * TRUSTED_PROXIES: comma-separated IPs or CIDRs of the proxies whose X-Forwarded-For is
   * believed (the ingress for the gateway, the gateway's pods for the services). Empty: none.
   */
  trustedProxies: z
    .string()
    .default('')
    .transform((v, ctx) => {
      try {
        return TrustedProxies.parse(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
};
