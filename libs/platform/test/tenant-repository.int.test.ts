// The tenant repository base (libs/platform/src/tenant-repository.ts) on the shared
// FerretDB: another tenant's id finds, pages, updates and deletes nothing; a write and its
// events are one document write; the relay is woken after (and only after) a write that
// carried events; a compare-and-set guard holds (updateDoc and updateIf); pages follow `_id` after the cursor.
import type { EventEnvelope } from '@praxis/contracts';
import { infra, testDbName } from '@praxis/testing';
import mongoose, { type Connection, type Model } from 'mongoose';
import {
  KeyedSerialiser,
  OUTBOX,
  OUTBOX_PENDING,
  TenantRepository,
  connectMongo,
  makeEvent,
  outboxSchemaFields,
  serialisedCollection,
} from '../src';

interface WidgetDoc {
  _id: string;
  tenantId: string;
  n: number;
  tag?: string;
  bumps?: number;
}

class Widgets extends TenantRepository<WidgetDoc> {
  create(doc: WidgetDoc, events: EventEnvelope[]) {
    return this.insert(doc, events);
  }
  get(tenantId: string, id: string) {
    return this.findDoc(tenantId, id);
  }
  page(tenantId: string, after: string | undefined, limit: number) {
    return this.findPage(tenantId, { after, limit });
  }
  set(tenantId: string, id: string, n: number, events: EventEnvelope[], expect: Record<string, unknown> = {}) {
    return this.updateDoc(tenantId, id, { $set: { n }, $unset: { tag: 1 } }, events, expect);
  }
  setIf(tenantId: string, id: string, n: number, events: EventEnvelope[], expect: Record<string, unknown> = {}) {
    return this.updateIf(tenantId, id, { $set: { n }, $inc: { bumps: 1 } }, events, expect);
  }
  pending(tenantId: string) {
    return this.pendingEventsForTenant(tenantId);
  }
}

const event = (tenantId: string, seq: number) =>
  makeEvent({ type: 'platform.probe.sent', tenantId, actor: { kind: 'system', id: 'test' }, data: { seq, run: 'tenant-repo' } });

describe('TenantRepository', () => {
  let mongo: Connection;
  let Widget: Model<WidgetDoc>;
  let repo: Widgets;
  let nudges = 0;

  beforeAll(async () => {
    mongo = await connectMongo({ url: infra.mongoUrl, dbName: testDbName('tenantrepo') });
    Widget = mongo.model<WidgetDoc>(
      'Widget',
      new mongoose.Schema<WidgetDoc>(
        { _id: String, tenantId: String, n: Number, tag: String, bumps: Number, ...outboxSchemaFields },
        { versionKey: false, strict: 'throw' },
      ),
    );
    repo = new Widgets(Widget, { collection: serialisedCollection(Widget.collection, new KeyedSerialiser()), notify: () => void nudges++ });
  });
  afterAll(async () => {
    await mongo?.dropDatabase();
    await mongo?.close();
  });

  it('scopes every read and write to the tenant, and writes a change with its events', async () => {
    await repo.create({ _id: 'w1', tenantId: 'ta', n: 1, tag: 'x' }, [event('ta', 1)]);
    expect(nudges).toBe(1);
    await repo.create({ _id: 'w2', tenantId: 'ta', n: 2 }, []);
    expect(nudges).toBe(1);
    const raw = await Widget.collection.findOne({ _id: 'w1' as never });
    expect(raw?.[OUTBOX_PENDING]).toBe(true);
    expect((raw?.[OUTBOX] as EventEnvelope[]).map((e) => e.data)).toEqual([{ seq: 1, run: 'tenant-repo' }]);

    // Another tenant's id: nothing found, nothing changed, nothing deleted.
    expect(await repo.get('tb', 'w1')).toBeNull();
    expect(await repo.page('tb', undefined, 10)).toEqual([]);
    expect(await repo.set('tb', 'w1', 99, [event('tb', 2)])).toBeNull();
    expect(nudges).toBe(1);
    expect(await repo.deleteAllForTenant('tb')).toBe(0);
    expect(await repo.countForTenant('tb')).toBe(0);
    expect((await repo.get('ta', 'w1'))?.n).toBe(1);

    // The owner's update: change and event in one write, outbox not returned, relay woken.
    const after = await repo.set('ta', 'w1', 5, [event('ta', 3)]);
    expect(after).toEqual({ _id: 'w1', tenantId: 'ta', n: 5 });
    expect(nudges).toBe(2);
    expect((await repo.pending('ta')).map((e) => e.data)).toEqual([
      { seq: 1, run: 'tenant-repo' },
      { seq: 3, run: 'tenant-repo' },
    ]);
    // A write without events does not wake the relay.
    expect((await repo.set('ta', 'w2', 7, []))?.n).toBe(7);
    expect(nudges).toBe(2);
  });

  it('keeps a compare-and-set guard, and pages by _id after the cursor', async () => {
    expect(await repo.set('ta', 'w1', 6, [], { n: 4 })).toBeNull();
    expect((await repo.set('ta', 'w1', 6, [], { n: 5 }))?.n).toBe(6);
    // A guard naming another tenant cannot widen the scope.
    expect(await repo.set('ta', 'w1', 8, [], { tenantId: 'tb' })).not.toBeNull();
    expect((await repo.get('ta', 'w1'))?.tenantId).toBe('ta');

    // updateIf: the same write, answering only whether the guard (and the tenant) matched.
    const woken = nudges;
    expect(await repo.setIf('tb', 'w1', 9, [event('tb', 4)])).toBe(false);
    expect(await repo.setIf('ta', 'w1', 9, [event('ta', 5)], { n: 7 })).toBe(false);
    expect(nudges).toBe(woken);
    expect(await repo.setIf('ta', 'w1', 9, [event('ta', 6)], { n: 8 })).toBe(true);
    expect(nudges).toBe(woken + 1);
    expect(await repo.get('ta', 'w1')).toMatchObject({ n: 9, bumps: 1 });
    expect((await repo.pending('ta')).map((e) => e.data)).toContainEqual({ seq: 6, run: 'tenant-repo' });
    expect(await repo.setIf('ta', 'w1', 10, [])).toBe(true);
    expect(nudges).toBe(woken + 1);

    for (const id of ['w3', 'w4', 'w5']) await repo.create({ _id: id, tenantId: 'ta', n: 0 }, []);
    await repo.create({ _id: 'w35', tenantId: 'tb', n: 0 }, []);
    expect((await repo.page('ta', undefined, 2)).map((d) => d._id)).toEqual(['w1', 'w2']);
    expect((await repo.page('ta', 'w2', 2)).map((d) => d._id)).toEqual(['w3', 'w4']);
    expect((await repo.page('ta', 'w4', 2)).map((d) => d._id)).toEqual(['w5']);
    expect(await repo.countForTenant('ta')).toBe(5);
    expect(await repo.deleteAllForTenant('ta')).toBe(5);
    expect(await repo.countForTenant('tb')).toBe(1);
  });
});
