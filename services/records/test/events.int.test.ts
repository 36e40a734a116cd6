import type { EventEnvelope } from '@praxis/contracts';
import request from 'supertest';
import { bearer, waitFor } from './testing';
import { type Harness, startHarness } from './harness';

describe('events: every change through the outbox, every read recorded before the answer', () => {
  let h: Harness;
  let t: ReturnType<Harness['tenant']>;
  const api = () => request(h.records.app);
  const names = { givenName: 'Evelyn', familyName: 'Eventful', birthDate: '1955-05-05', email: 'evelyn@example.org' };
  const mine = (e: EventEnvelope) => e.tenantId === t.tenantId;

  beforeAll(async () => {
    h = await startHarness();
    t = h.tenant();
  });
  afterAll(() => h.close());

  it('publishes created, viewed, searched and updated events for patients, with ids only', async () => {
    const created = await api().post('/api/v1/patients').set(bearer(t.receptionist.token)).send(names);
    const id = created.body.id;
    await api().get(`/api/v1/patients/${id}`).set(bearer(t.clinician.token));
    await api().get('/api/v1/patients?familyName=eventful').set(bearer(t.admin.token));
    await api().patch(`/api/v1/patients/${id}`).set(bearer(t.admin.token)).send({ email: 'new@example.org' });

    const c = await h.waitForEvent((e) => mine(e) && e.type === 'records.patient.created' && e.data.patientId === id, 'patient.created');
    expect(c).toMatchObject({
      actor: { kind: 'user', id: t.receptionist.id },
      subject: { patientId: id },
      data: { patientId: id, test: false },
    });
    const v = await h.waitForEvent(
      (e) => mine(e) && e.type === 'records.patient.viewed' && e.actor.id === t.clinician.id,
      'patient.viewed',
    );
    expect(v).toMatchObject({ subject: { patientId: id }, data: { patientId: id } });
    const s = await h.waitForEvent((e) => mine(e) && e.type === 'records.patient.searched', 'patient.searched');
    expect(s.data).toEqual({ by: 'familyName', results: 1 });
    await h.waitForEvent(
      (e) => mine(e) && e.type === 'records.patient.viewed' && e.actor.id === t.admin.id && e.correlationId === s.correlationId,
      'view per search result',
    );
    const u = await h.waitForEvent((e) => mine(e) && e.type === 'records.patient.updated', 'patient.updated');
    expect(u.data).toEqual({ patientId: id, fields: ['email'] });

    const all = JSON.stringify(h.events.filter(mine));
    for (const value of Object.values(names)) expect(all).not.toContain(value);
    expect(all).not.toContain('new@example.org');
    expect(all).not.toContain(created.body.ref);
  });

  it('publishes note created, amended and viewed events without any note text', async () => {
    const patientId = (await api().post('/api/v1/patients').set(bearer(t.admin.token)).send(names)).body.id;
    const note = await api()
      .post(`/api/v1/patients/${patientId}/notes`)
      .set(bearer(t.clinician.token))
      .send({ title: 'Secret title', body: 'Secret body' });
    await api()
      .post(`/api/v1/patients/${patientId}/notes/${note.body.id}/amendments`)
      .set(bearer(t.clinician.token))
      .send({ title: 'Secret title', body: 'Secret body 2' });
    await api().get(`/api/v1/patients/${patientId}/notes/${note.body.id}`).set(bearer(t.admin.token));
    await api().get(`/api/v1/patients/${patientId}/notes`).set(bearer(t.admin.token));
    const noteId = note.body.id;
    expect(
      (await h.waitForEvent((e) => mine(e) && e.type === 'records.note.created' && e.data.noteId === noteId, 'note.created')).data,
    ).toEqual({ patientId, noteId, version: 1 });
    expect(
      (await h.waitForEvent((e) => mine(e) && e.type === 'records.note.amended' && e.data.noteId === noteId, 'note.amended')).data,
    ).toEqual({ patientId, noteId, version: 2 });
    await h.waitForEvent((e) => mine(e) && e.type === 'records.note.viewed' && e.data.noteId === noteId, 'note.viewed (one)');
    await h.waitForEvent(
      (e) => mine(e) && e.type === 'records.note.viewed' && e.data.patientId === patientId && e.data.noteId === undefined,
      'note.viewed (list)',
    );
    expect(JSON.stringify(h.events.filter(mine))).not.toMatch(/Secret/);
  });

  it('publishes template created and rendered events', async () => {
    const patientId = (await api().post('/api/v1/patients').set(bearer(t.admin.token)).send(names)).body.id;
    const tpl = (
      await api().post('/api/v1/templates').set(bearer(t.admin.token)).send({ name: 'T', channel: 'sms', body: '{{patient.ref}}' })
    ).body.id;
    await api().post(`/api/v1/templates/${tpl}/render`).set(bearer(t.receptionist.token)).send({ patientId });
    await h.waitForEvent((e) => mine(e) && e.type === 'records.template.created' && e.data.templateId === tpl, 'template.created');
    const r = await h.waitForEvent(
      (e) => mine(e) && e.type === 'records.template.rendered' && e.data.templateId === tpl,
      'template.rendered',
    );
    expect(r).toMatchObject({ actor: { id: t.receptionist.id }, subject: { patientId }, data: { templateId: tpl, patientId } });
  });

  it('marks support-mode access with the real actor', async () => {
    const token = t.support('settings');
    const created = await api()
      .post('/api/v1/patients')
      .set(bearer(token))
      .send({ ...names, test: true });
    const e = await h.waitForEvent(
      (x) => mine(x) && x.type === 'records.patient.created' && x.data.patientId === created.body.id,
      'support create',
    );
    expect(e.actor).toMatchObject({ kind: 'support', onBehalfOf: t.tenantId });
  });

  it('keeps events while the relay is down: a view is durable before the answer, and everything is published once it is back', async () => {
    await h.records.relay.stop();
    try {
      const created = await api().post('/api/v1/patients').set(bearer(t.admin.token)).send(names);
      const id = created.body.id;
      // Concurrent reads are group-committed; each answer still waits for its own event.
      const views = await Promise.all(Array.from({ length: 8 }, () => api().get(`/api/v1/patients/${id}`).set(bearer(t.admin.token))));
      expect(views.map((v) => v.status)).toEqual(Array(8).fill(200));
      // The view events are already in the database, before anyone relayed them.
      const stored = await h.mongo.collection('outbox').find({ '_outbox.subject.patientId': id }).toArray();
      const viewed = stored.flatMap((d) => d._outbox as EventEnvelope[]).filter((e) => e.subject?.patientId === id);
      expect(viewed.map((e) => e.type)).toEqual(Array(8).fill('records.patient.viewed'));
      expect(new Set(viewed.map((e) => e.id)).size).toBe(8);
      const doc = await h.mongo.collection('patients').findOne({ _id: id as never });
      expect(doc!._outboxPending).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      expect(h.events.some((e) => e.subject?.patientId === id)).toBe(false);
      h.records.relay.start();
      await waitFor(
        () =>
          h.events.some((e) => e.type === 'records.patient.created' && e.subject?.patientId === id) &&
          new Set(h.events.filter((e) => e.type === 'records.patient.viewed' && e.subject?.patientId === id).map((e) => e.id)).size === 8,
        { what: 'every event after restart' },
      );
      await waitFor(async () => (await h.mongo.collection('patients').countDocuments({ _id: id as never, _outboxPending: true })) === 0, {
        what: 'outbox drained',
      });
    } finally {
      h.records.relay.start();
    }
  });
});
