// A records service built for one test suite: its own database, its own bus queues (a
// unique service name, so it never competes with a running records service), a
// throwaway token issuer, and a sink consumer that collects every records.* event.
import type { EventEnvelope } from '@praxis/contracts';
import { Bus, Metrics, TokenAuthenticator, connectMongo, connectRedis, makeEvent, type Redis } from '@praxis/platform';
import { TestIssuer, type TestTenant, deleteTestQueues, infra, randomIdForTests, testDbName, testLogger, unique, waitFor } from './testing';
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { type Records, buildRecords } from '../src/app';

export interface Harness {
  issuer: TestIssuer;
  records: Records;
  mongo: Connection;
  dbName: string;
  kek: { KEK: string; KEK_ID: string };
  events: EventEnvelope[];
  /** A publisher for events from other services (erasure requests, purges). */
  publish(event: Parameters<typeof makeEvent>[0]): Promise<EventEnvelope>;
  tenant(): TestTenant & { support: (scope: 'settings' | 'records') => string; service: string };
  waitForEvent(pred: (e: EventEnvelope) => boolean, what: string): Promise<EventEnvelope>;
  close(): Promise<void>;
}

export async function startHarness(opts: { relay?: boolean } = {}): Promise<Harness> {
  const issuer = new TestIssuer();
  const logger = testLogger('records');
  const dbName = testDbName('records');
  const mongo = await connectMongo({ url: infra.mongoUrl, dbName });
  const redis: Redis = await connectRedis(infra.redisUrl, 'records-test');
  const bus = new Bus({ url: infra.amqpUrl, service: unique('records-t'), logger, retryDelaysMs: [200] });
  await bus.connect();
  const sink = new Bus({ url: infra.amqpUrl, service: unique('records-sink'), logger });
  await sink.connect();
  const events: EventEnvelope[] = [];
  await sink.consume('sink', { bindings: ['records.#'], handler: async (e) => void events.push(e) });
  const kek = { KEK: randomBytes(32).toString('base64'), KEK_ID: 'test-kek-1' };
  const records = await buildRecords({
    logger,
    metrics: new Metrics('records'),
    mongo,
    bus,
    authenticator: new TokenAuthenticator(issuer.verifier(), redis),
    keks: kek,
    relayIntervalMs: 50,
  });
  if (opts.relay !== false) await records.start();

  return {
    issuer,
    records,
    mongo,
    dbName,
    kek,
    events,
    async publish(e) {
      const event = makeEvent(e);
      await sink.publish(event);
      return event;
    },
    tenant() {
      const t = issuer.tenant();
      return {
        ...t,
        support: (scope) => {
          const sub = randomIdForTests('sup');
          return issuer.sign({ tid: t.tenantId, role: 'support', scope, sub, act: { sub }, amr: ['pwd', 'otp'] });
        },
        service: issuer.sign({ tid: t.tenantId, role: 'service', sub: 'svc_consent', amr: ['svc'] }),
      };
    },
    waitForEvent(pred, what) {
      return waitFor(() => events.find(pred), { what, timeoutMs: 10_000 });
    },
    async close() {
      await records.stop();
      for (const name of ['erasure-requests', 'tenant-purges']) await deleteTestQueues(bus.queuesOf(name));
      await deleteTestQueues(sink.queuesOf('sink'));
      await bus.close();
      await sink.close();
      await redis.quit();
      await mongo.dropDatabase();
      await mongo.close();
    },
  };
}
