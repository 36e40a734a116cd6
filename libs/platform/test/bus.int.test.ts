import type { EventEnvelope } from '@praxis/contracts';
import { deleteTestQueues, infra, probeEvent, testDbName, testLogger, unique, waitFor } from '@praxis/testing';
import type { Connection } from 'mongoose';
import { Bus, MongoIdempotencyStore, connectMongo, currentContext, runWithContext } from '../src';

describe('event bus (real RabbitMQ)', () => {
  const run = unique('bus');
  const logger = testLogger();
  let bus: Bus;
  let mongo: Connection;
  const consumers: string[] = [];

  beforeAll(async () => {
    bus = new Bus({ url: infra.amqpUrl, service: run, logger, retryDelaysMs: [100, 300] });
    await bus.connect();
    mongo = await connectMongo({ url: infra.mongoUrl, dbName: testDbName('bus') });
  });

  afterAll(async () => {
    for (const c of consumers) await deleteTestQueues(bus.queuesOf(c));
    await bus.close();
    await mongo.dropDatabase();
    await mongo.close();
  });

  function register(name: string, handler: (e: EventEnvelope) => Promise<void>, idempotency?: MongoIdempotencyStore) {
    consumers.push(name);
    return bus.consume(name, {
      bindings: ['platform.probe.sent'],
      // Other suites publish probes too; this run's events carry its own tenant id.
      handler: async (e) => (e.tenantId === run ? handler(e) : undefined),
      ...(idempotency ? { idempotency } : {}),
    });
  }

  it('delivers confirmed events to a consumer', async () => {
    const got: number[] = [];
    await register('deliver', async (e) => {
      got.push(e.data.seq as number);
    });
    for (let i = 0; i < 20; i++) await bus.publish(probeEvent(run, i));
    await waitFor(() => got.length >= 20, { what: '20 deliveries' });
    expect([...got].sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
  });

  it('retries a failing handler with back-off, then parks the message, and can replay it', async () => {
    const attempts: number[] = [];
    let fail = true;
    await register('flaky', async () => {
      attempts.push(Date.now());
      if (fail) throw new Error('downstream unavailable');
    });
    await bus.publish(probeEvent(run, 1));
    const { parked } = bus.queuesOf('flaky');
    await waitFor(async () => (await bus.queueDepth(parked)) === 1, { what: 'parked message' });
    // First try plus one per retry delay (100 ms, 300 ms), each after its delay.
    expect(attempts).toHaveLength(3);
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(90);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(280);

    fail = false;
    expect(await bus.replayParked('flaky')).toBe(1);
    await waitFor(() => attempts.length === 4, { what: 'replayed delivery' });
    expect(await bus.queueDepth(parked)).toBe(0);
  });

  it('parks a message that does not parse, without calling the handler', async () => {
    let calls = 0;
    await register('strict', async () => {
      calls++;
    });
    await bus.publish({ ...probeEvent(run, 1), data: { seq: 1, run, name: 'Ada' } } as never).catch(() => undefined);
    // publish() does not validate; a producer must. Send a malformed one straight to the queue.
    const amqp = await import('amqplib');
    const conn = await amqp.connect(infra.amqpUrl);
    const ch = await conn.createConfirmChannel();
    ch.sendToQueue(bus.queuesOf('strict').queue, Buffer.from('{"not":"an event"}'), { persistent: true });
    await ch.waitForConfirms();
    await conn.close();
    await waitFor(async () => (await bus.queueDepth(bus.queuesOf('strict').parked)) === 2, { what: 'two parked' });
    expect(calls).toBe(0);
  });

  it('processes a duplicate delivery once', async () => {
    const store = new MongoIdempotencyStore(mongo);
    await store.init();
    let processed = 0;
    await register(
      'dedupe',
      async () => {
        processed++;
      },
      store,
    );
    const event = probeEvent(run, 7);
    await bus.publish(event);
    await bus.publish(event);
    await bus.publish(probeEvent(run, 8));
    await waitFor(() => processed >= 2, { what: 'two processed' });
    await new Promise((r) => setTimeout(r, 500));
    expect(processed).toBe(2);
  });

  it('carries W3C trace context in message headers', async () => {
    const seen: string[] = [];

    await register('trace', async () => {
      seen.push(currentContext()!.traceparent);
    });
    const traceId = 'ab'.repeat(16);
    await runWithContext({ requestId: 'r1', traceparent: `00-${traceId}-${'cd'.repeat(8)}-01` }, () => bus.publish(probeEvent(run, 1)));
    await waitFor(() => seen.length === 1);
    expect(seen[0]).toContain(traceId);
  });
});
