// The relay's clean-up as FerretDB (with patch 0010) and MongoDB execute it: a chunk's
// compare-and-set goes out as one statement per array length in one command, documents that
// gained an event after the read keep it (also after another replica removed some of theirs),
// a multi-document update's counts are those MongoDB reports however the server batches
// its commits, and a burst reaches the bus before its clean-ups are written, with what a
// dead replica published and did not clean up never published again (docs/decisions/0005).
import type { EventEnvelope } from '@praxis/contracts';
import { infra, testDbName, testLogger, unique } from '@praxis/testing';
import type { Connection } from 'mongoose';
import { Bus, OUTBOX, OUTBOX_PENDING, OUTBOX_RELAYED_COLLECTION, OutboxRelay, connectMongo, outboxUpdate } from '../src';
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

  it('empties every relayed document in one command per chunk, and keeps events appended after the read', async () => {
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

  it('compares the array read by its last event and its length: changes by writers and other replicas survive', async () => {
    const col = mongo.collection('shapes');
    const ev = (name: string, seq: number) => probe(`${run}-${name}`, seq);
    const [a1, a2, b1, b2, c1, d1, d2, f1, f2, f3] = [
      ev('a', 1),
      ev('a', 2),
      ev('b', 1),
      ev('b', 2),
      ev('c', 1),
      ev('d', 1),
      ev('d', 2),
      ev('f', 1),
      ev('f', 2),
      ev('f', 3),
    ];
    const [b3, c4, d5] = [ev('b', 3), ev('c', 4), ev('d', 5)];
    await col.insertMany([
      { _id: 'a', [OUTBOX]: [a1, a2], [OUTBOX_PENDING]: true }, // unchanged: emptied
      { _id: 'b', [OUTBOX]: [b1, b2], [OUTBOX_PENDING]: true }, // a writer appends b3
      { _id: 'c', [OUTBOX]: [c1], [OUTBOX_PENDING]: true }, // another replica removes c1, then c4 is appended
      { _id: 'd', [OUTBOX]: [d1, d2], [OUTBOX_PENDING]: true }, // another replica removes d1, then d5 is appended
      { _id: 'e', [OUTBOX]: [], [OUTBOX_PENDING]: true }, // flagged with no event: cleared
      { _id: 'f', [OUTBOX]: [f1, f2, f3], [OUTBOX_PENDING]: true }, // unchanged, three events
    ] as never[]);
    const published: string[] = [];
    const changed = new Set<string>();
    const relay = new OutboxRelay({
      bus: { publish: async (e) => void published.push(e.id) },
      logger,
      conn: mongo,
      collections: [col],
      afterPublish: async (e) => {
        const doc = e.tenantId.slice(run.length + 1);
        if (changed.has(doc)) return;
        changed.add(doc);
        if (doc === 'b') await col.updateOne({ _id: 'b' } as never, outboxUpdate([b3]) as never);
        if (doc === 'c') {
          await col.updateOne({ _id: 'c' } as never, { $pullAll: { [OUTBOX]: [c1] } } as never);
          await col.updateOne({ _id: 'c' } as never, outboxUpdate([c4]) as never);
        }
        if (doc === 'd') {
          await col.updateOne({ _id: 'd' } as never, { $pullAll: { [OUTBOX]: [d1] } } as never);
          await col.updateOne({ _id: 'd' } as never, outboxUpdate([d5]) as never);
        }
      },
    });
    await relay.init();
    expect(await relay.drainOnce()).toBe(10);
    const left = new Map((await col.find({}).toArray()).map((d) => [d._id as unknown as string, d]));
    const idsOf = (id: string) => ((left.get(id)![OUTBOX] as EventEnvelope[]) ?? []).map((e) => e.id);
    expect(idsOf('a')).toEqual([]);
    expect(idsOf('b')).toEqual([b3.id]);
    expect(idsOf('c')).toEqual([c4.id]);
    expect(idsOf('d')).toEqual([d5.id]);
    expect(idsOf('e')).toEqual([]);
    expect(idsOf('f')).toEqual([]);
    for (const id of ['a', 'e', 'f']) expect(left.get(id)![OUTBOX_PENDING]).toBe(false);
    for (const id of ['b', 'c', 'd']) expect(left.get(id)![OUTBOX_PENDING]).toBe(true);
    // The next pass publishes exactly the three events added meanwhile.
    expect(await relay.drainOnce()).toBe(3);
    await relay.stop();
    expect(published.slice(10).sort()).toEqual([b3.id, c4.id, d5.id].sort());
    expect(await col.countDocuments({ [OUTBOX_PENDING]: true })).toBe(0);
    log(
      `compare-and-set by last event and length: 6 documents, 3 changed after the read kept their new event; ${published.length} published`,
    );
  }, 120_000);

  it('publishes a burst before writing its clean-ups, recording each chunk so that a successor does not publish it again', async () => {
    const col = mongo.collection('burst');
    const relayed = mongo.collection(OUTBOX_RELAYED_COLLECTION);
    // Every publish and every command on the burst's collection and on outbox_relayed, in order.
    const steps: string[] = [];
    const watch = (op: { collectionName: string; method: string }) => {
      if (op.collectionName === 'burst' && op.method === 'bulkWrite') steps.push('clean-up');
      if (op.collectionName === OUTBOX_RELAYED_COLLECTION) steps.push(`relayed.${op.method}`);
    };
    const relayWith = (maxDeferredCleanUp?: number) =>
      new OutboxRelay({
        bus: { publish: (e) => (steps.push('publish'), bus.publish(e)) },
        logger,
        conn: mongo,
        collections: [col],
        batchSize: 250,
        ...(maxDeferredCleanUp !== undefined ? { maxDeferredCleanUp } : {}),
      });
    const lastPublish = () => steps.lastIndexOf('publish');
    const firstCleanUp = () => steps.indexOf('clean-up');

    // 1. A burst of 1,100 in chunks of 250: every publish before the first clean-up; the
    // four chunks with more to come are recorded, then forgotten once cleaned up.
    await writePending(col, `${run}-b1`, 1_100);
    mongo.on('operation-start', watch);
    let relay = relayWith();
    await relay.init();
    const t0 = performance.now();
    expect(await relay.drainOnce()).toBe(1_100);
    const burstMs = performance.now() - t0;
    await relay.stop();
    mongo.off('operation-start', watch);
    expect(steps.filter((s) => s === 'publish')).toHaveLength(1_100);
    expect(lastPublish()).toBeLessThan(firstCleanUp());
    expect(steps.filter((s) => s === 'relayed.insertOne')).toHaveLength(4);
    expect(steps.indexOf('relayed.deleteMany')).toBeGreaterThan(steps.lastIndexOf('clean-up'));
    expect(await relayed.countDocuments({})).toBe(0);
    expect(await col.countDocuments({ [OUTBOX_PENDING]: true })).toBe(0);
    const publishedBeforeCleanUp = (): number => steps.slice(0, firstCleanUp()).filter((s) => s === 'publish').length;
    const first = `${publishedBeforeCleanUp()} publishes before the first of ${steps.filter((s) => s === 'clean-up').length} clean-up commands, 4 chunks recorded`;

    // 2. With maxDeferredCleanUp 250 each chunk is cleaned up as soon as it is confirmed,
    // and nothing is recorded.
    steps.length = 0;
    await writePending(col, `${run}-b2`, 1_000);
    mongo.on('operation-start', watch);
    relay = relayWith(250);
    expect(await relay.drainOnce()).toBe(1_000);
    await relay.stop();
    mongo.off('operation-start', watch);
    expect(firstCleanUp()).toBeGreaterThan(-1);
    expect(firstCleanUp()).toBeLessThan(lastPublish());
    expect(steps.filter((s) => s === 'relayed.insertOne')).toHaveLength(0);
    const second = `${publishedBeforeCleanUp()} publishes before the first clean-up`;

    // 3. A replica died after publishing two chunks of a burst and before cleaning them up:
    // what it recorded is cleaned up and not published again; the rest is published.
    steps.length = 0;
    const ids = await writePending(col, `${run}-b3`, 600);
    await relayed.insertMany([
      { _id: ids[0], ids: ids.slice(0, 250), at: new Date() },
      { _id: ids[250], ids: ids.slice(250, 400), at: new Date() },
    ] as never[]);
    const published: string[] = [];
    relay = new OutboxRelay({
      bus: { publish: async (e) => void published.push(e.id) },
      logger,
      conn: mongo,
      collections: [col],
      batchSize: 250,
    });
    expect(await relay.drainOnce()).toBe(200);
    await relay.stop();
    expect(published.sort()).toEqual(ids.slice(400).sort());
    expect(await col.countDocuments({ [OUTBOX_PENDING]: true })).toBe(0);
    expect(await relayed.countDocuments({})).toBe(0);
    log(
      `burst of 1,100 in chunks of 250: ${first}, ${Math.round(burstMs)} ms in all; with maxDeferredCleanUp 250: ${second}; ` +
        `after a dead replica's two recorded chunks (400 events), its successor published the other ${published.length} only and emptied outbox_relayed`,
    );
  }, 180_000);

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
