// Tampering straight in the database (what the API never allows) is caught by
// GET /audit/verify, and an export of a tampered log fails offline verification.
import { randomId } from '@praxis/platform';
import { bearer } from '@praxis/testing';
import request from 'supertest';
import { keysFromJwks } from '../src/checkpoints/checkpoint';
import type mongoose from 'mongoose';
import { canonicalJson } from '../src/log/canonical';
import { type ChainEvent, entryHash } from '../src/log/chain';
import { entryKey } from '../src/log/model';
import { verifyExport } from '../src/verify/chain-verifier';
import { type Harness, harness, probe, viewed } from './harness';

describe('tamper detection', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await harness({ checkpointEvery: 5 });
  });

  afterAll(async () => {
    await h?.close();
  });

  /** A tenant with 12 entries and stored checkpoints at seq 5 and 10. */
  async function seeded() {
    const t = h.issuer.tenant();
    await h.core.appender.appendBatch(
      t.tenantId,
      Array.from({ length: 12 }, (_, i) => (i % 2 ? probe(t.tenantId, i) : viewed(t.tenantId, `pat_${i}`))),
    );
    expect((await h.core.checkpoints.list(t.tenantId)).map((c) => c.seq)).toEqual([5, 10]);
    const col = h.conn.collection('audit_entries');
    const verify = async () => (await request(h.app).get('/api/v1/audit/verify').set(bearer(t.admin.token))).body;
    const exportText = async () =>
      (
        await request(h.app)
          .get('/api/v1/audit/export')
          .set(bearer(t.admin.token))
          .buffer(true)
          .parse((res, cb) => {
            let s = '';
            res.on('data', (c: Buffer) => (s += c.toString('utf8')));
            res.on('end', () => cb(null, s));
          })
      ).body as string;
    expect(await verify()).toMatchObject({ ok: true, entries: 12 });
    return { t, col, verify, exportText, tenantId: t.tenantId };
  }

  /** Change an entry's stored event text as someone with database access could. */
  async function tamperEvent(
    col: mongoose.mongo.Collection,
    filter: mongoose.mongo.Filter<mongoose.mongo.Document>,
    change: (e: ChainEvent) => void,
  ) {
    const d = (await col.findOne(filter))!;
    const event = JSON.parse(d.eventJson as string) as ChainEvent;
    change(event);
    await col.updateOne({ _id: d._id }, { $set: { eventJson: canonicalJson(event) } });
  }

  const keys = async () => keysFromJwks((await request(h.app).get('/api/v1/audit/public-key')).body);

  it('detects an entry modified in the database', async () => {
    const { col, verify, exportText, tenantId } = await seeded();
    await tamperEvent(col, { tenantId, seq: 7 }, (e) => (e.actor.id = 'usr_someone_else'));
    const v = await verify();
    expect(v.ok).toBe(false);
    expect(v.firstBroken).toMatchObject({ seq: 7, reason: expect.stringMatching(/modified/) });
    // The last good checkpoint is reported, and no new one blesses the tampered head.
    expect(v.checkpoint.seq).toBe(5);
    const text = await exportText();
    const r = verifyExport(text, await keys());
    expect(r.ok).toBe(false);
    expect(r.firstBroken!.seq).toBe(7);
  });

  it('detects a consistent rewrite (hashes recomputed) by the signed checkpoint', async () => {
    const { col, verify, tenantId } = await seeded();
    const docs = await col
      .find({ tenantId, seq: { $gte: 7 } })
      .sort({ seq: 1 })
      .toArray();
    let prev = (await col.findOne({ tenantId, seq: 6 }))!.hash as string;
    for (const d of docs) {
      const stored = JSON.parse(d.eventJson as string) as ChainEvent;
      const event = d.seq === 7 ? { ...stored, actor: { kind: 'user', id: 'usr_forged' } } : stored;
      const hash = entryHash(d.seq, prev, event);
      await col.updateOne({ _id: d._id }, { $set: { eventJson: canonicalJson(event), prevHash: prev, hash } });
      prev = hash;
    }
    await h.conn.collection('audit_heads').updateOne({ _id: tenantId as never }, { $set: { hash: prev } });
    const v = await verify();
    expect(v.ok).toBe(false);
    expect(v.firstBroken).toMatchObject({ seq: 10, reason: expect.stringMatching(/checkpoint/) });
  });

  it('detects an entry deleted in the database, in the middle or at the end', async () => {
    const a = await seeded();
    await a.col.deleteOne({ tenantId: a.tenantId, seq: 7 });
    expect((await a.verify()).firstBroken).toMatchObject({ seq: 8, reason: expect.stringMatching(/expected seq 7/) });

    const b = await seeded();
    await b.col.deleteOne({ tenantId: b.tenantId, seq: 12 });
    expect(await b.verify()).toMatchObject({ ok: false, firstBroken: { seq: 12 } });

    const c = await seeded();
    await c.col.deleteMany({ tenantId: c.tenantId, seq: { $gte: 9 } });
    await h.conn.collection('audit_heads').deleteOne({ _id: c.tenantId as never });
    // Even with the head gone too, the checkpoint at seq 10 remembers there was more.
    expect((await c.verify()).firstBroken).toMatchObject({ seq: 10, reason: expect.stringMatching(/missing|deleted/) });
  });

  it('reads the log in ranges: all of it, and past a gap wider than a range', async () => {
    // Ranges of 10 seqs here (10,000 in service), so the 12 entries span two of them.
    h.core.log.readChunk = 10;
    try {
      const a = await seeded();
      expect(await a.verify()).toMatchObject({ ok: true, entries: 12 });
      const seqs: number[] = [];
      for await (const d of h.core.log.all(a.tenantId, 12)) seqs.push(d.seq);
      expect(seqs).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      // Remove seqs 0-9 worth of a range and more: entries 2-11 (the whole first range but
      // seq 1, and the next range's first entries); 12 is still read, and the gap named.
      await a.col.deleteMany({ tenantId: a.tenantId, seq: { $gte: 2, $lte: 11 } });
      const after: number[] = [];
      for await (const d of h.core.log.all(a.tenantId, 12)) after.push(d.seq);
      expect(after).toEqual([1, 12]);
      expect((await a.verify()).firstBroken).toMatchObject({ seq: 12, reason: expect.stringMatching(/expected seq 2/) });
    } finally {
      h.core.log.readChunk = 10_000;
    }
  });

  it('detects an entry inserted in the database', async () => {
    const { col, verify, tenantId } = await seeded();
    // Make room at seq 8 the way the store is keyed (_id = tenant|seq), then put a forged entry there.
    for (let seq = 12; seq >= 8; seq--) {
      const d = (await col.findOne({ tenantId, seq }))!;
      await col.deleteOne({ _id: d._id });
      await col.insertOne({ ...d, _id: entryKey(tenantId, seq + 1) as never, seq: seq + 1 });
    }
    const prev = (await col.findOne({ tenantId, seq: 7 }))!.hash as string;
    const forged = probe(tenantId, 99);
    await col.insertOne({
      _id: entryKey(tenantId, 8) as never,
      tenantId,
      seq: 8,
      eventId: forged.id,
      type: forged.type,
      at: new Date(),
      actorId: 'x',
      actorKind: 'system',
      prevHash: prev,
      hash: entryHash(8, prev, forged),
      event: forged,
      recordedAt: new Date(),
    });
    const v = await verify();
    expect(v.ok).toBe(false);
    expect(v.firstBroken.seq).toBe(9);
  });

  it('detects entries reordered in the database', async () => {
    // Entries 4 and 5 change places (whole documents, keys included).
    const { col, verify, tenantId } = await seeded();
    const four = (await col.findOne({ tenantId, seq: 4 }))!;
    const five = (await col.findOne({ tenantId, seq: 5 }))!;
    await col.deleteMany({ _id: { $in: [four._id, five._id] } });
    await col.insertOne({ ...five, _id: entryKey(tenantId, 4) as never, seq: 4 });
    await col.insertOne({ ...four, _id: entryKey(tenantId, 5) as never, seq: 5 });
    const v = await verify();
    expect(v.ok).toBe(false);
    expect(v.firstBroken.seq).toBe(4);

    // Only their seq fields swapped.
    const b = await seeded();
    await b.col.updateOne({ tenantId: b.tenantId, seq: 4 }, { $set: { seq: -4 } });
    await b.col.updateOne({ tenantId: b.tenantId, seq: 5 }, { $set: { seq: 4 } });
    await b.col.updateOne({ tenantId: b.tenantId, seq: -4 }, { $set: { seq: 5 } });
    expect(await b.verify()).toMatchObject({ ok: false });
  });

  it('does not sign a tampered head on the checkpoint timer', async () => {
    const { col, tenantId } = await seeded();
    await h.core.checkpointer.signHead(tenantId);
    await h.core.appender.appendBatch(tenantId, [probe(tenantId, 13)]);
    await tamperEvent(col, { tenantId, seq: 13 }, (e) => (e.data.seq = 14));
    const cp = await h.core.checkpointer.signHead(tenantId);
    expect(cp!.seq).toBe(12);
  });

  it('keeps entries about a patient verifiable by opaque id only', async () => {
    const { verify, tenantId } = await seeded();
    const patientId = randomId('pat');
    await h.core.appender.appendBatch(tenantId, [viewed(tenantId, patientId)]);
    const entry = await h.conn.collection('audit_entries').findOne({ tenantId, patientId });
    // Ids and codes only: nothing but the opaque id names the patient.
    expect(Object.keys((JSON.parse(entry!.eventJson as string) as ChainEvent).data)).toEqual(['patientId']);
    expect((await verify()).ok).toBe(true);
  });

  it('verifies entries stored with the event as a document (before eventJson), and catches their tampering', async () => {
    const { col, verify, exportText, tenantId } = await seeded();
    // Entries 3-8 as an earlier version stored them: the event as a nested document.
    for (const d of await col.find({ tenantId, seq: { $gte: 3, $lte: 8 } }).toArray()) {
      await col.updateOne({ _id: d._id }, { $set: { event: JSON.parse(d.eventJson as string) }, $unset: { eventJson: '' } });
    }
    expect(await col.countDocuments({ tenantId, eventJson: { $exists: false } })).toBe(6);
    expect(await verify()).toMatchObject({ ok: true, entries: 12 });
    expect(verifyExport(await exportText(), await keys()).ok).toBe(true);
    await col.updateOne({ tenantId, seq: 4 }, { $set: { 'event.actor.id': 'usr_someone_else' } });
    expect((await verify()).firstBroken).toMatchObject({ seq: 4, reason: expect.stringMatching(/modified/) });
  });
});
