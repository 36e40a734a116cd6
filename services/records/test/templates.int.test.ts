import request from 'supertest';
import { bearer } from './testing';
import { type Harness, startHarness } from './harness';

describe('message templates', () => {
  let h: Harness;
  let t: ReturnType<Harness['tenant']>;
  let patient: { id: string; ref: string };
  const api = () => request(h.records.app);

  beforeAll(async () => {
    h = await startHarness();
    t = h.tenant();
    patient = (
      await api()
        .post('/api/v1/patients')
        .set(bearer(t.admin.token))
        .send({
          givenName: 'Tom <b>',
          familyName: "O'Hara & Sons",
          birthDate: '1975-01-02',
          address: { line1: '2 Low Rd', city: 'York', postcode: 'YO1 1AA' },
        })
    ).body;
  });
  afterAll(() => h.close());

  it('creates a template using the pseudonymous ref without warnings and renders it', async () => {
    const res = await api().post('/api/v1/templates').set(bearer(t.admin.token)).send({
      name: 'Reminder',
      channel: 'sms',
      body: 'Appointment {{appointment.date}} at {{ appointment.time }} with {{practice.name}}. Ref {{patient.ref}}',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: expect.any(String), name: 'Reminder', channel: 'sms', warnings: [] });
    const out = await api()
      .post(`/api/v1/templates/${res.body.id}/render`)
      .set(bearer(t.receptionist.token))
      .send({
        patientId: patient.id,
        variables: { appointment: { date: '2026-12-01', time: '09:30' }, practice: { name: 'Hill\nSurgery' } },
      });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ body: `Appointment 2026-12-01 at 09:30 with Hill Surgery. Ref ${patient.ref}` });
    const dotted = await api()
      .post(`/api/v1/templates/${res.body.id}/render`)
      .set(bearer(t.receptionist.token))
      .send({ patientId: patient.id, variables: { 'appointment.date': 'd', 'appointment.time': 't', 'practice.name': 'p' } });
    expect(dotted.body.body).toBe(`Appointment d at t with p. Ref ${patient.ref}`);
  });

  it('warns when identifying variables are used, and HTML-escapes values in email', async () => {
    const res = await api().post('/api/v1/templates').set(bearer(t.admin.token)).send({
      name: 'Letter',
      channel: 'email',
      subject: 'For {{patient.givenName}}',
      body: '<p>Dear {{patient.givenName}} {{patient.familyName}}, born {{patient.birthDate}}, of {{patient.address}} (ref {{patient.ref}})</p>',
    });
    expect(res.status).toBe(201);
    expect(res.body.warnings).toHaveLength(4);
    expect(res.body.warnings.join('\n')).toMatch(/given name[\s\S]*family name[\s\S]*date of birth[\s\S]*address/);
    const out = await api().post(`/api/v1/templates/${res.body.id}/render`).set(bearer(t.clinician.token)).send({ patientId: patient.id });
    expect(out.status).toBe(200);
    expect(out.body.subject).toBe('For Tom <b>');
    expect(out.body.body).toBe(
      `<p>Dear Tom &lt;b&gt; O&#39;Hara &amp; Sons, born 1975-01-02, of 2 Low Rd, York, YO1 1AA (ref ${patient.ref})</p>`,
    );
  });

  it('refuses unknown variables, malformed placeholders, subjects on SMS, and missing values', async () => {
    for (const body of [
      { name: 'x', channel: 'sms', body: '{{patient.nhsNumber}}' },
      { name: 'x', channel: 'sms', body: '{{patient.ref' },
      { name: 'x', channel: 'sms', subject: 's', body: 'b' },
      { name: 'x', channel: 'fax', body: 'b' },
      { name: 'x', channel: 'sms', body: 'b', extra: 1 },
    ]) {
      expect((await api().post('/api/v1/templates').set(bearer(t.admin.token)).send(body)).status).toBe(400);
    }
    const tpl = (
      await api().post('/api/v1/templates').set(bearer(t.admin.token)).send({ name: 'x', channel: 'sms', body: 'On {{appointment.date}}' })
    ).body.id;
    const missing = await api().post(`/api/v1/templates/${tpl}/render`).set(bearer(t.admin.token)).send({ patientId: patient.id });
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0].path).toBe('body.variables.appointment.date');
    expect(
      (
        await api()
          .post(`/api/v1/templates/${tpl}/render`)
          .set(bearer(t.admin.token))
          .send({ patientId: patient.id, variables: { patient: { ref: 'spoof' } } })
      ).status,
    ).toBe(400);
    expect(
      (
        await api()
          .post(`/api/v1/templates/${tpl}/render`)
          .set(bearer(t.admin.token))
          .send({ patientId: 'pat_nope', variables: { appointment: { date: 'x' } } })
      ).status,
    ).toBe(404);
  });

  it('lists and reads templates', async () => {
    const list = await api().get('/api/v1/templates').set(bearer(t.receptionist.token));
    expect(list.status).toBe(200);
    expect(list.body.items.length).toBeGreaterThanOrEqual(3);
    const one = await api().get(`/api/v1/templates/${list.body.items[0].id}`).set(bearer(t.receptionist.token));
    expect(one.body).toEqual(list.body.items[0]);
  });
});
