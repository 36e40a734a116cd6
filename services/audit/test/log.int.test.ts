// The log as the consumer builds it: linkage, idempotency, ordering across an outage,
// and several replicas appending to one tenant's chain at once.
import { randomId } from '@praxis/platform';
import { waitFor } from '@praxis/testing';
import type { AuditCore } from '../src/app';
import { LogAppender } from '../src/log/append';
import { canonicalJson } from '../src/log/canonical';
import { GENESIS_HASH, chainEntries, entryHash, entryHashOfText } from '../src/log/chain';
import { toEntryDoc } from '../src/log/model';
import { verifyTenantLog } from '../src/verify/verify-log';
import { type Harness, entriesOf, harness, probe, viewed } from './harness';

describe('audit log consumer (real RabbitMQ and FerretDB)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await harness({ checkpointEvery: 10 });
    await h.consumer();
    pubBus = await h.publisher();
  });

  afterAll(async () => {
    await h?.close();
  });

  const count = (tenantId: string) => h.core.log.count(tenantId);
  let pubBus: unknown;

  it('appends every event to its tenant’s chain: gapless seq, each entry holding the previous hash', async () => {
    const tenantId = h.track(randomId('ten'));
    const pub = await h.publisher();
    const events = Array.from({ length: 25 }, (_, i) => viewed(tenantId, `pat_${i}`));
    for (const e of events) await pub.publish(e);
    await waitFor(async () => (await count(tenantId)) === 25, { what: '25 entries' });
    // Entries go in first; the head and the checkpoints follow them (docs/audit.md), so on a
    // busy machine they may trail the entries by a moment.
    await waitFor(async () => (await h.core.log.head(tenantId))?.seq === 25 && (await h.core.checkpoints.list(tenantId)).length === 2, {
      what: 'head at 25, two checkpoints',
    });
    const entries = await entriesOf(h.core, tenantId);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(entries.map((e) => e.eventId)).toEqual(events.map((e) => e.id));
    let prev = GENESIS_HASH;
    for (const e of entries) {
      expect(e.prevHash).toBe(prev);
      // Stored as the event's canonical text, and hashed over exactly that text.
      expect(e.eventJson).toBe(canonicalJson(events[e.seq - 1]));
      expect(e.hash).toBe(entryHashOfText(e.seq, e.prevHash, e.eventJson!));
      expect(e.hash).toBe(entryHash(e.seq, e.prevHash, JSON.parse(e.eventJson!)));
      prev = e.hash;
    }
    expect(await h.core.log.head(tenantId)).toEqual({ seq: 25, hash: prev });
    // A checkpoint at every multiple of N (10), by the writer that appended it.
    expect((await h.core.checkpoints.list(tenantId)).map((c) => c.seq)).toEqual([10, 20]);
    const v = await verifyTenantLog(tenantId, h.core);
    expect(v).toMatchObject({ ok: true, entries: 25, head: { seq: 25, hash: prev } });
    expect(v.checkpoint).toMatchObject({ seq: 25, hash: prev });
  });

  it('appends a duplicate delivery once', async () => {
    const tenantId = h.track(randomId('ten'));
    const pub = await h.publisher();
    const e1 = viewed(tenantId, 'pat_1');
    const e2 = viewed(tenantId, 'pat_2');
    await pub.publish(e1);
    await pub.publish(e1);
    await pub.publish(e2);
    await pub.publish(e1);
    await waitFor(async () => (await count(tenantId)) >= 2, { what: 'two entries' });
    // Redelivery straight into the appender as well (a second replica's copy).
    await h.core.appender.appendBatch(tenantId, [e1, e2, e1]);
    await new Promise((r) => setTimeout(r, 500));
    const entries = await entriesOf(h.core, tenantId);
    expect(entries.map((e) => [e.seq, e.eventId])).toEqual([
      [1, e1.id],
      [2, e2.id],
    ]);
  });

  it('appends what was published while audit was down, in order, when it returns', async () => {
    const tenantId = h.track(randomId('ten'));
    const pub = await h.publisher();
    await h.stopConsumers();
    const events = Array.from({ length: 60 }, (_, i) => probe(tenantId, i));
    for (const e of events) await pub.publish(e);
    await new Promise((r) => setTimeout(r, 300));
    expect(await count(tenantId)).toBe(0);
    await h.consumer();
    await waitFor(async () => (await count(tenantId)) === 60, { what: '60 entries after restart' });
    const entries = await entriesOf(h.core, tenantId);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(entries.map((e) => e.eventId)).toEqual(events.map((e) => e.id));
    expect((await verifyTenantLog(tenantId, h.core)).ok).toBe(true);
  });

  it('keeps one tenant’s chain gapless and linear with two replicas: one active consumer, the other takes over', async () => {
    const tenantId = h.track(randomId('ten'));
    const other = h.track(randomId('ten'));
    const replica = await h.replica();
    let handledByReplica = 0;
    const original = replica.appender.append.bind(replica.appender);
    replica.appender.append = (e) => {
      if (e.tenantId === tenantId) handledByReplica++;
      return original(e);
    };
    await h.stopConsumers();
    const active = await h.consumer(h.core, 20);
    await h.consumer(replica, 20);
    const pub = await h.publisher();
    const first = Array.from({ length: 150 }, (_, i) => probe(i % 5 === 0 ? other : tenantId, i));
    await Promise.all(first.map((e) => pub.publish(e)));
    const mineFirst = first.filter((e) => e.tenantId === tenantId).length;
    await waitFor(async () => (await count(tenantId)) === mineFirst && (await count(other)) === 30, {
      timeoutMs: 60_000,
      what: 'first half',
    });
    // Single active consumer: the replica stood by.
    expect(handledByReplica).toBe(0);

    // The active replica goes away; the broker hands the queue to the standby.
    await active.close();
    const second = Array.from({ length: 150 }, (_, i) => probe(i % 5 === 0 ? other : tenantId, 150 + i));
    await Promise.all(second.map((e) => pub.publish(e)));
    const mine = mineFirst + second.filter((e) => e.tenantId === tenantId).length;
    await waitFor(async () => (await count(tenantId)) === mine && (await count(other)) === 60, {
      timeoutMs: 60_000,
      what: 'all entries after hand-over',
    });
    expect(handledByReplica).toBe(mine - mineFirst);

    const entries = await entriesOf(h.core, tenantId);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: mine }, (_, i) => i + 1));
    expect(new Set(entries.map((e) => e.eventId)).size).toBe(mine);
    expect((await verifyTenantLog(tenantId, h.core)).ok).toBe(true);
    expect((await verifyTenantLog(other, h.core)).ok).toBe(true);
  });

  it('keeps the chain linear when replicas race on every append (compare-and-set on the head)', async () => {
    const tenantId = h.track(randomId('ten'));
    const replicas = [h.core, await h.replica(), await h.replica()];
    const events = Array.from({ length: 150 }, (_, i) => probe(tenantId, i));
    // Each replica appends its own events in small batches, all at the same time, plus
    // every replica retries some of the others' events (redeliveries).
    await Promise.all(
      replicas.map(async (r, k) => {
        const own = events.filter((_, i) => i % 3 === k);
        for (let i = 0; i < own.length; i += 3)
          await r.appender.appendBatch(tenantId, [...own.slice(i, i + 3), events[(i * 7) % events.length]!]);
      }),
    );
    const entries = await entriesOf(h.core, tenantId);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    expect(new Set(entries.map((e) => e.eventId)).size).toBe(150);
    expect((await verifyTenantLog(tenantId, h.core)).ok).toBe(true);
    expect((await h.core.log.head(tenantId)).seq).toBe(150);
  });

  it('keeps the chain gapless with two consumers appending in parallel (no single-active flag)', async () => {
    const tenantId = h.track(randomId('ten'));
    const replica = await h.replica();
    const by = new Map<AuditCore, number>();
    for (const core of [h.core, replica]) {
      const original = core.appender.append.bind(core.appender);
      core.appender.append = (e) => {
        if (e.tenantId === tenantId) by.set(core, (by.get(core) ?? 0) + 1);
        return original(e);
      };
    }
    await h.stopConsumers();
    try {
      // Prefetch 150 each: batches past FerretDB's 100-document insert batches, the
      // conditions under which the chain once broke (docs/audit.md).
      await h.consumer(h.core, 150, { parallel: true });
      await h.consumer(replica, 150, { parallel: true });
      const pub = await h.publisher();
      const events = Array.from({ length: 900 }, (_, i) => probe(tenantId, i));
      await Promise.all(events.map((e) => pub.publish(e)));
      await waitFor(async () => (await count(tenantId)) === 900, { timeoutMs: 90_000, intervalMs: 250, what: '900 entries' });
      // Both consumers appended: the broker spread the queue over them.
      expect(by.get(h.core)).toBeGreaterThan(0);
      expect(by.get(replica)).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 300));
      const entries = await entriesOf(h.core, tenantId);
      expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 900 }, (_, i) => i + 1));
      expect(new Set(entries.map((e) => e.eventId)).size).toBe(900);
      expect((await verifyTenantLog(tenantId, h.core)).ok).toBe(true);
      expect((await h.core.log.head(tenantId)).seq).toBe(900);
    } finally {
      await h.stopConsumers();
      h.core.appender.append = LogAppender.prototype.append.bind(h.core.appender);
      await h.consumer();
    }
  });

  it('stops an ordered insert at its first conflict, across FerretDB’s internal 100-document batches', async () => {
    const tenantId = h.track(randomId('ten'));
    const docs = chainEntries(
      { seq: 0, hash: GENESIS_HASH },
      Array.from({ length: 250 }, (_, i) => probe(tenantId, i)),
    ).map((e) => toEntryDoc(e, new Date()));
    // Seq 51 is taken already: the insert must stop there, as MongoDB's ordered insert does.
    await h.core.log.insertEntries(tenantId, [docs[50]!]);
    expect(await h.core.log.insertEntries(tenantId, docs)).toEqual({ ok: false, inserted: 50 });
    const stored = await entriesOf(h.core, tenantId);
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
  });

  it('appends a batch longer than 100 holding a redelivery, without a hole', async () => {
    const tenantId = h.track(randomId('ten'));
    const early = Array.from({ length: 5 }, (_, i) => probe(tenantId, i));
    await h.core.appender.appendBatch(tenantId, early);
    // The 100th event of the next batch is a redelivery of an early one (as after a broker
    // restart): the insert stops on it in the first 100-entry chunk, and nothing after it
    // may be stored until the rest is chained again onto the real head.
    const later = Array.from({ length: 250 }, (_, i) => (i === 99 ? early[2]! : probe(tenantId, 100 + i)));
    await h.core.appender.appendBatch(tenantId, later);
    const entries = await entriesOf(h.core, tenantId);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 254 }, (_, i) => i + 1));
    expect(new Set(entries.map((e) => e.eventId)).size).toBe(254);
    expect((await verifyTenantLog(tenantId, h.core)).ok).toBe(true);
    expect((await h.core.log.head(tenantId)).seq).toBe(254);
  });

  it('parks what does not parse and appends nothing for it', async () => {
    const tenantId = h.track(randomId('ten'));
    const pub = await h.publisher();
    const { parked } = h.buses.find((b) => b !== pubBus)!.queuesOf('log');
    const before = await pub.queueDepth(parked);
    // publish() does not validate (producers do): a name slipped into data, and a bad actor.
    await pub.publish({ ...probe(tenantId, 1), data: { seq: 1, run: tenantId, name: 'Ada Lovelace' } });
    await pub.publish({ ...probe(tenantId, 2), actor: { kind: 'robot', id: 'x' } } as never);
    await waitFor(async () => (await pub.queueDepth(parked)) === before + 2, { what: 'two parked' });
    expect(await count(tenantId)).toBe(0);
  });

  it('repairs a head left behind by a crash between storing an entry and moving the head', async () => {
    const tenantId = h.track(randomId('ten'));
    await h.core.appender.appendBatch(tenantId, [probe(tenantId, 1), probe(tenantId, 2)]);
    // The crash: entry 3 stored, head still at 2.
    const orphan = probe(tenantId, 3);
    const head = await h.core.log.head(tenantId);
    const hash = entryHash(3, head.hash, orphan);
    await h.core.log.insertEntries(tenantId, [toEntryDoc({ seq: 3, prevHash: head.hash, hash, event: orphan }, new Date())]);
    expect((await h.core.log.head(tenantId)).seq).toBe(2);
    // Its redelivery is recognised, and the next event goes after it.
    await h.core.appender.appendBatch(tenantId, [orphan, probe(tenantId, 4)]);
    const entries = await entriesOf(h.core, tenantId);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(entries[2]!.eventId).toBe(orphan.id);
    expect((await verifyTenantLog(tenantId, h.core)).ok).toBe(true);
  });
});
