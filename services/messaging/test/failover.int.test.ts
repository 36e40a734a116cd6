// Fail-over between the two SMS providers: the primary (Twilio simulator) fails with 5xx or
// stops answering; its circuit opens and texts go to the secondary (Vonage simulator)
// within seconds; once the primary is back the circuit half-opens and closes and texts go
// to the primary again. No text is taken twice by any provider (idempotency keys, checked
// in the simulators' records). Forged receipts are 401.
import request from 'supertest';
import { type Harness, mobile, startHarness } from './harness';
import { bearer, waitFor } from './testing';

jest.setTimeout(120_000);

describe('SMS fail-over, recovery and signed receipts', () => {
  let h: Harness;
  let t: ReturnType<Harness['tenant']>;
  let patientId: string;
  const api = () => request(h.messaging.app);
  const send = async (body: string) => {
    const res = await api().post('/api/v1/messages').set(bearer(t.receptionist.token)).send({ patientId, channel: 'sms', body });
    expect(res.status).toBe(202);
    return res.body.id as string;
  };
  const sentVia = (id: string) =>
    waitFor(
      async () => {
        const m = (await api().get(`/api/v1/messages/${id}`).set(bearer(t.admin.token))).body as { status: string; provider?: string };
        return m.status === 'sent' || m.status === 'delivered' ? m.provider : undefined;
      },
      { what: `message ${id} sent`, timeoutMs: 30_000 },
    );

  beforeAll(async () => {
    h = await startHarness({ breakerFailures: 2, halfOpenAfterMs: 8_000, smsTimeoutMs: 800 });
    t = h.tenant();
    await h.buy(t, 500);
    patientId = (await h.patient(t, { mobile: mobile() })).id;
  });
  afterAll(() => h?.close());
  afterEach(() => {
    h.twilio.behaviour.mode = 'ok';
    h.vonage.behaviour.mode = 'ok';
    h.twilio.behaviour.dropReceipts = false;
  });

  it('goes to the secondary within seconds when the primary answers 5xx, and back once it recovers', async () => {
    expect(await sentVia(await send('before the outage'))).toBe('twilio');
    h.twilio.behaviour.mode = 'fail';
    const failedAt = Date.now();
    const first = await send('during the outage 1');
    expect(await sentVia(first)).toBe('vonage');
    const failoverMs = Date.now() - failedAt;
    expect(await sentVia(await send('during the outage 2'))).toBe('vonage');
    expect(h.sms().circuit('twilio')).toBe('open');
    const refusedByPrimary = h.twilio.stats.refused;
    expect(refusedByPrimary).toBe(2);
    // While the circuit is open the primary is not even asked.
    expect(await sentVia(await send('circuit open'))).toBe('vonage');
    expect(h.twilio.stats.refused).toBe(refusedByPrimary);

    h.twilio.behaviour.mode = 'ok';
    await new Promise((r) => setTimeout(r, 8_300)); // half-open after 8 s
    const recoveredAt = Date.now();
    expect(await sentVia(await send('after the outage'))).toBe('twilio');
    expect(h.sms().circuit('twilio')).toBe('closed');
    console.log(JSON.stringify({ failoverMs, refusedByPrimary, recoveryMs: Date.now() - recoveredAt }));
    expect(failoverMs).toBeLessThan(5_000);

    // No provider took any text twice, and no text went to both.
    for (const sim of [h.twilio, h.vonage]) for (const [, n] of sim.countsByKey()) expect(n).toBe(1);
    const both = [...h.twilio.countsByKey().keys()].filter((k) => h.vonage.countsByKey().has(k));
    expect(both).toEqual([]);
  });

  it('fails over when the primary stops answering (timeouts count as failures)', async () => {
    h.twilio.behaviour.mode = 'timeout';
    const startedAt = Date.now();
    const id = await send('primary silent');
    expect(await sentVia(id)).toBe('vonage');
    console.log(JSON.stringify({ timeoutFailoverMs: Date.now() - startedAt, primaryTimedOut: h.twilio.stats.timedOut }));
    expect(h.twilio.stats.timedOut).toBeGreaterThan(0);
    h.twilio.behaviour.mode = 'ok';
  });

  it('queues and retries when both providers are down, and sends exactly once when one returns', async () => {
    await new Promise((r) => setTimeout(r, 8_300));
    h.twilio.behaviour.mode = 'fail';
    h.vonage.behaviour.mode = 'fail';
    const id = await send('both down');
    await waitFor(async () => ((await h.mongo.collection('messages').findOne({ _id: id as never }))?.attempts ?? 0) >= 2 || undefined, {
      what: 'attempts while down',
    });
    h.vonage.behaviour.mode = 'ok';
    const provider = await sentVia(id);
    expect(provider).toBe('vonage');
    expect(h.vonage.countsByKey().get(id)).toBe(1);
    h.twilio.behaviour.mode = 'ok';
  });

  it('takes signed Vonage receipts and refuses unsigned or forged ones with 401', async () => {
    await new Promise((r) => setTimeout(r, 8_300));
    h.twilio.behaviour.mode = 'fail';
    const id = await send('receipt via vonage');
    expect(await sentVia(id)).toBe('vonage');
    await waitFor(
      async () => (await api().get(`/api/v1/messages/${id}`).set(bearer(t.admin.token))).body.status === 'delivered' || undefined,
      { what: 'vonage receipt' },
    );
    h.twilio.behaviour.mode = 'ok';

    const sid = h.twilio.messages.find((m) => m.receipt?.status === 'delivered')!.id;
    const unsigned = await api().post('/api/v1/webhooks/sms/twilio').type('form').send({ MessageSid: sid, MessageStatus: 'failed' });
    expect(unsigned.status).toBe(401);
    const forged = await api()
      .post('/api/v1/webhooks/sms/twilio')
      .set('X-Twilio-Signature', 'bm90IGEgc2lnbmF0dXJl')
      .type('form')
      .send({ MessageSid: sid, MessageStatus: 'failed' });
    expect(forged.status).toBe(401);
    const vonageForged = await api()
      .post('/api/v1/webhooks/sms/vonage')
      .send({ messageId: 'x', status: 'failed', timestamp: String(Math.floor(Date.now() / 1000)), sig: 'ab'.repeat(32) });
    expect(vonageForged.status).toBe(401);
    expect((await api().post('/api/v1/webhooks/sms/nobody').send({ a: 'b' })).status).toBe(404);
    // The delivered text stays delivered.
    const m = await h.mongo.collection('messages').findOne({ providerMessageId: sid });
    expect(m?.status).toBe('delivered');
  });

  it('keeps a text sent but undelivered when the provider drops its receipt', async () => {
    await new Promise((r) => setTimeout(r, 8_300)); // the primary's circuit closes again
    h.twilio.behaviour.dropReceipts = true;
    const id = await send('no receipt');
    expect(await sentVia(id)).toBe('twilio');
    await new Promise((r) => setTimeout(r, 500));
    expect((await api().get(`/api/v1/messages/${id}`).set(bearer(t.admin.token))).body.status).toBe('sent');
    h.twilio.behaviour.dropReceipts = false;
  });
});
