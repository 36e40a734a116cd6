// Batch messages through the in-process service: per-patient consent and credit, progress,
// completion, cancel.
import request from 'supertest';
import { type Harness, mobile, startHarness } from './harness';
import { bearer, waitFor } from './testing';

jest.setTimeout(180_000);

describe('message batches', () => {
  let h: Harness;
  let t: ReturnType<Harness['tenant']>;
  let templateId: string;
  const api = () => request(h.messaging.app);
  const view = async (id: string) =>
    (await api().get(`/api/v1/message-batches/${id}`).set(bearer(t.receptionist.token))).body as Record<string, number | string>;

  beforeAll(async () => {
    h = await startHarness();
    t = h.tenant();
    const tpl = await fetch(`${h.recordsUrl}/api/v1/templates`, {
      method: 'POST',
      headers: { ...bearer(t.admin.token), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Flu clinic', channel: 'sms', body: 'Flu clinic on Saturday. Your ref {{patient.ref}}.' }),
    });
    templateId = ((await tpl.json()) as { id: string }).id;
  });
  afterAll(() => h?.close());

  it('checks each patient: texts the ones it may, blocks opted-out and unreachable ones, fails the ones it cannot pay for', async () => {
    await h.buy(t, 3);
    const ok = await Promise.all([1, 2, 3, 4].map(() => h.patient(t, { mobile: mobile() })));
    const optedOut = await h.patient(t, { mobile: mobile() });
    const noMobile = await h.patient(t, { email: 'nomobile@example.org' });
    await h.publish({
      type: 'consent.preference.changed',
      tenantId: t.tenantId,
      actor: { kind: 'user', id: t.admin.id },
      data: { patientId: optedOut.id, sms: false, email: true, version: 1 },
    });
    await waitFor(async () => !(await h.messaging.preferences.allows(t.tenantId, optedOut.id, 'sms')) || undefined, {
      what: 'preference projected',
    });
    const res = await api()
      .post('/api/v1/message-batches')
      .set(bearer(t.receptionist.token))
      .send({ channel: 'sms', templateId, patientIds: [...ok.map((p) => p.id), optedOut.id, noMobile.id, 'pat_unknown'] });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: expect.any(String), status: 'running', total: 7 });
    const done = await waitFor(async () => ((await view(res.body.id)).status === 'completed' ? view(res.body.id) : undefined), {
      what: 'batch completed',
      timeoutMs: 60_000,
    });
    // Three credits: three texts; the fourth patient could not be paid for.
    expect(done).toMatchObject({ total: 7, queued: 0, sent: 3, failed: 1, blocked: 3 });
    expect((await api().get('/api/v1/sms-credits').set(bearer(t.receptionist.token))).body.balance).toBe(0);
    const reasons = (
      await h.mongo
        .collection('messages')
        .find({ batchId: res.body.id, status: { $in: ['blocked', 'failed'] } })
        .toArray()
    )
      .map((m) => m.reason)
      .sort();
    expect(reasons).toEqual(['no-contact', 'no-credit', 'no-patient', 'opted-out']);
    await h.waitForEvent((e) => e.type === 'messaging.batch.completed' && e.data.batchId === res.body.id, 'batch.completed');
    const texts = h.twilio.messages.filter((m) => m.idempotencyKey.startsWith(`${res.body.id}-`));
    expect(texts).toHaveLength(3);
    expect(texts[0]!.body).toMatch(/^Flu clinic on Saturday\. Your ref PX-/);
  });

  it('keeps template variables whose names have dots (FerretDB refuses dots in field names and nested arrays)', async () => {
    const res = await api()
      .post('/api/v1/message-batches')
      .set(bearer(t.receptionist.token))
      .send({
        channel: 'sms',
        templateId,
        patientIds: ['pat_x'],
        variables: { 'appointment.date': '24 December', 'appointment.time': '10:30', 'practice.note': '' },
      });
    expect(res.status).toBe(202);
    const stored = await h.mongo.collection('batches').findOne({ _id: res.body.id } as never);
    expect(stored?.variables).toEqual([
      { name: 'appointment.date', value: '24 December' },
      { name: 'appointment.time', value: '10:30' },
      { name: 'practice.note', value: '' },
    ]);
  });

  it('refuses more than 5,000 patients and other practices see nothing', async () => {
    expect(
      (
        await api()
          .post('/api/v1/message-batches')
          .set(bearer(t.receptionist.token))
          .send({ channel: 'sms', templateId, patientIds: Array.from({ length: 5001 }, (_, i) => `pat_${i}`) })
      ).status,
    ).toBe(400);
    expect(
      (await api().post('/api/v1/message-batches').set(bearer(t.receptionist.token)).send({ channel: 'sms', templateId, patientIds: [] }))
        .status,
    ).toBe(400);
    const other = h.tenant();
    const res = await api()
      .post('/api/v1/message-batches')
      .set(bearer(t.receptionist.token))
      .send({ channel: 'sms', templateId, patientIds: ['pat_x'] });
    expect((await api().get(`/api/v1/message-batches/${res.body.id}`).set(bearer(other.admin.token))).status).toBe(404);
    expect((await api().post(`/api/v1/message-batches/${res.body.id}/cancel`).set(bearer(other.admin.token))).status).toBe(404);
  });

  it('cancels a running batch: what was not sent yet is blocked, nothing more is queued', async () => {
    await h.buy(t, 100);
    const patients = [];
    for (let i = 0; i < 40; i++) patients.push(await h.patient(t, { mobile: mobile() }));
    h.twilio.behaviour.delayMs = 300;
    const res = await api()
      .post('/api/v1/message-batches')
      .set(bearer(t.receptionist.token))
      .send({ channel: 'sms', templateId, patientIds: patients.map((p) => p.id) });
    await waitFor(async () => ((await view(res.body.id)).sent as number) >= 2 || undefined, { what: 'some sent', timeoutMs: 60_000 });
    const cancelled = await api().post(`/api/v1/message-batches/${res.body.id}/cancel`).set(bearer(t.receptionist.token));
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    h.twilio.behaviour.delayMs = 0;
    const settled = await waitFor(
      async () => {
        const v = await view(res.body.id);
        return v.queued === 0 ? v : undefined;
      },
      { what: 'cancelled batch settled', timeoutMs: 60_000 },
    );
    console.log(JSON.stringify({ cancelled: settled }));
    expect(settled.status).toBe('cancelled');
    expect(settled.sent as number).toBeLessThan(40);
    expect((settled.sent as number) + (settled.blocked as number) + (settled.failed as number)).toBeLessThanOrEqual(40);
    const sentTexts = h.twilio.messages.filter((m) => m.idempotencyKey.startsWith(`${res.body.id}-`)).length;
    expect(sentTexts).toBe(settled.sent);
    // Cancelled texts gave their credits back.
    // (The refund follows the blocked status by a moment: wait for it.)
    const balance = await waitFor(
      async () => {
        const b = (await api().get('/api/v1/sms-credits').set(bearer(t.receptionist.token))).body.balance as number;
        return b === 100 - sentTexts ? b : undefined;
      },
      { what: 'refunds of the cancelled texts', timeoutMs: 30_000 },
    ).catch(async () => (await api().get('/api/v1/sms-credits').set(bearer(t.receptionist.token))).body.balance as number);
    expect(balance).toBe(100 - sentTexts);
  });
});
