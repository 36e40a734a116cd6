// Opening and closing what every service depends on, in order: logger, metrics, MongoDB,
// Redis, the bus, token verification. main.ts calls openServiceDeps, builds its app with
// the shared parts (servicePartsOf), then serveService; everything closes in reverse on
// SIGTERM. A service's app.ts builds its store (openServiceStore) and its express app
// (serviceHttpApp) the same way (docs/new-service.md).
import type { Collection, Connection } from 'mongoose';
import { z } from 'zod';
import { Bus } from './bus';
import { configFields } from './config';
import type { ApiRouter } from './http/api-router';
import { type HttpAppOptions, createHttpApp } from './http/app';
import { type Authenticator, TokenAuthenticator } from './http/auth';
import { type RunningServer, startHttpServer } from './http/server';
import type { Express } from 'express';
import { MongoIdempotencyStore } from './idempotency';
import type { KekConfig } from './kek';
import { type JwksSource, JwksVerifier, httpJwksSource } from './jwt';
import { Lifecycle } from './lifecycle';
import { type Logger, createLogger } from './logger';
import { Metrics } from './metrics';
import { connectMongo, pingMongo } from './mongo';
import { OutboxRelay } from './outbox';
import { type Redis, connectRedis, pingRedis } from './redis';

/** Environment every service reads; a service's config.ts extends it. */
export const baseServiceConfig = z.object({
  PORT: configFields.port(8080),
  HOST: z.string().default('127.0.0.1'),
  MONGO_URL: configFields.mongoUrl,
  MONGO_DB: configFields.mongoDb,
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
 * What a service's build function (`build<Service>(deps)`) takes besides its own settings:
 * the connections openServiceDeps opened and the configuration every service reads. main.ts
 * passes `servicePartsOf(deps, config)`; tests and benchmarks pass their own.
 */
export interface ServiceParts {
  logger: Logger;
  metrics: Metrics;
  mongo: Connection;
  bus: Bus;
  authenticator: Authenticator;
  /** KEK, KEK_ID, KEK_PREVIOUS: seal the service's data keys. */
  keks: KekConfig;
  readiness?: Record<string, () => Promise<unknown>>;
  /** Outbox polling interval (tests shorten it). */
  relayIntervalMs?: number;
  /** TRUSTED_PROXIES and REQUEST_TIMEOUT_MS from the config. */
  http?: Pick<HttpAppOptions, 'trustedProxies' | 'requestTimeoutMs'>;
}

export function servicePartsOf(deps: ServiceDeps, config: BaseServiceConfig & KekConfig): ServiceParts {
  return {
    logger: deps.logger,
    metrics: deps.metrics,
    mongo: deps.mongo,
    bus: deps.bus,
    authenticator: deps.authenticator,
    keks: config,
    readiness: deps.readiness,
    http: { trustedProxies: config.TRUSTED_PROXIES, requestTimeoutMs: config.REQUEST_TIMEOUT_MS },
  };
}

/**
 * A service's store, ready before it serves: the outbox relay over the collections whose
 * documents carry events (the standalone outbox always included), the indexes of every
 * model on the connection (unique ones matter for correctness), the relay's and the
 * consumers' idempotency store's own. Not started: `start()` starts the relay.
 */
export async function openServiceStore(
  parts: Pick<ServiceParts, 'logger' | 'metrics' | 'mongo' | 'bus' | 'relayIntervalMs'>,
  collections: Collection[],
): Promise<{ relay: OutboxRelay; idempotency: MongoIdempotencyStore }> {
  const relay = new OutboxRelay({
    bus: parts.bus,
    logger: parts.logger,
    metrics: parts.metrics,
    conn: parts.mongo,
    collections,
    intervalMs: parts.relayIntervalMs ?? 250,
  });
  const idempotency = new MongoIdempotencyStore(parts.mongo);
  for (const model of Object.values(parts.mongo.models)) await model.createIndexes();
  await relay.init();
  await idempotency.init();
  return { relay, idempotency };
}

/** A service's express app: the platform's middleware and health routes, then its API routes. */
export function serviceHttpApp(
  service: string,
  parts: Pick<ServiceParts, 'logger' | 'metrics' | 'readiness' | 'http'>,
  routers: ApiRouter[],
  more: Pick<HttpAppOptions, 'readiness' | 'configure'> = {},
): Express {
  return createHttpApp({
    ...parts.http,
    service,
    logger: parts.logger,
    metrics: parts.metrics,
    readiness: { ...parts.readiness, ...more.readiness },
    routers,
    ...(more.configure ? { configure: more.configure } : {}),
  });
}

/** What a service's build function returns (plus its own parts, for tests and commands). */
export interface BuiltService {
  app: Express;
  relay: OutboxRelay;
  /** Start the background work (the outbox relay, the bus consumers) once the service serves. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * main.ts's last steps: listen, then start the service's background work (relay,
 * consumers). Its `stop()` is registered after the connections, so it runs before they close.
 */
export async function serveService(
  deps: Pick<ServiceDeps, 'name' | 'logger' | 'lifecycle'>,
  config: Pick<BaseServiceConfig, 'PORT' | 'HOST'>,
  service: Pick<BuiltService, 'app' | 'start' | 'stop'>,
): Promise<void> {
  deps.lifecycle.onClose(deps.name, () => service.stop());
  await serveHttp(deps, service.app, config.PORT, config.HOST);
  await service.start();
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
