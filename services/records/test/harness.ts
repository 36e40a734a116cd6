// A records service built for one test suite: its own database, its own bus queues (a
// unique service name, so it never competes with a running records service), a
// throwaway token issuer, and a sink consumer that collects every records.* event.
import { Bus, connectMongo, connectRedis, type Redis } from '@praxis/platform';
import {
  TestIssuer,
  type SuiteHarness,
  type TestTenant,
  deleteTestQueues,
  eventSink,
  infra,
  randomIdForTests,
  testDbName,
  testKek,
  testLogger,
  testServiceParts,
  unique,
} from './testing';
import { type Records, buildRecords } from '../src/app';

export interface Harness extends SuiteHarness {
  records: Records;
  kek: { KEK: string; KEK_ID: string };
  tenant(): TestTenant & { support: (scope: 'settings' | 'records') => string; service: string };
}

export async function startHarness(opts: { relay?: boolean } = {}): Promise<Harness> {
  const issuer = new TestIssuer();
  const logger = testLogger('records');
  const dbName = testDbName('records');
  const mongo = await connectMongo({ url: infra.mongoUrl, dbName });
  const redis: Redis = await connectRedis(infra.redisUrl, 'records-test');
  const bus = new Bus({ url: infra.amqpUrl, service: unique('records-t'), logger, retryDelaysMs: [200] });
  await bus.connect();
  const sink = await eventSink('records', logger, { timeoutMs: 10_000 });
  const kek = testKek();
  const records = await buildRecords({ ...testServiceParts('records', { logger, mongo, bus, redis, issuer }, kek), relayIntervalMs: 50 });
  if (opts.relay !== false) await records.start();

  return {
    issuer,
    records,
    mongo,
    dbName,
    kek,
    events: sink.events,
    publish: sink.publish,
    waitForEvent: sink.waitForEvent,
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
    async close() {
      await records.stop();
      for (const name of ['erasure-requests', 'tenant-purges']) await deleteTestQueues(bus.queuesOf(name));
      await deleteTestQueues(sink.bus.queuesOf('sink'));
      await bus.close();
      await sink.bus.close();
      await redis.quit();
      await mongo.dropDatabase();
      await mongo.close();
    },
  };
}
