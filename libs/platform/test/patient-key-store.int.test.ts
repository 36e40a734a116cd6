// The one MongoDB patient-key store (libs/platform/src/patient-key-store.ts), on the shared
// FerretDB: two replicas' concurrent first uses of a patient's key settle on one key in
// both layouts (records/consent `kid`, messaging `patient`); the documents keep each
// layout's shape; `init()` replaces the non-unique index older records databases carry,
// and leaves data holding several keys of one patient as it is (boot does not fail).
import { infra, testDbName, testLogger } from '@praxis/testing';
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { KekRing, MongoPatientKeyStore, type PatientKeyLayout, PatientKeyService, connectMongo, randomId } from '../src';

const kek = { KEK: randomBytes(32).toString('base64'), KEK_ID: 'test-kek-1' };
const opts = { aadPrefix: 'test-patient', kidPrefix: 'tk', goneDetail: 'No such patient.' };
const PATIENTS = 20;

describe('MongoPatientKeyStore', () => {
  const conns: Connection[] = [];
  const open = async (dbName: string) => {
    const c = await connectMongo({ url: infra.mongoUrl, dbName });
    conns.push(c);
    return c;
  };
  afterAll(async () => {
    for (const c of conns) {
      await c.dropDatabase().catch(() => undefined);
      await c.close();
    }
  });

  /** Two replicas (own connections, own caches) on one database; returns keys per patient. */
  async function raceFirstKeys(layout: PatientKeyLayout, initIndex: boolean) {
    const dbName = testDbName(`pkeys-${layout}`);
    const [a, b] = [await open(dbName), await open(dbName)];
    const stores = [new MongoPatientKeyStore(a, layout), new MongoPatientKeyStore(b, layout)];
    if (initIndex) for (const s of stores) await s.init(testLogger());
    const replicas = stores.map((s) => new PatientKeyService(s, new KekRing(kek), opts));
    const tenantId = randomId('t');
    await replicas[0]!.tenantKey(tenantId);
    const results = [];
    for (let i = 0; i < PATIENTS; i++) {
      const patientId = randomId('p');
      const [ka, kb] = await Promise.all(replicas.map((r) => r.keyOfPatient(tenantId, patientId)));
      const stored = await a.collection('patient_keys').countDocuments({ tenantId, patientId });
      results.push({ same: ka!.kid === kb!.kid && ka!.key.equals(kb!.key), stored });
    }
    return { results, conn: a, tenantId, replicas };
  }

  it.each(['kid', 'patient'] as const)('layout %s: two replicas creating one patient’s first key at once get one key', async (layout) => {
    const { results, conn, tenantId, replicas } = await raceFirstKeys(layout, true);
    const split = results.filter((r) => !r.same).length;
    const extra = results.reduce((n, r) => n + r.stored - 1, 0);
    console.log(
      `layout ${layout}: ${PATIENTS} patients, concurrent first keys from 2 replicas: ${split} split, ${extra} extra stored keys`,
    );
    expect(split).toBe(0);
    expect(results.every((r) => r.stored === 1)).toBe(true);

    // Each layout's document shape is the one deployed databases hold.
    const doc = (await conn.collection('patient_keys').findOne({ tenantId })) as Record<string, unknown>;
    const fields = Object.keys(doc).sort();
    if (layout === 'kid') {
      expect(fields).toEqual(['_id', 'createdAt', 'patientId', 'tenantId', 'wrapped']);
      expect(String(doc._id)).toMatch(/^tk/);
    } else {
      expect(fields).toEqual(['_id', 'createdAt', 'kid', 'patientId', 'tenantId', 'wrapped']);
      expect(doc._id).toBe(`${tenantId}|${String(doc.patientId)}`);
    }
    // A value sealed by one replica opens on the other (same AAD, same key).
    const patientId = String(doc.patientId);
    const sealed = await replicas[0]!.sealFor(tenantId, patientId, 'hello', 'aad');
    expect((await replicas[1]!.openFor(tenantId, patientId, sealed, 'aad')).toString()).toBe('hello');
  });

  it('without the unique index (control) the same race stores several keys of one patient', async () => {
    const { results } = await raceFirstKeys('kid', false);
    const extra = results.reduce((n, r) => n + r.stored - 1, 0);
    const split = results.filter((r) => !r.same).length;
    console.log(`control (no unique index): ${PATIENTS} patients: ${split} split, ${extra} extra stored keys`);
    expect(extra).toBeGreaterThan(0);
  });

  const wrapped = { kid: 'tk-x', ct: 'AAAA' };
  /** A records database as it was: keys `{ _id: kid, tenantId, patientId }` under a non-unique index. */
  async function olderRecordsDb(name: string, keys: [kid: string, patientId: string][]) {
    const conn = await open(testDbName(name));
    const col = conn.collection('patient_keys');
    await col.insertMany(
      keys.map(([kid, patientId]) => ({ _id: kid as never, tenantId: 't1', patientId, wrapped, createdAt: new Date() })),
    );
    await col.createIndex({ tenantId: 1, patientId: 1 });
    return { conn, col };
  }

  it('init replaces an older non-unique {tenantId, patientId} index and keeps the keys', async () => {
    const { conn, col } = await olderRecordsDb('pkeys-old', [
      ['pk-1', 'p1'],
      ['pk-2', 'p2'],
    ]);
    const store = new MongoPatientKeyStore(conn, 'kid');
    expect(await store.init()).toEqual({ unique: true, patientsWithSeveralKeys: 0 });
    const ix = (await col.indexes()).find((i) => i.name === 'tenantId_1_patientId_1');
    expect(ix?.unique).toBe(true);
    expect(await col.countDocuments({})).toBe(2);
    expect((await store.findPatientKeyOf('t1', 'p1'))?.kid).toBe('pk-1');
    expect(await store.insertPatientKey('t1', { kid: 'pk-3', patientId: 'p1', wrapped })).toBe(false);
    // A second replica's init (index already unique) is a no-op.
    expect(await new MongoPatientKeyStore(conn, 'kid').init()).toEqual({ unique: true, patientsWithSeveralKeys: 0 });
  });

  it('init leaves data holding two keys of one patient untouched and does not fail', async () => {
    const { conn, col } = await olderRecordsDb('pkeys-dup', [
      ['pk-1', 'p1'],
      ['pk-2', 'p1'],
    ]);
    const logged: unknown[] = [];
    const logger = testLogger();
    logger.error = ((obj: unknown) => void logged.push(obj)) as typeof logger.error;
    expect(await new MongoPatientKeyStore(conn, 'kid').init(logger)).toEqual({ unique: false, patientsWithSeveralKeys: 1 });
    expect(logged).toEqual([{ patientsWithSeveralKeys: 1 }]);
    expect(await col.countDocuments({})).toBe(2);
    expect((await col.indexes()).find((i) => i.name === 'tenantId_1_patientId_1')?.unique).toBeFalsy();
  });
});
