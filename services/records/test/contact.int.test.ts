// The internal routes messaging uses: contact details and rendering for a service caller
// (role `service`, permission `internal:patient-contact`), recorded as accesses.
import request from 'supertest';
import { type Harness, startHarness } from './harness';
import { bearer } from './testing';

describe('internal contact and render routes for messaging', () => {
  let h: Harness;
  let t: ReturnType<Harness['tenant']>;
  const api = () => request(h.records.app);

  beforeAll(async () => {
    h = await startHarness();
    t = h.tenant();
  });
  afterAll(() => h.close());

  it('gives a service the contact details and ref, records the access, and 404s another practice', async () => {
    const p = (
      await api()
        .post('/api/v1/patients')
        .set(bearer(t.admin.token))
        .send({ givenName: 'Cal', familyName: 'Contact', birthDate: '1980-02-02', email: 'cal@example.org', mobile: '+447911123456' })
    ).body;
    const res = await api().get(`/api/v1/internal/patients/${p.id}/contact`).set(bearer(t.service));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ patientId: p.id, ref: p.ref, email: 'cal@example.org', mobile: '+447911123456', test: false });
    const viewed = await h.waitForEvent(
      (e) => e.type === 'records.patient.viewed' && e.data.patientId === p.id && e.actor.kind === 'service',
      'viewed by service',
    );
    expect(viewed.actor).toEqual({ kind: 'service', id: 'svc_consent' });
    const other = h.tenant();
    expect((await api().get(`/api/v1/internal/patients/${p.id}/contact`).set(bearer(other.service))).status).toBe(404);
    // Staff cannot use it, a service cannot use the public routes.
    expect((await api().get(`/api/v1/internal/patients/${p.id}/contact`).set(bearer(t.admin.token))).status).toBe(403);
    expect((await api().get(`/api/v1/patients/${p.id}`).set(bearer(t.service))).status).toBe(403);
  });

  it('renders a template for a service, with its channel', async () => {
    const p = (
      await api().post('/api/v1/patients').set(bearer(t.admin.token)).send({ givenName: 'Ren', familyName: 'Der', birthDate: '1980-02-02' })
    ).body;
    const tpl = (
      await api()
        .post('/api/v1/templates')
        .set(bearer(t.admin.token))
        .send({ name: 'x', channel: 'email', subject: 'Hi {{patient.ref}}', body: '<p>{{practice.name}}</p>' })
    ).body;
    const res = await api()
      .post(`/api/v1/internal/templates/${tpl.id}/render`)
      .set(bearer(t.service))
      .send({ patientId: p.id, variables: { 'practice.name': 'A & B' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ channel: 'email', subject: `Hi ${p.ref}`, body: '<p>A &amp; B</p>' });
    expect(
      (await api().post(`/api/v1/internal/templates/${tpl.id}/render`).set(bearer(t.service)).send({ patientId: 'pat_nope' })).status,
    ).toBe(404);
    expect((await api().post(`/api/v1/internal/templates/tpl_nope/render`).set(bearer(t.service)).send({ patientId: p.id })).status).toBe(
      404,
    );
  });
});
