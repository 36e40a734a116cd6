import request from 'supertest';
import { bearer } from './testing';
import { type Harness, startHarness } from './harness';

describe('clinical notes: versioned, never overwritten', () => {
  let h: Harness;
  let t: ReturnType<Harness['tenant']>;
  let patientId: string;
  const api = () => request(h.records.app);

  beforeAll(async () => {
    h = await startHarness();
    t = h.tenant();
    patientId = (
      await api()
        .post('/api/v1/patients')
        .set(bearer(t.admin.token))
        .send({ givenName: 'Nora', familyName: 'Notes', birthDate: '1960-06-06' })
    ).body.id;
  });
  afterAll(() => h.close());

  it('writes a note and reads it back, as on create', async () => {
    const res = await api()
      .post(`/api/v1/patients/${patientId}/notes`)
      .set(bearer(t.clinician.token))
      .send({ title: 'Consultation', body: 'BP 120/80.\nReview in 6 weeks.' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.any(String),
      patientId,
      title: 'Consultation',
      body: 'BP 120/80.\nReview in 6 weeks.',
      authorId: t.clinician.id,
      version: 1,
    });
    expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
    const one = await api().get(`/api/v1/patients/${patientId}/notes/${res.body.id}`).set(bearer(t.admin.token));
    expect(one.status).toBe(200);
    expect(one.body).toEqual(res.body);
  });

  it('amends by appending versions: reads show the latest, the history keeps every one', async () => {
    const created = await api()
      .post(`/api/v1/patients/${patientId}/notes`)
      .set(bearer(t.clinician.token))
      .send({ title: 'Plan', body: 'v1 text' });
    const id = created.body.id;
    const a2 = await api()
      .post(`/api/v1/patients/${patientId}/notes/${id}/amendments`)
      .set(bearer(t.admin.token))
      .send({ title: 'Plan', body: 'v2 text', reason: 'dose corrected' });
    expect(a2.status).toBe(201);
    expect(a2.body).toMatchObject({
      id,
      version: 2,
      body: 'v2 text',
      authorId: t.clinician.id,
      updatedBy: t.admin.id,
      createdAt: created.body.createdAt,
    });
    const a3 = await api()
      .put(`/api/v1/patients/${patientId}/notes/${id}`)
      .set(bearer(t.clinician.token))
      .send({ title: 'Plan (final)', body: 'v3 text' });
    expect(a3.status).toBe(200);
    expect(a3.body).toMatchObject({ version: 3, title: 'Plan (final)', body: 'v3 text' });

    const latest = await api().get(`/api/v1/patients/${patientId}/notes/${id}`).set(bearer(t.clinician.token));
    expect(latest.body).toMatchObject({ version: 3, body: 'v3 text' });
    const history = await api().get(`/api/v1/patients/${patientId}/notes/${id}/versions`).set(bearer(t.clinician.token));
    expect(history.status).toBe(200);
    expect(history.body.items.map((v: { version: number; body: string; authorId: string }) => [v.version, v.body, v.authorId])).toEqual([
      [1, 'v1 text', t.clinician.id],
      [2, 'v2 text', t.admin.id],
      [3, 'v3 text', t.clinician.id],
    ]);
    expect(history.body.items[1].reason).toBe('dose corrected');

    const list = await api().get(`/api/v1/patients/${patientId}/notes`).set(bearer(t.clinician.token));
    const inList = list.body.items.find((n: { id: string }) => n.id === id);
    expect(inList).toEqual(latest.body);
  });

  it('refuses an amendment based on a stale version with 409, so nothing is silently overwritten', async () => {
    const created = await api()
      .post(`/api/v1/patients/${patientId}/notes`)
      .set(bearer(t.clinician.token))
      .send({ title: 'Race', body: 'v1' });
    const id = created.body.id;
    const first = await api()
      .post(`/api/v1/patients/${patientId}/notes/${id}/amendments`)
      .set(bearer(t.clinician.token))
      .send({ title: 'Race', body: 'mine', expectedVersion: 1 });
    expect(first.status).toBe(201);
    const second = await api()
      .post(`/api/v1/patients/${patientId}/notes/${id}/amendments`)
      .set(bearer(t.admin.token))
      .send({ title: 'Race', body: 'theirs', expectedVersion: 1 });
    expect(second.status).toBe(409);
    const history = await api().get(`/api/v1/patients/${patientId}/notes/${id}/versions`).set(bearer(t.clinician.token));
    expect(history.body.items.map((v: { body: string }) => v.body)).toEqual(['v1', 'mine']);
  });

  it('keeps every concurrent amendment as its own version', async () => {
    const id = (await api().post(`/api/v1/patients/${patientId}/notes`).set(bearer(t.clinician.token)).send({ title: 'Busy', body: 'v1' }))
      .body.id;
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        api()
          .post(`/api/v1/patients/${patientId}/notes/${id}/amendments`)
          .set(bearer(t.clinician.token))
          .send({ title: 'Busy', body: `concurrent ${i}` }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    const history = await api().get(`/api/v1/patients/${patientId}/notes/${id}/versions`).set(bearer(t.clinician.token));
    expect(history.body.items.map((v: { version: number }) => v.version)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(history.body.items.slice(1).map((v: { body: string }) => v.body)).size).toBe(5);
  });

  it('pages the note list', async () => {
    const p = (
      await api()
        .post('/api/v1/patients')
        .set(bearer(t.admin.token))
        .send({ givenName: 'Paula', familyName: 'Pages', birthDate: '1960-06-06' })
    ).body.id;
    for (let i = 0; i < 3; i++)
      await api()
        .post(`/api/v1/patients/${p}/notes`)
        .set(bearer(t.clinician.token))
        .send({ title: `n${i}`, body: 'b' });
    const first = await api().get(`/api/v1/patients/${p}/notes?limit=2`).set(bearer(t.clinician.token));
    expect(first.body.items).toHaveLength(2);
    const rest = await api().get(`/api/v1/patients/${p}/notes?limit=2&cursor=${first.body.next}`).set(bearer(t.clinician.token));
    expect(rest.body.items).toHaveLength(1);
    expect(rest.body.next).toBeUndefined();
  });

  it('answers 404 for unknown notes and notes of another patient', async () => {
    const noteId = (
      await api().post(`/api/v1/patients/${patientId}/notes`).set(bearer(t.clinician.token)).send({ title: 'Mine', body: 'b' })
    ).body.id;
    const otherPatient = (
      await api().post('/api/v1/patients').set(bearer(t.admin.token)).send({ givenName: 'O', familyName: 'Ther', birthDate: '1960-06-06' })
    ).body.id;
    expect((await api().get(`/api/v1/patients/${otherPatient}/notes/${noteId}`).set(bearer(t.clinician.token))).status).toBe(404);
    expect(
      (
        await api()
          .post(`/api/v1/patients/${otherPatient}/notes/${noteId}/amendments`)
          .set(bearer(t.clinician.token))
          .send({ title: 'x', body: 'y' })
      ).status,
    ).toBe(404);
    expect((await api().get(`/api/v1/patients/${patientId}/notes/note_nope`).set(bearer(t.clinician.token))).status).toBe(404);
    expect((await api().get(`/api/v1/patients/pat_nope/notes`).set(bearer(t.clinician.token))).status).toBe(404);
  });

  it.each([
    ['an unknown field', { title: 't', body: 'b', authorId: 'someone-else' }],
    ['a missing body', { title: 't' }],
    ['a $-operator', { title: { $gt: '' }, body: 'b' }],
  ])('refuses %s with 400', async (_w, body) => {
    expect((await api().post(`/api/v1/patients/${patientId}/notes`).set(bearer(t.clinician.token)).send(body)).status).toBe(400);
  });
});
