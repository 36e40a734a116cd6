// What every service's test harness (and benchmark) builds a service with: the parts a
// `build<Service>(deps)` takes (libs/platform's ServiceParts) over the suite's own
// connections, tokens signed by a TestIssuer and a fresh KEK; and a sink that keeps every
// event the service publishes, as the suite sees them on the bus.
import type { EventEnvelope } from '@praxis/contracts';
import {
  Bus,
  type KekConfig,
  type Logger,
  Metrics,
  type Redis,
  type ServiceParts,
  TokenAuthenticator,
  connectMongo,
  connectRedis,
  makeEvent,
} from '@praxis/platform';
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { TestIssuer, deleteTestQueues, infra, testDbName, testLogger, unique, waitFor } from './index';

/** A KEK of the suite's own, as a service gets it from its configuration. */
export function testKek(id = 'test-kek-1'): KekConfig {
  return { KEK: randomBytes(32).toString('base64'), KEK_ID: id };
}

/** The ServiceParts for `build<Service>`: the suite's connections, `issuer`'s tokens, `keks`. */
export function testServiceParts(
  service: string,
  c: { logger: Logger; mongo: Connection; bus: Bus; redis: Redis; issuer: TestIssuer },
  keks: KekConfig = testKek(),
): ServiceParts {
  return {
    logger: c.logger,
    metrics: new Metrics(service),
    mongo: c.mongo,
    bus: c.bus,
    authenticator: new TokenAuthenticator(c.issuer.verifier(), c.redis),
    keks,
  };
}

/** A suite's view of the bus: what the service published, and a way to speak to it. */
export interface EventSink {
  bus: Bus;
  /** Every event the service published, in order. */
  events: EventEnvelope[];
  /** Publish another service's event to the service (an erasure request, a purge, a new patient). */
  publish(event: Parameters<typeof makeEvent>[0]): Promise<EventEnvelope>;
  /** The first published event that matches, once it has arrived. */
  waitForEvent(pred: (e: EventEnvelope) => boolean, what: string, timeoutMs?: number): Promise<EventEnvelope>;
}

/** What every service's test harness gives a suite besides the service itself. */
export interface SuiteHarness extends Omit<EventSink, 'bus'> {
  issuer: TestIssuer;
  mongo: Connection;
  dbName: string;
  close(): Promise<void>;
}

/**
 * A consumer of everything `<service>.#` on the bus (its own queue, a unique name), keeping
 * the events in order; `waitForEvent` waits `timeoutMs` unless told otherwise.
 */
export async function eventSink(service: string, logger: Logger, opts: { url?: string; timeoutMs?: number } = {}): Promise<EventSink> {
  const bus = new Bus({ url: opts.url ?? infra.amqpUrl, service: unique(`${service}-sink`), logger });
  await bus.connect();
  const events: EventEnvelope[] = [];
  await bus.consume('sink', { bindings: [`${service}.#`], handler: async (e) => void events.push(e) });
  return {
    bus,
    events,
    async publish(e) {
      const event = makeEvent(e);
      await bus.publish(event);
      return event;
    },
    waitForEvent(pred, what, timeoutMs = opts.timeoutMs ?? 15_000) {
      return waitFor(() => events.find(pred), { what, timeoutMs });
    },
  };
}

/** A suite's own connections for one service: what every harness opens first and closes last. */
export interface SuiteConnections {
  issuer: TestIssuer;
  logger: Logger;
  dbName: string;
  mongo: Connection;
  redis: Redis;
  /** The service's bus (a unique service name, so its queues are the suite's own). */
  bus: Bus;
  sink: EventSink;
  /** The harness's share of SuiteHarness: issuer, database, events, publish, waitForEvent. */
  view: Omit<SuiteHarness, 'close'>;
  /** The ServiceParts over these connections. */
  parts(keks?: KekConfig): ServiceParts;
  /** Delete the sink's queue, close both buses and Redis, drop and close the database. */
  close(): Promise<void>;
}

export async function openSuite(
  service: string,
  opts: { amqpUrl?: string; retryDelaysMs?: number[]; sinkTimeoutMs?: number } = {},
): Promise<SuiteConnections> {
  const issuer = new TestIssuer();
  const logger = testLogger(service);
  const dbName = testDbName(service);
  const mongo = await connectMongo({ url: infra.mongoUrl, dbName });
  const redis = await connectRedis(infra.redisUrl, `${service}-test`);
  const url = opts.amqpUrl ?? infra.amqpUrl;
  const bus = new Bus({
    url,
    service: unique(`${service}-t`),
    logger,
    ...(opts.retryDelaysMs ? { retryDelaysMs: opts.retryDelaysMs } : {}),
  });
  await bus.connect();
  const sink = await eventSink(service, logger, { url, ...(opts.sinkTimeoutMs ? { timeoutMs: opts.sinkTimeoutMs } : {}) });
  return {
    issuer,
    logger,
    dbName,
    mongo,
    redis,
    bus,
    sink,
    view: { issuer, mongo, dbName, events: sink.events, publish: sink.publish, waitForEvent: sink.waitForEvent },
    parts: (keks) => testServiceParts(service, { logger, mongo, bus, redis, issuer }, keks),
    async close() {
      await deleteTestQueues(sink.bus.queuesOf('sink'));
      await bus.close();
      await sink.bus.close();
      await redis.quit();
      await mongo.dropDatabase();
      await mongo.close();
    },
  };
}
