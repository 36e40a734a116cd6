import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { ROOT, bearer, marker, waitFor } from './testing';
import { type Harness, startHarness } from './harness';
import { buildRecords } from '../src/app';
import { runCli } from '../src/cli';
import { KeyService } from '../src/keys/key-service';
import { KeyRepository } from '../src/keys/model';
import { KekRing, Metrics, TokenAuthenticator } from '@praxis/platform';
import { testLogger } from '@praxis/testing';

const FERRET_DIR = path.join(ROOT, '.data/ferretdb');

/** Every byte FerretDB holds for one database: the SQLite file, its WAL and shared memory. */
async function rawDatabaseBytes(dbName: string): Promise<Buffer> {
  const files = (await readdir(FERRET_DIR)).filter((f) => f === `${dbName}.sqlite` || f.startsWith(`${dbName}.sqlite-`));
  expect(files.length).toBeGreaterThan(0);
  return Buffer.concat(await Promise.all(files.map((f) => readFile(path.join(FERRET_DIR, f)))));
}

describe('encryption at rest', () => {
  let h: Harness;
  let t: ReturnType<Harness['tenant']>;
  const api = () => request(h.records.app);

  beforeAll(async () => {
    h = await startHarness();
    t = h.tenant();
  });
  afterAll(() => h.close());

  it('stores no identifying value in plaintext: markers written through the API are not in the raw database files', async () => {
    const m = {
      given: marker('Given'),
      family: marker('Family'),
      email: `${marker('mail').toLowerCase()}@example.org`,
      line1: marker('Street'),
      city: marker('Town'),
      postcode: marker('Pc').slice(0, 16),
      title: marker('Title'),
      body: marker('Body'),
      amended: marker('Amended'),
    };
    const created = await api()
      .post('/api/v1/patients')
      .set(bearer(t.clinician.token))
      .send({
        givenName: m.given,
        familyName: m.family,
        birthDate: '1931-07-13',
        email: m.email,
        mobile: '+447700987654',
        address: { line1: m.line1, city: m.city, postcode: m.postcode },
      });
    expect(created.status).toBe(201);
    const note = await api()
      .post(`/api/v1/patients/${created.body.id}/notes`)
      .set(bearer(t.clinician.token))
      .send({ title: m.title, body: m.body });
    expect(note.status).toBe(201);
    expect(
      (
        await api()
          .post(`/api/v1/patients/${created.body.id}/notes/${note.body.id}/amendments`)
          .set(bearer(t.clinician.token))
          .send({ title: m.title, body: m.amended })
      ).status,
    ).toBe(201);
    // Reads and a search, so whatever the service writes on access is on disk too.
    expect(
      (await api().get(`/api/v1/patients?familyName=${m.family.toLowerCase()}`).set(bearer(t.clinician.token))).body.items,
    ).toHaveLength(1);
    expect((await api().get(`/api/v1/patients/${created.body.id}/notes/${note.body.id}`).set(bearer(t.clinician.token))).body.body).toBe(
      m.amended,
    );

    const raw = await h.records.patients.rawDocument(t.tenantId, created.body.id);
    const bytes = await waitFor(
      async () => {
        const b = await rawDatabaseBytes(h.dbName);
        // Positive control: the plain ref is in the files, so the search does see the data.
        return b.includes(Buffer.from(created.body.ref)) && b.includes(Buffer.from(String(raw!.familyNameIdx as string))) ? b : undefined;
      },
      { what: 'the patient in the database files' },
    );

    for (const [what, value] of Object.entries(m)) {
      for (const form of [value, value.toLowerCase(), value.toUpperCase()]) {
        expect({ what, found: bytes.includes(Buffer.from(form, 'utf8')) }).toEqual({ what, found: false });
      }
    }
    // The blind index is keyed: neither the name nor an unkeyed hash of it is stored.
    const normalised = m.family.toLowerCase();
    for (const unkeyed of [
      createHash('sha256').update(normalised).digest('hex'),
      createHash('sha256').update(normalised).digest('base64url'),
      createHash('sha256').update(`patient.familyName\u0000${normalised}`).digest('base64url'),
    ]) {
      expect(bytes.includes(Buffer.from(unkeyed))).toBe(false);
    }
    expect(String(raw!.familyNameIdx)).not.toContain(m.family);
    // The birth date and phone are not unique enough to grep the files for: check the document.
    const json = JSON.stringify(raw);
    expect(json).not.toContain('1931-07-13');
    expect(json).not.toContain('+447700987654');
  });

  it('stores the key id with every ciphertext, and each field is bound to its record', async () => {
    const created = await api()
      .post('/api/v1/patients')
      .set(bearer(t.admin.token))
      .send({ givenName: 'Kim', familyName: 'Keyed', birthDate: '1990-01-01' });
    const other = await api()
      .post('/api/v1/patients')
      .set(bearer(t.admin.token))
      .send({ givenName: 'Lee', familyName: 'Keyed', birthDate: '1991-01-01' });
    const raw = (await h.records.patients.rawDocument(t.tenantId, created.body.id)) as {
      keyId: string;
      pii: Record<string, { kid: string; ct: string }>;
    };
    expect(raw.keyId).toMatch(/^pk_/);
    for (const sealed of Object.values(raw.pii)) {
      expect(sealed.kid).toBe(raw.keyId);
      expect(sealed.ct).toMatch(/^v1\./);
    }
    const keys = await h.mongo.collection('patient_keys').findOne({ _id: raw.keyId as never });
    expect(keys).toMatchObject({ tenantId: t.tenantId, patientId: created.body.id, wrapped: { kid: expect.stringMatching(/^tk_/) } });
    const tenantKey = await h.mongo.collection('tenant_keys').findOne({ _id: t.tenantId as never });
    expect(tenantKey).toMatchObject({ kid: keys!.wrapped.kid, wrapped: { kid: h.kek.KEK_ID } });
    // Moving a sealed value to another patient does not make it readable there.
    const otherRaw = (await h.records.patients.rawDocument(t.tenantId, other.body.id)) as { keyId: string };
    // FerretDB updates are not isolated: let the relay finish with the document first, so
    // its clean-up cannot overwrite the tampering (see libs/platform/src/serial.ts).
    const patients = h.mongo.collection('patients');
    await waitFor(async () => (await patients.countDocuments({ _id: other.body.id as never, _outboxPending: true })) === 0, {
      what: 'relay done with the patient',
    });
    const moved = { ...raw.pii.givenName, kid: otherRaw.keyId };
    await patients.updateOne({ _id: other.body.id as never }, { $set: { 'pii.givenName': moved } });
    expect(((await patients.findOne({ _id: other.body.id as never })) as { pii: { givenName: unknown } } | null)?.pii.givenName).toEqual(
      moved,
    );
    h.records.keys.clearCache();
    expect((await api().get(`/api/v1/patients/${other.body.id}`).set(bearer(t.admin.token))).status).toBe(500);
  });

  it('rotate-kek re-wraps tenant keys under a new KEK without touching the data', async () => {
    const created = await api()
      .post('/api/v1/patients')
      .set(bearer(t.admin.token))
      .send({ givenName: 'Rory', familyName: 'Rotated', birthDate: '1980-03-03', email: 'rory@example.org' });
    const second = h.tenant();
    expect(
      (
        await api()
          .post('/api/v1/patients')
          .set(bearer(second.admin.token))
          .send({ givenName: 'Sam', familyName: 'Second', birthDate: '1980-03-03' })
      ).status,
    ).toBe(201);
    const data = { projection: { _outbox: 0, _outboxPending: 0 } };
    const before = await h.mongo.collection('patients').findOne({ _id: created.body.id as never }, data);
    const patientKeysBefore = await h.mongo.collection('patient_keys').find({ tenantId: t.tenantId }).toArray();

    const newKek = { KEK: randomBytes(32).toString('base64'), KEK_ID: 'test-kek-2' };
    const env = {
      MONGO_URL: 'mongodb://127.0.0.1:27017',
      MONGO_DB: h.dbName,
      LOG_LEVEL: 'silent',
      ...newKek,
      KEK_PREVIOUS: `${h.kek.KEK_ID}:${h.kek.KEK}`,
    };
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await runCli(['rotate-kek'], env)).toBe(0);
    expect(JSON.parse(String(log.mock.calls[0]![0]))).toMatchObject({ kekId: 'test-kek-2', rewrapped: expect.any(Number) });
    expect(await runCli(['rotate-kek'], env)).toBe(0); // rerun: nothing left to do
    expect(JSON.parse(String(log.mock.calls[1]![0]))).toMatchObject({ rewrapped: 0 });
    log.mockRestore();

    for (const doc of await h.mongo
      .collection('tenant_keys')
      .find({ _id: { $in: [t.tenantId, second.tenantId] as never[] } })
      .toArray()) {
      expect(doc.wrapped.kid).toBe('test-kek-2');
      expect(doc.rotatedAt).toBeInstanceOf(Date);
    }
    expect(await h.mongo.collection('patients').findOne({ _id: created.body.id as never }, data)).toEqual(before);
    expect(await h.mongo.collection('patient_keys').find({ tenantId: t.tenantId }).toArray()).toEqual(patientKeysBefore);

    // A service that knows only the new KEK reads everything.
    const rotated = await buildRecords({
      logger: testLogger(),
      metrics: new Metrics('records'),
      mongo: h.mongo,
      bus: { publish: async () => undefined, consume: async () => undefined } as never,
      authenticator: new TokenAuthenticator(h.issuer.verifier(), { exists: async () => 0 } as never),
      keks: newKek,
    });
    const res = await request(rotated.app).get(`/api/v1/patients/${created.body.id}`).set(bearer(t.admin.token));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ givenName: 'Rory', familyName: 'Rotated', email: 'rory@example.org' });
    // …and one that knows only the old KEK no longer can.
    const stale = new KeyService(new KeyRepository(h.mongo), new KekRing(h.kek));
    await expect(stale.tenantKey(t.tenantId)).rejects.toThrow(/KEK test-kek-2 is not configured/);
    h.records.keys.clearCache();
  });
});
