// Every query of the platform's own stores searches an index (issue 10,
// docs/decisions/0004): the outbox relay (documents' `_outbox` and the standalone access-event
// outbox) and consumer idempotency run against a private patched FerretDB, every distinct
// query shape they sent is recorded, and SQLite's plan for each must be an index search.
import type { EventEnvelope } from '@praxis/contracts';
import {
  expectIndexedQueries,
  expectIndexedQuery,
  recordQueries,
  onPrivateFerretDb,
  infra,
  testDbName,
  testLogger,
  unique,
  waitFor,
} from '@praxis/testing';
import mongoose from 'mongoose';
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

describe('platform stores: every query shape searches an index', () => {
  const run = unique('pidx');
  const logger = testLogger();
  const stores = onPrivateFerretDb(async () => {
    const mongo = await connectMongo({ url: infra.mongoUrl, dbName: testDbName('platform') });
    const bus = new Bus({ url: infra.amqpUrl, service: run, logger });
    await bus.connect();
    return {
      mongo,
      bus,
      async close() {
        await bus.close();
        await mongo.close();
      },
    };
  });

  it('outbox relay and idempotency store', async () => {
    const { mongo, bus } = stores();
    const rec = recordQueries(mongo);
    const Widget = mongo.model(
      'Widget',
      new mongoose.Schema({ _id: String, tenantId: String, n: Number, ...outboxSchemaFields }, { strict: 'throw' }),
    );
    const event = (seq: number): EventEnvelope =>
      makeEvent({ type: 'platform.probe.sent', tenantId: run, actor: { kind: 'system', id: 'test' }, data: { seq, run } });
    const relay = new OutboxRelay({ bus, logger, conn: mongo, collections: [Widget.collection], intervalMs: 50 });
    await relay.init();
    relay.start();
    const id = unique('w');
    await Widget.create(withOutbox({ _id: id, tenantId: run, n: 1 }, [event(1)]));
    await Widget.collection.updateOne({ _id: id as never }, outboxUpdate([event(2)]) as never);
    await recordEvents(mongo, [event(3)]);
    relay.nudge();
    await waitFor(
      async () =>
        (await Widget.collection.countDocuments({ _outboxPending: true })) === 0 &&
        (await mongo.collection('outbox').countDocuments({})) === 0,
      { what: 'outbox drained' },
    );
    await relay.stop();

    const store = new MongoIdempotencyStore(mongo);
    await store.init();
    expect(await store.seen('consumer-a', 'evt-1')).toBe(false);
    await store.remember('consumer-a', 'evt-1');
    expect(await store.seen('consumer-a', 'evt-1')).toBe(true);
    rec.stop();

    const rows = await expectIndexedQueries(mongo.db!, rec.queries(), [
      // The test's own waits, not platform code: counting the standalone outbox whole.
      { collection: 'outbox', shape: '{}', why: 'this test waits for the standalone outbox to be empty' },
    ]);
    expect(rows.map((r) => r.collection)).toEqual(expect.arrayContaining(['outbox', 'widgets', 'processed_events', 'outbox_relayed']));
    // The clean-up's statements travel inside bulkWrite, which recordQueries does not see:
    // its compare-and-set, the read after a miss and the $pullAll fallback, with real values.
    const read = [event(4), event(5)];
    const docIds = [unique('w'), unique('w')];
    expect(
      await expectIndexedQuery(mongo.db!, 'widgets', {
        _id: { $in: docIds },
        '_outbox.0.id': { $in: read.map((e) => e.id) },
        '_outbox.1': { $exists: false },
      }),
    ).toMatch(/_id_$/);
    expect(await expectIndexedQuery(mongo.db!, 'widgets', { _id: { $in: docIds }, _outboxPending: true })).toBeTruthy();
    expect(await expectIndexedQuery(mongo.db!, 'widgets', { _id: docIds[0] })).toMatch(/_id_$/);
    // A burst's recorded chunks are forgotten by _id once cleaned up (a single-chunk pass records none).
    expect(await expectIndexedQuery(mongo.db!, 'outbox_relayed', { _id: { $in: [read[0]!.id] } })).toMatch(/_id_$/);
  }, 120_000);
});
