// The direct-message lifecycle: created sealed, the link emailed (Mailpit) and the code
// texted (simulator); the link shows practice and subject only; the code opens it; five
// wrong codes lock it (423); after the expiry it is 410. Every open is an event.
import request from 'supertest';
import { type Harness, mobile, startHarness } from './harness';
import { bearer, waitFor } from './testing';

jest.setTimeout(120_000);

describe('direct messages', () => {
  let h: Harness;
  let t: ReturnType<Harness['tenant']>;
  const api = () => request(h.messaging.app);

  beforeAll(async () => {
    h = await startHarness();
    t = h.tenant();
    await h.buy(t, 20);
  });
  afterAll(() => h?.close());

  async function create(subject = 'Your test results') {
    const address = `dm-${Date.now()}-${Math.random().toString(36).slice(2, 6)}@example.org`;
    const number = mobile();
    const p = await h.patient(t, { email: address, mobile: number });
    const res = await api()
      .post('/api/v1/direct-messages')
      .set(bearer(t.clinician.token))
      .send({ patientId: p.id, subject, body: 'Your cholesterol is 4.1 mmol/L: all fine.' });
    expect(res.status).toBe(201);
    const mails = await waitFor(async () => ((await h.mail.to(address)).length ? h.mail.to(address) : undefined), { what: 'DM email' });
    const mail = await h.mail.message(mails[0]!.ID);
    const token = /#\/dm\/([A-Za-z0-9_-]+)/.exec(mail.HTML)![1]!;
    const sms = await waitFor(() => h.twilio.messages.find((m) => m.to === number), { what: 'DM code text' });
    const code = /\b(\d{6})\b/.exec(sms.body)![1]!;
    return { id: res.body.id as string, expiresAt: res.body.expiresAt as string, token, code, mail, sms };
  }

  it('emails a link and texts a code; the link shows practice and subject only; the code opens the body', async () => {
    const dm = await create();
    expect(new Date(dm.expiresAt).getTime() - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    expect(dm.mail.Text + dm.mail.HTML).not.toContain('cholesterol');
    expect(dm.sms.body).not.toContain('cholesterol');
    const view = await api().get(`/api/v1/dm/${dm.token}`);
    expect(view.status).toBe(200);
    expect(view.body).toEqual({ practice: 'Riverside Surgery', subject: 'Your test results', expiresAt: dm.expiresAt });
    const opened = await api().post(`/api/v1/dm/${dm.token}/unlock`).send({ code: dm.code });
    expect(opened.status).toBe(200);
    expect(opened.body).toEqual({
      practice: 'Riverside Surgery',
      subject: 'Your test results',
      body: 'Your cholesterol is 4.1 mmol/L: all fine.',
    });
    await h.waitForEvent((e) => e.type === 'messaging.direct-message.opened' && e.data.directMessageId === dm.id, 'opened');
    const unlocked = await h.waitForEvent(
      (e) => e.type === 'messaging.direct-message.unlocked' && e.data.directMessageId === dm.id,
      'unlocked',
    );
    expect(unlocked.actor).toEqual({ kind: 'patient', id: dm.id });
    expect((await api().get('/api/v1/dm/notarealtokenatallxxxxxxxxx')).status).toBe(404);
  });

  it('answers 401 for a wrong code and locks after five (423), even for the right code', async () => {
    const dm = await create('Locked one');
    const wrong = dm.code === '000000' ? '111111' : '000000';
    for (let i = 1; i <= 4; i++) expect((await api().post(`/api/v1/dm/${dm.token}/unlock`).send({ code: wrong })).status).toBe(401);
    const fifth = await api().post(`/api/v1/dm/${dm.token}/unlock`).send({ code: wrong });
    expect(fifth.status).toBe(423);
    expect((await api().post(`/api/v1/dm/${dm.token}/unlock`).send({ code: dm.code })).status).toBe(423);
    expect((await api().get(`/api/v1/dm/${dm.token}`)).status).toBe(423);
    await h.waitForEvent((e) => e.type === 'messaging.direct-message.locked' && e.data.directMessageId === dm.id, 'locked');
    expect((await api().post(`/api/v1/dm/${dm.token}/unlock`).send({ code: '12345' })).status).toBe(400);
  });

  it('counts concurrent wrong guesses exactly: ten at once let no sixth guess through', async () => {
    const dm = await create('Raced');
    const wrong = dm.code === '000000' ? '111111' : '000000';
    const answers = await Promise.all(Array.from({ length: 10 }, () => api().post(`/api/v1/dm/${dm.token}/unlock`).send({ code: wrong })));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(4);
    expect(statuses.filter((s) => s === 423).length).toBeGreaterThanOrEqual(6);
    expect(await h.mongo.collection('dm_failures').countDocuments({ dmId: dm.id })).toBe(5);
  });

  it('is gone (410) once it expired', async () => {
    const dm = await create('Expiring');
    // Seven days pass.
    await h.mongo.collection('direct_messages').updateOne({ _id: dm.id as never }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await api().get(`/api/v1/dm/${dm.token}`)).status).toBe(410);
    expect((await api().post(`/api/v1/dm/${dm.token}/unlock`).send({ code: dm.code })).status).toBe(410);
  });

  it('needs an email and a mobile, and SMS credit for the code', async () => {
    const p = await h.patient(t, { email: 'only@example.org' });
    expect(
      (await api().post('/api/v1/direct-messages').set(bearer(t.clinician.token)).send({ patientId: p.id, subject: 's', body: 'b' }))
        .status,
    ).toBe(422);
    const poor = h.tenant();
    const q = await h.patient(poor, { email: 'x@example.org', mobile: mobile() });
    expect(
      (await api().post('/api/v1/direct-messages').set(bearer(poor.clinician.token)).send({ patientId: q.id, subject: 's', body: 'b' }))
        .status,
    ).toBe(402);
    expect(
      (
        await api()
          .post('/api/v1/direct-messages')
          .set(bearer(poor.clinician.token))
          .send({ patientId: 'pat_nope', subject: 's', body: 'b' })
      ).status,
    ).toBe(404);
  });
});
