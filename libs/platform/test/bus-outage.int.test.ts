// A handler that fails because the database is unreachable (FerretDB down) is retried with
// back-off but spends none of the event's retry budget, so an outage never parks an event
// (a chaos run once lost an audit event that way). Real RabbitMQ (the shared broker, this
// suite's own queues) and a FerretDB of this suite's own (port 27120–27129) that it stops
// and starts again; the shared FerretDB is never touched.
import {
  deleteTestQueues,
  infra,
  probeEvent,
  ROOT,
  startFerretDb,
  testLogger,
  unique,
  waitFor,
  type FerretDbServer,
} from '@praxis/testing';
import amqp from 'amqplib';
import type { Connection } from 'mongoose';
import path from 'node:path';
import { rm } from 'node:fs/promises';
import { Bus, connectMongo, isDatabaseUnreachable } from '../src';

const PORT = 27120 + (process.pid % 10);
const dataDir = path.join(ROOT, '.data/tmp', unique('ferretdb-outage'));

async function queueDepth(queue: string): Promise<number> {
  const conn = await amqp.connect(infra.amqpUrl);
  try {
    const ch = await conn.createChannel();
    return (await ch.checkQueue(queue)).messageCount;
  } finally {
    await conn.close();
  }
}

describe('bus during a database outage (real RabbitMQ, own FerretDB)', () => {
  const run = unique('outage');
  const logger = testLogger();
  let fdb: FerretDbServer;
  let mongo: Connection;
  let bus: Bus;
  const consumers: string[] = [];

  beforeAll(async () => {
    fdb = await startFerretDb('patched', { port: PORT, dataDir });
    mongo = await connectMongo({ url: fdb.url, dbName: 'outage', serverSelectionTimeoutMs: 500 });
    bus = new Bus({ url: infra.amqpUrl, service: run, logger, retryDelaysMs: [100, 300] });
    await bus.connect();
  });

  afterAll(async () => {
    for (const c of consumers) await deleteTestQueues(bus.queuesOf(c));
    await bus.close();
    await mongo.close().catch(() => undefined);
    await fdb.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps retrying through a FerretDB outage without parking, and stores the event once it is back', async () => {
    const calls: { attempt: number; error?: string }[] = [];
    consumers.push('store');
    await bus.consume('store', {
      bindings: ['platform.probe.sent'],
      handler: async (e, meta) => {
        if (e.tenantId !== run) return;
        try {
          await mongo.collection('seen').insertOne({ _id: e.id as never, seq: e.data.seq });
          calls.push({ attempt: meta.attempt });
        } catch (err) {
          calls.push({ attempt: meta.attempt, error: (err as Error).name });
          throw err;
        }
      },
    });

    await fdb.stop();
    const t0 = Date.now();
    const event = probeEvent(run, 1);
    await bus.publish(event);
    // Far past the budget (1 delivery + 2 retries): without the outage rule it is parked by now.
    await waitFor(() => calls.filter((c) => c.error).length >= 8 || undefined, { what: '8 failed deliveries', timeoutMs: 90_000 });
    const failed = calls.filter((c) => c.error);
    const parkedDuringOutage = await queueDepth(bus.queuesOf('store').parked);
    console.log(
      `outage: ${failed.length} deliveries failed in ${Date.now() - t0} ms (${[...new Set(failed.map((c) => c.error))].join(', ')}); ` +
        `attempt numbers seen ${[...new Set(failed.map((c) => c.attempt))].join(',')}; parked ${parkedDuringOutage}`,
    );
    expect(failed.every((c) => isDatabaseUnreachable(Object.assign(new Error(), { name: c.error })))).toBe(true);
    expect(parkedDuringOutage).toBe(0);
    expect(new Set(failed.map((c) => c.attempt))).toEqual(new Set([1]));

    fdb = await startFerretDb('patched', { port: PORT, dataDir });
    const t1 = Date.now();
    const stored = await waitFor(async () => (await mongo.collection('seen').findOne({ _id: event.id as never })) ?? undefined, {
      what: 'the event stored after the outage',
      timeoutMs: 60_000,
    });
    console.log(`FerretDB back: event stored ${Date.now() - t1} ms later, after ${calls.length} deliveries in all`);
    expect(stored.seq).toBe(1);
    expect(await queueDepth(bus.queuesOf('store').parked)).toBe(0);
  });

  it('still parks an event whose handler fails for any other reason once its retries are spent', async () => {
    let failures = 0;
    consumers.push('broken');
    await bus.consume('broken', {
      bindings: ['platform.probe.sent'],
      handler: async (e) => {
        if (e.tenantId !== run) return;
        failures++;
        throw new Error('this handler always fails');
      },
    });
    await bus.publish(probeEvent(run, 2));
    const parked = await waitFor(async () => (await queueDepth(bus.queuesOf('broken').parked)) || undefined, {
      what: 'the failing event parked',
      timeoutMs: 30_000,
    });
    console.log(`ordinary failure: parked after ${failures} deliveries`);
    expect(parked).toBe(1);
    expect(failures).toBe(3);
  });
});
