import type { EventEnvelope } from '@praxis/contracts';
import { KekRing, openString, uuidv7 } from '@praxis/platform';
import request from 'supertest';
import { bearer, waitFor } from './testing';
import { type Harness, startHarness } from './harness';
import { KeyDestroyedError, KeyService } from '../src/keys/key-service';
import { KeyRepository } from '../src/keys/model';

describe('data-subject rights: export, erasure by crypto-shredding, practice purge', () => {
  let h: Harness;
  let t: ReturnType<Harness['tenant']>;
  const api = () => request(h.records.app);
  const mine = (e: EventEnvelope) => e.tenantId === t.tenantId;
  const person = { givenName: 'Erin', familyName: 'Erasable', birthDate: '1988-08-08', mobile: '+447700900555' };

  async function patientWithNotes(notes: number, tenant = t) {
    const p = (await api().post('/api/v1/patients').set(bearer(tenant.admin.token)).send(person)).body;
    const noteIds: string[] = [];
    for (let i = 0; i < notes; i++)
      noteIds.push(
        (
          await api()
            .post(`/api/v1/patients/${p.id}/notes`)
            .set(bearer(tenant.clinician.token))
            .send({ title: `t${i}`, body: `b${i}` })
        ).body.id,
      );
    return { ...p, noteIds } as { id: string; ref: string; noteIds: string[] };
  }

  /** A key service with nothing cached: reads keys only from the database. */
  const freshKeys = () => new KeyService(new KeyRepository(h.mongo), new KekRing(h.kek));

  beforeAll(async () => {
    h = await startHarness();
    t = h.tenant();
  });
  afterAll(() => h.close());

  it('exports everything records holds about a patient to a service caller, and records the export', async () => {
    const p = await patientWithNotes(2);
    await api()
      .post(`/api/v1/patients/${p.id}/notes/${p.noteIds[0]}/amendments`)
      .set(bearer(t.clinician.token))
      .send({ title: 't0', body: 'b0 amended' });
    const requestId = uuidv7();
    const res = await api().get(`/api/v1/internal/patients/${p.id}/export?requestId=${requestId}`).set(bearer(t.service));
    expect(res.status).toBe(200);
    expect(res.body.patient).toMatchObject({ id: p.id, ref: p.ref, ...person });
    expect(res.body.notes).toHaveLength(2);
    const amended = res.body.notes.find((n: { id: string }) => n.id === p.noteIds[0]);
    expect(amended.versions.map((v: { body: string }) => v.body)).toEqual(['b0', 'b0 amended']);
    expect(amended.body).toBe('b0 amended');
    const e = await h.waitForEvent(
      (x) => mine(x) && x.type === 'records.patient.exported' && x.data.patientId === p.id,
      'patient.exported',
    );
    expect(e).toMatchObject({ actor: { kind: 'service' }, data: { patientId: p.id, requestId } });
    expect((await api().get('/api/v1/internal/patients/pat_nope/export').set(bearer(t.service))).status).toBe(404);
  });

  it('erases a patient: a raw copy of the record taken beforehand can no longer be decrypted', async () => {
    const p = await patientWithNotes(2);
    const rawPatient = (await h.mongo.collection('patients').findOne({ _id: p.id as never }))!;
    const rawNotes = await h.mongo.collection('note_versions').find({ patientId: p.id }).toArray();
    expect(rawNotes).toHaveLength(2);
    const aad = `patient|${t.tenantId}|${p.id}|givenName`;
    // Before: the copy opens with the keys in the database.
    const before = await freshKeys().patientKey(t.tenantId, p.id, rawPatient.keyId);
    expect(openString(before.key, rawPatient.pii.givenName, aad)).toBe(person.givenName);

    const erasureId = uuidv7();
    const res = await api().post(`/api/v1/internal/patients/${p.id}/erasure`).set(bearer(t.service)).send({ erasureId });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ erasureId, patientId: p.id, status: 'completed', notes: 2, documents: 3 });

    // After: the key is gone from the database, so the copy is unreadable for anyone holding
    // the KEK, the tenant key and every remaining key document.
    await expect(freshKeys().patientKey(t.tenantId, p.id, rawPatient.keyId)).rejects.toBeInstanceOf(KeyDestroyedError);
    await expect(h.records.keys.patientKey(t.tenantId, p.id, rawPatient.keyId)).rejects.toBeInstanceOf(KeyDestroyedError);
    expect(await h.mongo.collection('patient_keys').countDocuments({ patientId: p.id })).toBe(0);
    expect(await h.mongo.collection('patient_keys').countDocuments({ _id: rawPatient.keyId })).toBe(0);
    // No key that is left opens it either.
    const keys = freshKeys();
    for (const k of await h.mongo.collection('patient_keys').find({ tenantId: t.tenantId }).toArray()) {
      const other = await keys.patientKey(t.tenantId, k.patientId, String(k._id));
      expect(() => openString(other.key, { ...rawPatient.pii.givenName, kid: other.kid }, aad)).toThrow();
    }
    // The documents are gone and the patient answers 404 everywhere.
    expect(await h.mongo.collection('patients').countDocuments({ _id: p.id as never })).toBe(0);
    expect(await h.mongo.collection('note_versions').countDocuments({ patientId: p.id })).toBe(0);
    expect((await api().get(`/api/v1/patients/${p.id}`).set(bearer(t.admin.token))).status).toBe(404);
    expect((await api().get(`/api/v1/patients/${p.id}/notes`).set(bearer(t.admin.token))).status).toBe(404);
    expect((await api().get(`/api/v1/patients?ref=${p.ref}`).set(bearer(t.admin.token))).body.items).toEqual([]);
    expect((await api().get(`/api/v1/internal/patients/${p.id}/export`).set(bearer(t.service))).status).toBe(404);

    const erased = await h.waitForEvent(
      (e) => mine(e) && e.type === 'records.patient.erased' && e.data.erasureId === erasureId,
      'patient.erased',
    );
    expect(erased.data).toEqual({ erasureId, patientId: p.id, notes: 2, documents: 3 });
    expect(JSON.stringify(erased)).not.toMatch(/Erin|Erasable|1988-08-08|447700900555/);
    // The tombstone is non-identifying: ids, time, actor, counts.
    const tomb = await h.mongo.collection('erasures').findOne({ tenantId: t.tenantId, erasureId });
    expect(Object.keys(tomb!).sort()).toEqual(
      [
        '_id',
        '_outbox',
        '_outboxPending',
        'actor',
        'completedAt',
        'counts',
        'erasureId',
        'patientId',
        'startedAt',
        'status',
        'tenantId',
      ].sort(),
    );

    // Repeating the request answers the same, and publishes nothing new.
    const again = await api().post(`/api/v1/internal/patients/${p.id}/erasure`).set(bearer(t.service)).send({ erasureId });
    expect(again.body).toEqual(res.body);
    const other = await api().post(`/api/v1/internal/patients/${p.id}/erasure`).set(bearer(t.service)).send({});
    expect(other.status).toBe(200);
    expect(other.body).toMatchObject({ erasureId, notes: 2 });
  });

  it('resumes an erasure interrupted after shredding: meanwhile the patient answers 404, not 500', async () => {
    const p = await patientWithNotes(1);
    // As if the process died right after destroying the key.
    await h.records.keys.destroyPatientKeys(t.tenantId, p.id);
    expect((await api().get(`/api/v1/patients/${p.id}`).set(bearer(t.admin.token))).status).toBe(404);
    expect((await api().get(`/api/v1/patients/${p.id}/notes`).set(bearer(t.clinician.token))).status).toBe(404);
    const list = await api().get(`/api/v1/patients?familyName=${person.familyName}&limit=200`).set(bearer(t.admin.token));
    expect(list.status).toBe(200);
    expect(list.body.items.map((x: { id: string }) => x.id)).not.toContain(p.id);
    const res = await api().post(`/api/v1/internal/patients/${p.id}/erasure`).set(bearer(t.service)).send({});
    expect(res.body).toMatchObject({ status: 'completed', notes: 1, documents: 2 });
    expect(await h.mongo.collection('patients').countDocuments({ _id: p.id as never })).toBe(0);
  });

  it('erases on consent.erasure-request.created, once, even when the request is delivered twice', async () => {
    const p = await patientWithNotes(1);
    const erasureId = uuidv7();
    const request1 = await h.publish({
      type: 'consent.erasure-request.created',
      tenantId: t.tenantId,
      actor: { kind: 'user', id: t.admin.id },
      data: { erasureId, patientId: p.id },
    });
    const erased = await h.waitForEvent(
      (e) => mine(e) && e.type === 'records.patient.erased' && e.data.erasureId === erasureId,
      'patient.erased via bus',
    );
    expect(erased).toMatchObject({
      actor: { kind: 'user', id: t.admin.id },
      subject: { patientId: p.id },
      data: { patientId: p.id, notes: 1, documents: 2 },
    });
    expect((await api().get(`/api/v1/patients/${p.id}`).set(bearer(t.admin.token))).status).toBe(404);
    // The same request again (new event id, same erasure id): no second erasure event.
    await h.publish({
      type: 'consent.erasure-request.created',
      tenantId: t.tenantId,
      actor: { kind: 'user', id: t.admin.id },
      data: { erasureId, patientId: p.id },
    });
    expect(request1.id).toEqual(expect.any(String));
    await new Promise((r) => setTimeout(r, 700));
    // At-least-once delivery may repeat an event; it must be the same event (same id), not a second erasure.
    expect(
      new Set(h.events.filter((e) => e.type === 'records.patient.erased' && e.data.erasureId === erasureId).map((e) => e.id)).size,
    ).toBe(1);
  });

  it('answers an erasure request for a patient it never held with an empty erasure, so the orchestrator hears back', async () => {
    const erasureId = uuidv7();
    await h.publish({
      type: 'consent.erasure-request.created',
      tenantId: t.tenantId,
      actor: { kind: 'user', id: t.admin.id },
      data: { erasureId, patientId: 'pat_neverheld' },
    });
    const erased = await h.waitForEvent(
      (e) => mine(e) && e.type === 'records.patient.erased' && e.data.erasureId === erasureId,
      'empty erasure',
    );
    expect(erased.data).toEqual({ erasureId, patientId: 'pat_neverheld', notes: 0, documents: 0 });
  });

  it('destroys a purged practice: tenant key first, then every patient, note and template', async () => {
    const gone = h.tenant();
    const p1 = await patientWithNotes(2, gone);
    await patientWithNotes(0, gone);
    await api().post('/api/v1/templates').set(bearer(gone.admin.token)).send({ name: 'x', channel: 'sms', body: '{{patient.ref}}' });
    const rawPatient = (await h.mongo.collection('patients').findOne({ _id: p1.id as never }))!;
    const survivor = await patientWithNotes(1);

    await h.publish({
      type: 'auth.tenant.purged',
      tenantId: gone.tenantId,
      actor: { kind: 'system', id: 'auth' },
      data: { tenantId: gone.tenantId },
    });
    const destroyed = await h.waitForEvent(
      (e) => e.tenantId === gone.tenantId && e.type === 'records.tenant.destroyed',
      'tenant.destroyed',
    );
    expect(destroyed.data).toEqual({ patients: 2 });

    const tenantKey = await h.mongo.collection('tenant_keys').findOne({ _id: gone.tenantId as never });
    expect(tenantKey).toMatchObject({ destroyedAt: expect.any(Date) });
    expect(tenantKey!.wrapped).toBeUndefined();
    for (const col of ['patients', 'note_versions', 'patient_keys', 'templates']) {
      expect({ col, n: await h.mongo.collection(col).countDocuments({ tenantId: gone.tenantId }) }).toEqual({ col, n: 0 });
    }
    await expect(freshKeys().patientKey(gone.tenantId, p1.id, rawPatient.keyId)).rejects.toBeInstanceOf(KeyDestroyedError);
    // A stale token cannot start the practice's data again.
    expect((await api().post('/api/v1/patients').set(bearer(gone.admin.token)).send(person)).status).toBe(404);
    expect(
      (await api().post('/api/v1/templates').set(bearer(gone.admin.token)).send({ name: 'x', channel: 'sms', body: 'x' })).status,
    ).toBe(404);
    expect((await api().get('/api/v1/patients').set(bearer(gone.admin.token))).body.items).toEqual([]);
    // Another practice is untouched.
    expect((await api().get(`/api/v1/patients/${survivor.id}/notes`).set(bearer(t.clinician.token))).body.items).toHaveLength(1);
    await waitFor(
      async () => (await h.mongo.collection('tenant_purges').countDocuments({ _id: gone.tenantId as never, status: 'completed' })) === 1,
      { what: 'purge tombstone' },
    );
  });
});
