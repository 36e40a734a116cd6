// Opening and closing what every service depends on, in order: logger, metrics, MongoDB,
// Redis, the bus, token verification. main.ts calls openServiceDeps, builds its app,
// then serveHttp; everything closes in reverse on SIGTERM.
import type { Connection } from 'mongoose';
import { z } from 'zod';
import { Bus } from './bus';
import { configFields } from './config';
import { TokenAuthenticator } from './http/auth';
import { type RunningServer, startHttpServer } from './http/server';
import type { Express } from 'express';
import { type JwksSource, JwksVerifier, httpJwksSource } from './jwt';
import { Lifecycle } from './lifecycle';
import { type Logger, createLogger } from './logger';
import { Metrics } from './metrics';
import { connectMongo, pingMongo } from './mongo';
import { type Redis, connectRedis, pingRedis } from './redis';

/** Environment every service reads; a service's config.ts extends it. */
export const baseServiceConfig = z.object({
  PORT: configFields.port(8080),
  HOST: z.string().default('127.0.0.1'),
  MONGO_URL: configFields.mongoUrl,
  MONGO_DB: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,60}$/)
    .optional(),
  AMQP_URL: configFields.amqpUrl,
  REDIS_URL: configFields.redisUrl,
  LOG_LEVEL: configFields.logLevel,
  /** Where the auth service publishes its token-signing keys. */
  JWKS_URL: configFields.httpUrl,
  /** Proxies whose X-Forwarded-For decides the client IP (CIDRs; empty: trust none). */
  TRUSTED_PROXIES: configFields.trustedProxies,
  /** A request still unanswered after this long gets 503 (below the gateway's upstream timeout). */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(8_000),
  /** Seconds between bus retry back-offs, comma-separated (tests shorten them). */
  BUS_RETRY_DELAYS_MS: z
    .string()
    .regex(/^\d+(,\d+)*$/)
    .default('1000,5000,30000')
    .transform((s) => s.split(',').map(Number)),
});
export type BaseServiceConfig = z.infer<typeof baseServiceConfig>;

export interface ServiceDeps {
  name: string;
  logger: Logger;
  metrics: Metrics;
  mongo: Connection;
  redis: Redis;
  bus: Bus;
  verifier: JwksVerifier;
  authenticator: TokenAuthenticator;
  lifecycle: Lifecycle;
  readiness: Record<string, () => Promise<unknown>>;
}

export interface OpenDepsOptions {
  /** Token keys from somewhere other than JWKS_URL (auth serves its own). */
  jwksSource?: JwksSource;
  logger?: Logger;
}

export async function openServiceDeps(name: string, config: BaseServiceConfig, opts: OpenDepsOptions = {}): Promise<ServiceDeps> {
  const logger = opts.logger ?? createLogger({ service: name, level: config.LOG_LEVEL });
  const metrics = new Metrics(name);
  const lifecycle = new Lifecycle(logger);
  try {
    const mongo = await connectMongo({ url: config.MONGO_URL, dbName: config.MONGO_DB ?? name });
    lifecycle.onClose('mongo', () => mongo.close());
    const redis = await connectRedis(config.REDIS_URL, name);
    lifecycle.onClose('redis', () => redis.quit());
    const bus = new Bus({ url: config.AMQP_URL, service: name, logger, metrics, retryDelaysMs: config.BUS_RETRY_DELAYS_MS });
    await bus.connect();
    lifecycle.onClose('bus', () => bus.close());
    const verifier = new JwksVerifier({ source: opts.jwksSource ?? httpJwksSource(config.JWKS_URL) });
    // The key source may not be up yet (auth starting); verification refreshes on demand.
    await verifier.refresh().catch((err) => logger.warn({ err: (err as Error).message }, 'JWKS not loaded yet'));
    const authenticator = new TokenAuthenticator(verifier, redis);
    return {
      name,
      logger,
      metrics,
      mongo,
      redis,
      bus,
      verifier,
      authenticator,
      lifecycle,
      readiness: {
        database: () => pingMongo(mongo),
        redis: () => pingRedis(redis),
        broker: async () => {
          if (!bus.isConnected()) throw new Error('not connected');
        },
      },
    };
  } catch (err) {
    await lifecycle.stop(5_000);
    throw err;
  }
}

/** Listen, register the graceful close, and handle SIGTERM/SIGINT. */
export async function serveHttp(
  deps: Pick<ServiceDeps, 'name' | 'logger' | 'lifecycle'>,
  app: Express,
  port: number,
  host: string,
): Promise<RunningServer> {
  const server = await startHttpServer(app, port, host);
  deps.lifecycle.onClose('http', () => server.close(10_000));
  deps.lifecycle.handleSignals();
  deps.logger.info({ port: server.port }, `${deps.name} listening`);
  return server;
}

/**
 * Run a service's `main`: a failure before the logger exists (bad configuration, a
 * dependency that never opened) goes to stderr and ends the process with status 1.
 */
export function runMain(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
