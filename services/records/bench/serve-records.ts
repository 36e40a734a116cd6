// A records service for benchmarks (records.bench.ts, test/bench/background-load.ts): its
// own database and bus queues on the shared FerretDB, RabbitMQ and Redis, a throwaway
// token issuer, served over HTTP on a free loopback port, the relay polling as the service
// does. No event sink: a benchmark measures the service, not a consumer beside it.
import { Bus, connectMongo, connectRedis, startHttpServer } from '@praxis/platform';
import { TestIssuer, type TestTenant, deleteTestQueues, infra, testKek, testLogger, testServiceParts, unique } from '@praxis/testing';
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { buildRecords } from '../src/app';

export interface ServedRecords {
  /** The service's base URL, `http://127.0.0.1:<port>`. */
  url: string;
  tenant: TestTenant;
  mongo: Connection;
  /** Stop the service, delete its queues, drop and close its database. */
  close(): Promise<void>;
}

export async function serveRecords(name: string): Promise<ServedRecords> {
  const logger = testLogger(name);
  const mongo = await connectMongo({ url: infra.mongoUrl, dbName: `bench_${name.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}` });
  const redis = await connectRedis(infra.redisUrl, name);
  const bus = new Bus({ url: infra.amqpUrl, service: unique(name), logger });
  await bus.connect();
  const issuer = new TestIssuer();
  const records = await buildRecords(testServiceParts('records', { logger, mongo, bus, redis, issuer }, testKek(`${name}-kek`)));
  await records.start();
  const server = await startHttpServer(records.app, 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${server.port}`,
    tenant: issuer.tenant(),
    mongo,
    async close() {
      await server.close(2000);
      await records.stop();
      for (const queue of ['erasure-requests', 'tenant-purges']) await deleteTestQueues(bus.queuesOf(queue));
      await bus.close();
      await redis.quit();
      await mongo.dropDatabase();
      await mongo.close();
    },
  };
}
