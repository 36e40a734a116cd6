// Every query records sends searches an index (issue 10, docs/decisions/0004): the service
// runs against its own patched FerretDB, its requests are driven through the API, every
// distinct query shape its repositories sent is recorded, and SQLite's plan for each must
// be an index search. A new repository query without a fitting index fails here.
import request from 'supertest';
import { uuidv7 } from '@praxis/platform';
import { bearer, onPrivateFerretDb, proveQueriesIndexed } from './testing';
import { startHarness } from './harness';

describe('records: every query shape searches an index', () => {
  const harness = onPrivateFerretDb(() => startHarness());

  it('patients, notes, templates and subject-data requests', async () => {
    const h = harness();
    // No allowed scans: the outbox relay's `{_outboxPending: true}` searches the index it creates.
    await proveQueriesIndexed(
      h.mongo,
      async () => {
        const t = h.tenant();
        const api = () => request(h.records.app);
        const other = h.tenant();
        await api()
          .post('/api/v1/patients')
          .set(bearer(other.admin.token))
          .send({ givenName: 'Olga', familyName: 'Other', birthDate: '1970-01-01' });

        const created = await api()
          .post('/api/v1/patients')
          .set(bearer(t.admin.token))
          .send({ givenName: 'Ida', familyName: 'Index', birthDate: '1980-01-01' });
        expect(created.status).toBe(201);
        const id: string = created.body.id;
        for (let i = 0; i < 3; i++)
          await api()
            .post('/api/v1/patients')
            .set(bearer(t.receptionist.token))
            .send({ givenName: `P${i}`, familyName: 'Page', birthDate: '1990-01-01' });
        expect((await api().get(`/api/v1/patients/${id}`).set(bearer(t.clinician.token))).status).toBe(200);
        const page = await api().get('/api/v1/patients?limit=2').set(bearer(t.admin.token));
        expect(page.body.next).toEqual(expect.any(String));
        expect((await api().get(`/api/v1/patients?limit=2&cursor=${page.body.next}`).set(bearer(t.admin.token))).status).toBe(200);
        expect(
          (await api().get('/api/v1/patients').query({ familyName: 'index' }).set(bearer(t.receptionist.token))).body.items,
        ).toHaveLength(1);
        expect(
          (await api().get('/api/v1/patients').query({ ref: created.body.ref }).set(bearer(t.receptionist.token))).body.items,
        ).toHaveLength(1);
        expect((await api().patch(`/api/v1/patients/${id}`).set(bearer(t.admin.token)).send({ givenName: 'Ida Maria' })).status).toBe(200);

        const note = await api().post(`/api/v1/patients/${id}/notes`).set(bearer(t.clinician.token)).send({ title: 'Visit', body: 'v1' });
        expect(note.status).toBe(201);
        const noteId: string = note.body.id;
        await api()
          .post(`/api/v1/patients/${id}/notes/${noteId}/amendments`)
          .set(bearer(t.clinician.token))
          .send({ title: 'Visit', body: 'v2', reason: 'typo' });
        await api().put(`/api/v1/patients/${id}/notes/${noteId}`).set(bearer(t.clinician.token)).send({ title: 'Visit', body: 'v3' });
        expect((await api().get(`/api/v1/patients/${id}/notes/${noteId}`).set(bearer(t.clinician.token))).status).toBe(200);
        expect((await api().get(`/api/v1/patients/${id}/notes/${noteId}/versions`).set(bearer(t.clinician.token))).status).toBe(200);
        expect((await api().get(`/api/v1/patients/${id}/notes?limit=1`).set(bearer(t.clinician.token))).status).toBe(200);

        const tpl = await api()
          .post('/api/v1/templates')
          .set(bearer(t.admin.token))
          .send({ name: 'Reminder', channel: 'sms', body: 'Ref {{patient.ref}}' });
        expect(tpl.status).toBe(201);
        expect((await api().get('/api/v1/templates').set(bearer(t.admin.token))).status).toBe(200);
        expect((await api().get(`/api/v1/templates/${tpl.body.id}`).set(bearer(t.admin.token))).status).toBe(200);
        expect(
          (await api().post(`/api/v1/templates/${tpl.body.id}/render`).set(bearer(t.admin.token)).send({ patientId: id, variables: {} }))
            .status,
        ).toBe(200);

        expect((await api().get(`/api/v1/internal/patients/${id}/export`).set(bearer(t.service))).status).toBe(200);
        const erasure = await api().post(`/api/v1/internal/patients/${id}/erasure`).set(bearer(t.service)).send({ erasureId: uuidv7() });
        expect(erasure.status).toBe(200);
        expect((await api().get(`/api/v1/patients/${id}`).set(bearer(t.clinician.token))).status).toBe(404);
        await h.waitForEvent((e) => e.tenantId === t.tenantId && e.type === 'records.patient.erased', 'patient.erased');
      },
      { searches: 10 },
    );
  }, 180_000);
});
