import type { EventEnvelope } from '@praxis/contracts';
import { deleteTestQueues, infra, testDbName, testLogger, unique, waitFor } from '@praxis/testing';
import mongoose, { type Connection } from 'mongoose';
import {
  Bus,
  MongoIdempotencyStore,
  OutboxRelay,
  connectMongo,
  makeEvent,
  outboxSchemaFields,
  outboxUpdate,
  recordEvents,
  withOutbox,
} from '../src';

const widgetModel = (conn: Connection) =>
  conn.model('Widget', new mongoose.Schema({ _id: String, tenantId: String, n: Number, ...outboxSchemaFields }, { strict: 'throw' }));

describe('outbox relay (real FerretDB and RabbitMQ)', () => {
  const run = unique('outbox');
  const logger = testLogger();
  let bus: Bus;
  let mongo: Connection;
  let Widget: ReturnType<typeof widgetModel>;
  const received: EventEnvelope[] = [];
  let processed = 0;

  beforeAll(async () => {
    bus = new Bus({ url: infra.amqpUrl, service: run, logger, retryDelaysMs: [100] });
    await bus.connect();
    mongo = await connectMongo({ url: infra.mongoUrl, dbName: testDbName('outbox') });
    Widget = widgetModel(mongo);
    const store = new MongoIdempotencyStore(mongo);
    await store.init();
    await bus.consume('sink', {
      bindings: ['platform.probe.sent'],
      idempotency: store,
      handler: async (e) => {
        if (e.tenantId !== run) return;
        received.push(e);
        processed++;
      },
    });
  });

  afterAll(async () => {
    await deleteTestQueues(bus.queuesOf('sink'));
    await bus.close();
    await mongo.dropDatabase();
    await mongo.close();
  });

  const event = (seq: number) =>
    makeEvent({ type: 'platform.probe.sent', tenantId: run, actor: { kind: 'system', id: 'test' }, data: { seq, run } });
  const relay = (extra: Partial<ConstructorParameters<typeof OutboxRelay>[0]> = {}) =>
    new OutboxRelay({ bus, logger, conn: mongo, collections: [Widget.collection], intervalMs: 50, ...extra });

  it('publishes an event written together with its document, and clears it', async () => {
    const r = relay();
    await r.init();
    r.start();
    const e = event(1);
    await Widget.create(withOutbox({ _id: unique('w'), tenantId: run, n: 1 }, [e]));
    await waitFor(() => received.some((x) => x.id === e.id), { what: 'relayed event' });
    await waitFor(async () => (await Widget.collection.countDocuments({ _outboxPending: true })) === 0, { what: 'outbox cleared' });
    await r.stop();
  });

  it('publishes events written while the relay was down once it starts', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const e = event(10 + i);
      ids.push(e.id);
      const id = unique('w');
      await Widget.create({ _id: id, tenantId: run, n: 0 });
      // An update and its event in one atomic single-document write.
      await Widget.collection.updateOne({ _id: id as never }, { $inc: { n: 1 }, ...outboxUpdate([e]) } as never);
    }
    const access = event(99);
    await recordEvents(mongo, [access]);
    ids.push(access.id);
    await new Promise((r) => setTimeout(r, 300));
    expect(received.filter((x) => ids.includes(x.id))).toHaveLength(0);
    const r = relay();
    r.start();
    await waitFor(() => ids.every((id) => received.some((x) => x.id === id)), { what: 'all six relayed' });
    expect(await mongo.collection('outbox').countDocuments({})).toBe(0);
    await r.stop();
  });

  it('publishes again after dying between publish and mark, and the consumer processes it once', async () => {
    const e = event(42);
    await Widget.create(withOutbox({ _id: unique('w'), tenantId: run, n: 1 }, [e]));
    const before = processed;
    const dying = relay({
      afterPublish: () => {
        throw new Error('relay killed after publish');
      },
    });
    await expect(dying.drainOnce()).rejects.toThrow('relay killed');
    expect(await Widget.collection.countDocuments({ _outboxPending: true })).toBe(1);
    await dying.stop(); // gives up its lease, as a replica shutting down does
    const healthy = relay();
    await healthy.drainOnce();
    expect(await Widget.collection.countDocuments({ _outboxPending: true })).toBe(0);
    await waitFor(() => processed === before + 1, { what: 'processed once' });
    await new Promise((r) => setTimeout(r, 500));
    expect(processed).toBe(before + 1);
    expect(received.filter((x) => x.id === e.id)).toHaveLength(1);
  });
});
