// Messages end to end against real servers: records over HTTP with service tokens, a
// private Mailpit requiring STARTTLS, the Twilio and Vonage simulators, FerretDB and
// RabbitMQ. Queued in the request (202), sent by the worker from the bus.
import request from 'supertest';
import { type Harness, mobile, startHarness } from './harness';
import { bearer, waitFor } from './testing';

jest.setTimeout(120_000);

describe('messages: email over STARTTLS, SMS through the primary, validation and consent', () => {
  let h: Harness;
  let t: ReturnType<Harness['tenant']>;
  const api = () => request(h.messaging.app);
  const status = async (id: string) =>
    (await api().get(`/api/v1/messages/${id}`).set(bearer(t.admin.token))).body as {
      status: string;
      provider?: string;
      attempts: number;
      reason?: string;
    };

  beforeAll(async () => {
    h = await startHarness();
    t = h.tenant();
    await h.buy(t, 100);
  });
  afterAll(() => h.close());

  it('emails a patient through Mailpit over STARTTLS: 202 queued, then sent, the mail in the mailbox', async () => {
    const address = `pat-${Date.now()}@example.org`;
    const p = await h.patient(t, { email: address });
    const res = await api()
      .post('/api/v1/messages')
      .set(bearer(t.receptionist.token))
      .send({ patientId: p.id, channel: 'email', subject: 'Your appointment', body: 'See you on Monday at 10:00.' });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: expect.stringMatching(/^msg_/), status: 'queued' });
    const sent = await waitFor(async () => ((await status(res.body.id)).status === 'sent' ? status(res.body.id) : undefined), {
      what: 'email sent',
    });
    expect(sent).toMatchObject({ status: 'sent', provider: 'smtp', attempts: 1 });
    const mails = await waitFor(async () => ((await h.mail.to(address)).length ? h.mail.to(address) : undefined), {
      what: 'mail in Mailpit',
    });
    expect(mails).toHaveLength(1);
    const mail = await h.mail.message(mails[0]!.ID);
    expect(mail.Subject).toBe('Your appointment');
    expect(mail.Text).toContain('See you on Monday at 10:00.');
    const ev = await h.waitForEvent((e) => e.type === 'messaging.message.sent' && e.data.messageId === res.body.id, 'message.sent');
    expect(ev.data).toEqual({ messageId: res.body.id, channel: 'email', provider: 'smtp', attempts: 1 });
    expect(JSON.stringify(h.events.filter((e) => e.data.messageId === res.body.id))).not.toMatch(/Monday|example\.org|appointment/);
  });

  it('texts a patient through the primary provider, charges the parts and takes the signed delivery receipt', async () => {
    const number = mobile();
    const p = await h.patient(t, { mobile: number });
    const before = (await api().get('/api/v1/sms-credits').set(bearer(t.receptionist.token))).body.balance as number;
    const text = 'Reminder: '.padEnd(200, 'x'); // two GSM-7 parts
    const res = await api().post('/api/v1/messages').set(bearer(t.clinician.token)).send({ patientId: p.id, channel: 'sms', body: text });
    expect(res.status).toBe(202);
    const delivered = await waitFor(async () => ((await status(res.body.id)).status === 'delivered' ? status(res.body.id) : undefined), {
      what: 'sms delivered',
    });
    expect(delivered).toMatchObject({ provider: 'twilio', attempts: 1 });
    const got = h.twilio.messages.filter((m) => m.idempotencyKey === res.body.id);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ to: number, body: text });
    expect(got[0]!.receipt).toMatchObject({ status: 'delivered', answer: 204 });
    expect((await api().get('/api/v1/sms-credits').set(bearer(t.receptionist.token))).body.balance).toBe(before - 2);
    const full = (await api().get(`/api/v1/messages/${res.body.id}`).set(bearer(t.admin.token))).body;
    expect(full).toMatchObject({ channel: 'sms', segments: 2, sentAt: expect.any(String), deliveredAt: expect.any(String) });
    expect(full.body).toBeUndefined();
    const list = await api().get(`/api/v1/messages?patientId=${p.id}`).set(bearer(t.receptionist.token));
    expect(list.body.items.map((m: { id: string }) => m.id)).toEqual([res.body.id]);
    await h.waitForEvent((e) => e.type === 'messaging.message.delivered' && e.data.messageId === res.body.id, 'message.delivered');
  });

  it('sends from a records template rendered with the pseudonymous ref', async () => {
    const p = await h.patient(t, { mobile: mobile(), email: `tpl-${Date.now()}@example.org` });
    const tpl = await fetch(`${h.recordsUrl}/api/v1/templates`, {
      method: 'POST',
      headers: { ...bearer(t.admin.token), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Reminder', channel: 'sms', body: 'Hello {{patient.ref}}, see you {{appointment.date}}.' }),
    }).then((r) => r.json() as Promise<{ id: string }>);
    const res = await api()
      .post('/api/v1/messages')
      .set(bearer(t.receptionist.token))
      .send({ patientId: p.id, channel: 'sms', templateId: tpl.id, variables: { 'appointment.date': '2026-12-24' } });
    expect(res.status).toBe(202);
    await waitFor(() => h.twilio.messages.find((m) => m.idempotencyKey === res.body.id), { what: 'templated text' });
    expect(h.twilio.messages.find((m) => m.idempotencyKey === res.body.id)!.body).toBe(`Hello ${p.ref}, see you 2026-12-24.`);
    expect(
      (
        await api()
          .post('/api/v1/messages')
          .set(bearer(t.receptionist.token))
          .send({ patientId: p.id, channel: 'email', templateId: tpl.id })
      ).status,
    ).toBe(400);
    expect(
      (
        await api()
          .post('/api/v1/messages')
          .set(bearer(t.receptionist.token))
          .send({ patientId: p.id, channel: 'sms', templateId: 'tpl_nope' })
      ).status,
    ).toBe(404);
  });

  it('refuses bad input: 400 naming the SMS limit, invalid numbers and emails, unknown fields; 404 for another practice', async () => {
    const p = await h.patient(t, { mobile: mobile(), email: 'ok@example.org' });
    const long = await api()
      .post('/api/v1/messages')
      .set(bearer(t.admin.token))
      .send({ patientId: p.id, channel: 'sms', body: 'a'.repeat(1531) });
    expect(long.status).toBe(400);
    expect(long.body.errors[0]).toMatchObject({
      path: 'body.body',
      message: expect.stringMatching(/SMS limit of 10 parts \(1530 GSM-7 \/ 670 UCS-2/),
    });
    expect(
      (
        await api()
          .post('/api/v1/messages')
          .set(bearer(t.admin.token))
          .send({ patientId: p.id, channel: 'sms', body: 'ł'.repeat(671) })
      ).status,
    ).toBe(400);
    // +44 7700 900xxx is E.164-shaped but not a number any network uses (libphonenumber-js).
    const fake = await h.patient(t, { mobile: '+447700900123' });
    const bad = await api().post('/api/v1/messages').set(bearer(t.admin.token)).send({ patientId: fake.id, channel: 'sms', body: 'hi' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('patient.mobile');
    expect(
      (
        await api()
          .post('/api/v1/messages')
          .set(bearer(t.admin.token))
          .send({ patientId: p.id, channel: 'sms', body: 'hi', to: '+447911123456' })
      ).status,
    ).toBe(400);
    expect(
      (await api().post('/api/v1/messages').set(bearer(t.admin.token)).send({ patientId: p.id, channel: 'email', body: 'no subject' }))
        .status,
    ).toBe(400);
    expect(
      (await api().post('/api/v1/messages').set(bearer(t.admin.token)).send({ patientId: p.id, channel: 'sms', body: 'x', subject: 'y' }))
        .status,
    ).toBe(400);
    expect(
      (
        await api()
          .post('/api/v1/messages')
          .set(bearer(t.admin.token))
          .send({ patientId: { $ne: 1 }, channel: 'sms', body: 'x' })
      ).status,
    ).toBe(400);
    const other = h.tenant();
    expect(
      (await api().post('/api/v1/messages').set(bearer(other.admin.token)).send({ patientId: p.id, channel: 'sms', body: 'hi' })).status,
    ).toBe(404);
    const mine = await api()
      .post('/api/v1/messages')
      .set(bearer(t.admin.token))
      .send({ patientId: p.id, channel: 'email', subject: 's', body: 'b' });
    expect((await api().get(`/api/v1/messages/${mine.body.id}`).set(bearer(other.admin.token))).status).toBe(404);
    expect((await api().get(`/api/v1/messages?patientId=${p.id}`).set(bearer(other.admin.token))).body.items).toEqual([]);
  });

  it('lets a receptionist send but not buy credits; 402 when the credit runs out', async () => {
    const poor = h.tenant();
    const p = await h.patient(poor, { mobile: mobile() });
    expect((await api().post('/api/v1/sms-credits/purchases').set(bearer(poor.receptionist.token)).send({ quantity: 10 })).status).toBe(
      403,
    );
    const none = await api()
      .post('/api/v1/messages')
      .set(bearer(poor.receptionist.token))
      .send({ patientId: p.id, channel: 'sms', body: 'hi' });
    expect(none.status).toBe(402);
    expect(none.headers['content-type']).toMatch(/application\/problem\+json/);
    expect((await api().post('/api/v1/sms-credits/purchases').set(bearer(poor.admin.token)).send({ quantity: 1 })).body).toEqual({
      balance: 1,
    });
    expect(
      (await api().post('/api/v1/messages').set(bearer(poor.receptionist.token)).send({ patientId: p.id, channel: 'sms', body: 'hi' }))
        .status,
    ).toBe(202);
    expect(
      (await api().post('/api/v1/messages').set(bearer(poor.receptionist.token)).send({ patientId: p.id, channel: 'sms', body: 'again' }))
        .status,
    ).toBe(402);
    await h.waitForEvent((e) => e.type === 'messaging.sms-credit.purchased' && e.tenantId === poor.tenantId, 'credit.purchased');
  });

  it('answers 422 opted-out from the consent projection, and keeps the highest version', async () => {
    const p = await h.patient(t, { mobile: mobile(), email: `o-${Date.now()}@example.org` });
    const pref = (version: number, sms: boolean, email: boolean) =>
      h.publish({
        type: 'consent.preference.changed',
        tenantId: t.tenantId,
        actor: { kind: 'user', id: t.admin.id },
        subject: { patientId: p.id },
        data: { patientId: p.id, sms, email, version },
      });
    await pref(2, false, true);
    const refused = await waitFor(
      async () => {
        const r = await api().post('/api/v1/messages').set(bearer(t.admin.token)).send({ patientId: p.id, channel: 'sms', body: 'hi' });
        return r.status === 422 ? r : undefined;
      },
      { what: 'opted-out' },
    );
    expect(refused.body.type).toBe('urn:praxis:problem:opted-out');
    // An older change delivered late changes nothing.
    await pref(1, true, true);
    await new Promise((r) => setTimeout(r, 800));
    expect(
      (await api().post('/api/v1/messages').set(bearer(t.admin.token)).send({ patientId: p.id, channel: 'sms', body: 'hi' })).status,
    ).toBe(422);
    expect(
      (
        await api()
          .post('/api/v1/messages')
          .set(bearer(t.admin.token))
          .send({ patientId: p.id, channel: 'email', subject: 's', body: 'fine' })
      ).status,
    ).toBe(202);
    await pref(3, true, false);
    await waitFor(
      async () =>
        (
          await api()
            .post('/api/v1/messages')
            .set(bearer(t.admin.token))
            .send({ patientId: p.id, channel: 'email', subject: 's', body: 'b' })
        ).status === 422 || undefined,
      { what: 'email opted out' },
    );
  });
});
