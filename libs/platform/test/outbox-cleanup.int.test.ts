// The relay's clean-up as FerretDB (with patch 0010) and MongoDB execute it: a chunk's
// compare-and-set goes out as statements of 25 documents in one command, documents that
// gained an event after the read keep it, and a multi-document update's counts are those
// MongoDB reports however the server batches its commits (docs/decisions/0005).
import type { EventEnvelope } from '@praxis/contracts';
import { infra, testDbName, testLogger, unique } from '@praxis/testing';
import type { Connection } from 'mongoose';
import { Bus, OUTBOX, OUTBOX_PENDING, OutboxRelay, connectMongo, outboxUpdate } from '../src';
import { createVhost, deleteVhost, probe, writePending } from './outbox-fixtures';

const log = (...a: unknown[]) => console.log('[outbox clean-up]', ...a);

describe('outbox clean-up in bulk (real FerretDB and RabbitMQ)', () => {
  const run = unique('cleanup');
  const logger = testLogger();
  let bus: Bus;
  let mongo: Connection;

  beforeAll(async () => {
    // A virtual host of the suite's own: 1,200 probe events reach no one else's queue.
    bus = new Bus({ url: await createVhost(run), service: run, logger });
    await bus.connect();
    mongo = await connectMongo({ url: infra.mongoUrl, dbName: testDbName('outboxcleanup') });
  });

  afterAll(async () => {
    await bus.close();
    await deleteVhost(run);
    await mongo.dropDatabase();
    await mongo.close();
  });

  it('empties every relayed document in statements of 25, and keeps events appended after the read', async () => {
    const col = mongo.collection('widgets');
    const ids = await writePending(col, run, 1_200);
    const published: string[] = [];
    const appended: EventEnvelope[] = [];
    const commands: string[] = [];
    const count = (op: { collectionName: string; method: string }) => {
      if (op.collectionName === 'widgets') commands.push(op.method);
    };
    mongo.on('operation-start', count);
    // Every 40th document gains an event between its event's confirm and the clean-up.
    const relay = new OutboxRelay({
      bus: { publish: (e) => (published.push(e.id), bus.publish(e)) },
      logger,
      conn: mongo,
      collections: [col],
      afterPublish: async (e) => {
        const seq = (e.data as { seq: number }).seq;
        if (e.tenantId !== run || seq % 40 !== 0) return;
        const extra = probe(`${run}-late`, seq);
        appended.push(extra);
        await col.updateOne({ _id: `${run}-${seq}` } as never, outboxUpdate([extra]) as never);
      },
    });
    await relay.init();
    const t0 = performance.now();
    const first = await relay.drainOnce();
    const firstMs = performance.now() - t0;
    mongo.off('operation-start', count);

    expect(first).toBe(1_200);
    expect(new Set(published)).toEqual(new Set(ids));
    expect(appended).toHaveLength(30);
    const still = await col.find({ [OUTBOX_PENDING]: true }).toArray();
    expect(still.map((d) => d._id).sort()).toEqual(appended.map((e) => `${run}-${(e.data as { seq: number }).seq}`).sort());
    for (const d of still) expect((d[OUTBOX] as EventEnvelope[]).map((e) => e.id)).toHaveLength(1);
    expect(still.flatMap((d) => (d[OUTBOX] as EventEnvelope[]).map((e) => e.id)).sort()).toEqual(appended.map((e) => e.id).sort());
    expect(await col.countDocuments({ [OUTBOX]: { $size: 0 }, [OUTBOX_PENDING]: false })).toBe(1_200 - 30);
    // One bulk command per chunk (3 chunks of 500 or fewer), plus the $pullAll for the chunks
    // whose compare-and-set missed the 30 changed documents: never a command per document.
    const bulk = commands.filter((m) => m === 'bulkWrite').length;
    expect(bulk).toBeGreaterThanOrEqual(3);
    expect(bulk).toBeLessThanOrEqual(6);

    const second = await relay.drainOnce();
    await relay.stop();
    expect(second).toBe(30);
    expect(published).toHaveLength(1_230);
    expect(new Set(published).size).toBe(1_230);
    expect(await col.countDocuments({ [OUTBOX_PENDING]: true })).toBe(0);
    log(
      `1,200 documents relayed in ${Math.round(firstMs)} ms (${Math.round((1_200 / firstMs) * 1000)}/s, publish and clean-up) with ${bulk} bulk clean-up commands; ` +
        `30 events appended after the read kept and published by the next pass; 1,230 published, each once`,
    );
  }, 300_000); // a FerretDB without patch 0010 commits each document alone: minutes on a busy machine

  it('reports MongoDB counts for a multi-document update larger than one commit batch', async () => {
    const col = mongo.collection('counts');
    const n = 2_300; // more than patch 0010's batches of 1,000
    for (let i = 0; i < n; i += 100)
      await col.insertMany(
        Array.from({ length: Math.min(100, n - i) }, (_, j) => ({ _id: `c-${i + j}`, n: (i + j) % 2 ? 1 : 0 })) as never[],
        { ordered: true },
      );
    const t0 = performance.now();
    const res = await col.updateMany({ _id: { $in: Array.from({ length: n }, (_, i) => `c-${i}`) } } as never, { $set: { n: 1 } });
    const ms = performance.now() - t0;
    expect(res.matchedCount).toBe(n);
    expect(res.modifiedCount).toBe(n / 2);
    expect(await col.countDocuments({ n: 1 })).toBe(n);
    log(`updateMany of ${n} documents: matched ${res.matchedCount}, modified ${res.modifiedCount}, ${Math.round(ms)} ms`);
  }, 180_000);
});
