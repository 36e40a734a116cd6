import { KeyedSerialiser, connectMongo, serialisedCollection } from '@praxis/platform';
import type { Connection } from 'mongoose';
import request from 'supertest';
import { bearer, infra, testDbName } from './testing';
import { type Harness, startHarness } from './harness';

describe('one writer at a time per document (FerretDB updates are not isolated)', () => {
  let mongo: Connection;
  let h: Harness;

  beforeAll(async () => {
    mongo = await connectMongo({ url: infra.mongoUrl, dbName: testDbName('records') });
    h = await startHarness();
  });
  afterAll(async () => {
    await mongo.dropDatabase();
    await mongo.close();
    await h.close();
  });

  it('loses no concurrent update made through a serialised collection', async () => {
    const col = serialisedCollection(mongo.collection('counters'), new KeyedSerialiser());
    await col.insertOne({ _id: 'c' as never, n: 0 });
    await Promise.all(Array.from({ length: 40 }, () => col.updateOne({ _id: 'c' as never }, { $inc: { n: 1 } })));
    expect((await col.findOne({ _id: 'c' as never }))!.n).toBe(40);
  });

  it('keeps every one of many concurrent patient changes, and every change event, while the relay drains', async () => {
    const t = h.tenant();
    const api = () => request(h.records.app);
    const p = (
      await api()
        .post('/api/v1/patients')
        .set(bearer(t.admin.token))
        .send({ givenName: 'Con', familyName: 'Current', birthDate: '1970-01-01' })
    ).body;
    const changes = [
      { givenName: 'Con2' },
      { familyName: 'Current2' },
      { email: 'c@example.org' },
      { mobile: '+447700900111' },
      { address: { line1: '1 A St', city: 'B', postcode: 'C1 1CC' } },
      { birthDate: '1970-01-02' },
    ];
    const results = await Promise.all(changes.map((c) => api().patch(`/api/v1/patients/${p.id}`).set(bearer(t.admin.token)).send(c)));
    expect(results.map((r) => r.status)).toEqual(changes.map(() => 200));
    const final = await api().get(`/api/v1/patients/${p.id}`).set(bearer(t.admin.token));
    expect(final.body).toMatchObject(Object.assign({}, ...changes));
    for (const c of changes) {
      await h.waitForEvent(
        (e) => e.type === 'records.patient.updated' && e.data.patientId === p.id && (e.data.fields as string[])[0] === Object.keys(c)[0],
        `updated ${Object.keys(c)[0]}`,
      );
    }
  });
});
